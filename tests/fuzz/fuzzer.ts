/**
 * A seeded, bounded fuzzer for a running gateway: it takes valid requests of every route of the four APIs
 * (plus the console, the control plane, /docs and /metrics), mutates them — bodies (truncated, wrong types,
 * huge or negative numbers, deep nesting, `__proto__`/`constructor` keys, duplicate keys, not JSON), paths
 * with bad percent-encoding, methods, content types, duplicate query parameters — and judges every answer:
 * no 5xx, the vendor's own error shape, no stack trace or filesystem path, and (checked by the caller) no
 * internal error logged and a healthy process at the end. The same seed sends the same requests.
 *
 * Used by tests/e2e/fuzz.test.ts (a short run) and `npm run fuzz -- --n 20000 [--seed S]` (tests/fuzz/run.ts).
 */
import { prng } from '../../core/prng';
import { PREFIX } from '../../adapters/operator/limits';

export interface FuzzRequest {
  vendor: Vendor;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** How it was made from its seed request, for the report. */
  mutation: string;
}

export type Vendor = 'operator' | 'qiniu' | 'huawei' | 'alibaba' | 'gateway';

export interface Finding {
  request: FuzzRequest;
  status: number;
  problem: string;
  excerpt: string;
}

const PROJECT = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const BAD_ESCAPES = ['%E0%A4%A', '%', '%zz', '%00', '%C0%AF', '..%2f..%2f', '%ff%fe', '%25%'];

/** A well-formed Huawei AK/SK header: open mode accepts it without checking the signature. */
function huaweiHeaders(): Record<string, string> {
  const date = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
  return {
    'content-type': 'application/json',
    'x-sdk-date': date,
    authorization: `SDK-HMAC-SHA256 Access=FUZZAK, SignedHeaders=content-type;host;x-sdk-date, Signature=${'ab'.repeat(32)}`,
  };
}

/** Valid requests, one per route: what the mutations start from. `image` is a small JPEG in Base64. */
export function seedRequests(image: string): Array<Omit<FuzzRequest, 'mutation'>> {
  const json = { 'content-type': 'application/json' };
  const op = (route: string, body: unknown) => ({ vendor: 'operator' as const, method: 'POST', path: `${PREFIX}/${route}`, headers: json, body: JSON.stringify(body) });
  const qiniuHeaders = { ...json, authorization: 'Qiniu fuzz-ak:c2lnbmF0dXJl' };
  const qn = (method: string, route: string, body?: unknown) => ({ vendor: 'qiniu' as const, method, path: `/v1/image${route}`, headers: qiniuHeaders, body: body === undefined ? undefined : JSON.stringify(body) });
  const hw = (method: string, route: string, body?: unknown) => ({ vendor: 'huawei' as const, method, path: `/v1/${PROJECT}${route}`, headers: huaweiHeaders(), body: body === undefined ? undefined : JSON.stringify(body) });
  const ali = (action: string, params: Record<string, string>) => ({
    vendor: 'alibaba' as const,
    method: 'POST',
    path: '/',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-acs-action': action, 'x-acs-version': '2020-12-14' },
    body: new URLSearchParams({ InstanceName: 'fuzz', ...params }).toString(),
  });
  const gw = (method: string, path: string, body?: unknown) => ({ vendor: 'gateway' as const, method, path, headers: json, body: body === undefined ? undefined : JSON.stringify(body) });
  const dataUri = `data:application/octet-stream;base64,${image}`;
  return [
    op('library/create', { library_name: 'fuzz', mode: 'general_search' }),
    op('image/add', { library_name: 'fuzz', image_id: 'a1', image_uri: 'u1', image_base64: image, tags: { color: 'red', size: 3 } }),
    op('search/by-image', { library_name: 'fuzz', image_base64: image, top_k: 3, tag_filter: [{ field: 'color', op: '=', value: 'red' }] }),
    op('search/by-text', { library_name: 'fuzz', query_text: 'red', top_k: 3 }),
    op('image/list', { library_name: 'fuzz', limit: 10 }),
    op('image/delete', { library_name: 'fuzz', image_id: 'a1', image_uri: 'u1' }),
    op('image/tasks/create', { library_name: 'fuzz', file_path: 'missing.jsonl' }),
    op('library/describe', { library_name: 'fuzz' }),
    op('library/list', {}),
    { vendor: 'operator', method: 'GET', path: `${PREFIX}/image/tasks/results/task-1`, headers: {} },
    qn('POST', '/group/fuzz/new', { data: [{ uri: dataUri, attribute: { id: 'q1', label: 'bag', desc: '' } }] }),
    qn('POST', '/group/fuzz/add', { data: [{ uri: dataUri, attribute: { id: 'q2', label: 'bag', desc: '' } }] }),
    qn('POST', '/groups/search', { data: { uri: dataUri }, params: { groups: ['fuzz'], limit: 2 } }),
    qn('POST', '/group/fuzz/search', { data: { uri: dataUri }, params: { limit: 2 } }),
    qn('POST', '/group/fuzz/delete', { images: ['q2'] }),
    qn('GET', '/group/fuzz/image/q1'),
    qn('GET', '/group/fuzz?limit=5'),
    qn('GET', '/group'),
    qn('GET', '/group/fuzz/info'),
    qn('POST', '/group/fuzz/remove'),
    hw('POST', '/service', { name: 'fuzz', model: 'common-search', level: 30000 }),
    hw('POST', '/fuzz/image', { file: image, path: '/p/1.jpg', tags: { color: 'red' } }),
    hw('POST', '/fuzz/image/search', { file: image, limit: 3, tags: { color: 'red' } }),
    hw('POST', '/fuzz/image/check', { file: image, path: '/p/1.jpg' }),
    hw('PUT', '/fuzz/image', { path: '/p/1.jpg', tags: { color: 'blue' } }),
    hw('DELETE', '/fuzz/image', { path: '/p/1.jpg' }),
    hw('GET', '/service/fuzz'),
    hw('DELETE', '/service/fuzz'),
    ali('AddImage', { ProductId: 'p1', PicName: 'n1', PicContent: image, CategoryId: '0' }),
    ali('SearchImageByPic', { PicContent: image, Num: '3', Filter: 'int_attr1>=1' }),
    ali('SearchImageByName', { ProductId: 'p1', PicName: 'n1', Num: '3' }),
    ali('SearchImageByText', { Text: 'red', Num: '3' }),
    ali('SearchImageByFilter', { Filter: 'str_attr1="x"', Num: '3' }),
    ali('CheckImageExists', { ProductId: 'p1', PicName: 'n1' }),
    ali('CompareSimilarByImage', { PrimaryPicContent: image, SecondaryPicContent: image }),
    ali('UpdateImage', { ProductId: 'p1', PicName: 'n1', IntAttr: '2' }),
    ali('DeleteImage', { ProductId: 'p1', PicName: 'n1' }),
    ali('Detail', {}),
    ali('DumpMeta', {}),
    ali('DumpMetaList', {}),
    ali('IncreaseInstance', { BucketName: 'bucket', Path: '/x' }),
    ali('IncreaseList', {}),
    { vendor: 'alibaba', method: 'GET', path: '/_alibaba/files/x.meta?Expires=1&Signature=x', headers: {} },
    gw('GET', '/_gateway/health'),
    gw('GET', '/_gateway/ready'),
    gw('GET', '/_gateway/requests?vendor=qiniu&limit=5'),
    gw('POST', '/_gateway/faults', { vendor: 'qiniu', throttle: true, probability: 0, seed: 1 }),
    gw('GET', '/_gateway/faults'),
    gw('POST', '/_gateway/state/reset', { tenant: 'nobody' }),
    gw('GET', '/_gateway/console/session'),
    gw('GET', '/_gateway/console/thumbnail?library=fuzz&image_id=a1'),
    gw('GET', '/_gateway/migration'),
    gw('GET', '/metrics'),
    gw('GET', '/docs/operator.json'),
    gw('GET', '/console/'),
  ];
}

/** Values of the wrong type, size or shape. */
function oddValue(rnd: () => number, image: string): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  return pick([
    null, true, 0, -1, 2 ** 53, -(2 ** 31), 1e308, 0.5, Number.MAX_SAFE_INTEGER, '', ' ', 'a'.repeat(5000), '\u0000', '名字',
    '../../etc/passwd', 'http://169.254.169.254/latest', 'data:image/png;base64,AAAA', '%E0%A4%A', [], {}, [1, 'x'], { $gt: 1 },
    image.slice(0, 100), 'not-base64-%%%', '{"or": [}',
  ]);
}

/** `depth` levels of arrays around a value: deep nesting without recursion in the generator. */
function nested(depth: number): string {
  return `${'['.repeat(depth)}1${']'.repeat(depth)}`;
}

function mutateJson(rnd: () => number, body: string, image: string): { body: string; how: string } {
  let value: any;
  try {
    value = JSON.parse(body);
  } catch {
    return { body, how: 'as is' };
  }
  const keys = value && typeof value === 'object' ? Object.keys(value) : [];
  const key = keys.length ? keys[Math.floor(rnd() * keys.length)] : 'x';
  switch (Math.floor(rnd() * 9)) {
    case 0:
      return { body: body.slice(0, Math.floor(rnd() * body.length)), how: 'truncated' };
    case 1:
      return { body: JSON.stringify({ ...value, [key]: oddValue(rnd, image) }), how: `${key} replaced` };
    case 2: {
      const { [key]: _dropped, ...rest } = value ?? {};
      return { body: JSON.stringify(rest), how: `${key} dropped` };
    }
    case 3:
      return { body: `{"${key}": ${nested(3000)}}`, how: 'nested 3000 deep' };
    case 4:
      return { body: `{"__proto__": {"polluted": true}, "constructor": {"prototype": {"x": 1}}, ${body.slice(1)}`, how: '__proto__ and constructor keys' };
    case 5:
      return { body: `{"${key}": "first", ${body.slice(1)}`, how: `duplicate ${key}` };
    case 6:
      return { body: JSON.stringify(oddValue(rnd, image)), how: 'body of another type' };
    case 7:
      return { body: '\u0000\u0001\u00ff not json', how: 'not JSON' };
    default:
      return { body: JSON.stringify({ ...value, [key]: [value?.[key], value?.[key]] }), how: `${key} doubled into an array` };
  }
}

function mutateForm(rnd: () => number, body: string, image: string): { body: string; how: string } {
  const params = new URLSearchParams(body);
  const keys = [...params.keys()];
  const key = keys[Math.floor(rnd() * keys.length)] ?? 'X';
  switch (Math.floor(rnd() * 5)) {
    case 0:
      params.append(key, 'second');
      return { body: params.toString(), how: `duplicate ${key}` };
    case 1:
      params.set(key, String(oddValue(rnd, image)));
      return { body: params.toString(), how: `${key} replaced` };
    case 2:
      params.delete(key);
      return { body: params.toString(), how: `${key} dropped` };
    case 3:
      return { body: `${body}&${key}=%E0%A4%A&%=%`, how: 'bad percent-encoding in the form' };
    default:
      params.set('__proto__[polluted]', '1');
      params.set('Filter', `${'('.repeat(2000)}a=1`);
      return { body: params.toString(), how: 'prototype key and a deep filter' };
  }
}

function mutatePath(rnd: () => number, path: string): { path: string; how: string } {
  const [route, query] = path.split('?');
  const segments = route.split('/');
  const bad = BAD_ESCAPES[Math.floor(rnd() * BAD_ESCAPES.length)];
  if (rnd() < 0.3) return { path: `${route}?${query ?? ''}&${bad}=${bad}&limit=1&limit=2`, how: `query with ${bad} and a duplicate` };
  const i = 1 + Math.floor(rnd() * Math.max(1, segments.length - 1));
  segments[Math.min(i, segments.length - 1)] = bad;
  return { path: segments.join('/') + (query ? `?${query}` : ''), how: `segment ${bad}` };
}

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'];
const CONTENT_TYPES = ['text/plain', 'multipart/form-data', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'application/xml', ''];

/** The n-th request of a run with this seed: a seed request, mutated one or two ways. */
export function* fuzzRequests(seed: number, n: number, image: string): Generator<FuzzRequest> {
  const rnd = prng(seed);
  const seeds = seedRequests(image);
  for (let i = 0; i < n; i++) {
    const base = seeds[Math.floor(rnd() * seeds.length)];
    const req: FuzzRequest = { ...base, headers: { ...base.headers }, mutation: '' };
    const how: string[] = [];
    const rounds = 1 + Math.floor(rnd() * 2);
    for (let r = 0; r < rounds; r++) {
      const kind = rnd();
      if (kind < 0.45 && req.body !== undefined) {
        const m = req.headers['content-type']?.startsWith('application/x-www-form-urlencoded') ? mutateForm(rnd, req.body, image) : mutateJson(rnd, req.body, image);
        req.body = m.body;
        how.push(m.how);
      } else if (kind < 0.7) {
        const m = mutatePath(rnd, req.path);
        req.path = m.path;
        how.push(m.how);
      } else if (kind < 0.85) {
        req.method = METHODS[Math.floor(rnd() * METHODS.length)];
        how.push(`method ${req.method}`);
      } else {
        const type = CONTENT_TYPES[Math.floor(rnd() * CONTENT_TYPES.length)];
        if (type === '') delete req.headers['content-type'];
        else req.headers['content-type'] = type;
        how.push(`content-type '${type}'`);
      }
    }
    if (req.method === 'GET' || req.method === 'HEAD') req.body = undefined;
    req.mutation = how.join(', ');
    yield req;
  }
}

/** What no answer may contain: a stack frame, or a path of this machine. */
const LEAKS: Array<[RegExp, string]> = [
  [/\n\s+at [^\n]+:\d+:\d+/, 'stack trace'],
  [/node_modules|\/dist\/|\/adapters\/|\/core\/|ENOENT|EISDIR|EACCES/, 'internal path or errno'],
];

/**
 * 5xx answers a vendor documents for a client's request or for load (not for its own failure), by a piece of
 * their body: Alibaba's UnsupportedInstanceType (500, text search on an instance without a text model) and
 * Qiniu's 571 overload (its throttling answer, which a fuzzed fault-injection rule may switch on). Everything
 * else at 500 and above is a finding.
 */
const DOCUMENTED_5XX: Partial<Record<Vendor, Array<{ status: number; piece: string }>>> = {
  alibaba: [{ status: 500, piece: '"Code":"UnsupportedInstanceType"' }],
  qiniu: [{ status: 571, piece: '"error":"overload"' }],
};

/** Whether a 5xx is one of the vendor's documented ones (a HEAD answer has no body: its status tells). */
function documented5xx(owner: Vendor, method: string, status: number, text: string): boolean {
  return (DOCUMENTED_5XX[owner] ?? []).some((d) => d.status === status && (method === 'HEAD' || text.includes(d.piece)));
}

/** Whether the body has the shape of the vendor's own answers (success or error). */
function vendorShaped(vendor: Vendor, path: string, contentType: string, text: string): boolean {
  if (path.startsWith('/_alibaba/')) return /^<\?xml[\s\S]*<Error><Code>/.test(text);
  if (vendor === 'gateway') return true; // its own paths (console files, OPTIONS answers, Prometheus text) and unknown ones
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    // /metrics is Prometheus text; HEAD and 204 answers have no body.
    return text === '' || (path.startsWith('/metrics') && contentType.startsWith('text/plain'));
  }
  if (body === null || typeof body !== 'object') return false;
  switch (vendor) {
    case 'operator':
      return 'status' in body && 'message' in body;
    case 'qiniu':
      return !('error' in body) || typeof body.error === 'string';
    case 'huawei':
      return !('error_code' in body) || typeof body.error_msg === 'string';
    case 'alibaba':
      // Errors carry Code and Message strings; successes a numeric Code 0 (or none) beside their data.
      return typeof body.RequestId === 'string' && (typeof body.Code !== 'string' || typeof body.Message === 'string');
    default:
      return true;
  }
}

/** Which API owns a path, whatever the request started as (a mutated path may belong to no one). */
export function ownerOf(path: string, headers: Record<string, string>): Vendor {
  if (path.startsWith(`${PREFIX}/`)) return 'operator';
  if (path.startsWith('/v1/image/') || path === '/v1/image') return 'qiniu';
  if (path.startsWith('/v1/') || path.startsWith('/v3/')) return 'huawei';
  if (path.startsWith('/_alibaba/') || ((path === '/' || path.startsWith('/?')) && headers['x-acs-action'] !== undefined)) return 'alibaba';
  return 'gateway';
}

/** Judges one answer; undefined when it is fine. */
export function judge(req: FuzzRequest, status: number, contentType: string, text: string, dataDir: string): string | undefined {
  const owner = ownerOf(req.path, req.headers);
  if (status >= 500 && !documented5xx(owner, req.method, status, text)) return `HTTP ${status}`;
  if (status === 0) return 'no answer';
  for (const [re, what] of LEAKS) if (re.test(text)) return what;
  if (dataDir && text.includes(dataDir)) return 'data directory in the answer';
  if (req.method !== 'HEAD' && !vendorShaped(owner, req.path, contentType, text)) return `not the ${owner} shape`;
  return undefined;
}
