/**
 * Garbage in, the vendor's own error out: seeded random bodies — every field a schema names, filled with
 * values of the wrong type, size or shape — sent to every route of the four APIs. No answer may be an
 * internal error or carry a stack trace, and the gateway must still be healthy afterwards.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PREFIX } from '../../adapters/operator/limits';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { prng } from '../helpers/prng';
import { productImage } from '../helpers/product-images';

const SCHEMAS = path.resolve(__dirname, '../../schemas');
const ROUNDS = 12;

/** Field names a vendor's schemas know, so random bodies reach the validation of real fields. */
function fieldNames(vendor: string): string[] {
  const names = new Set<string>();
  for (const file of readdirSync(path.join(SCHEMAS, vendor)).filter((f) => f.endsWith('.json'))) {
    const walk = (s: any): void => {
      if (!s || typeof s !== 'object') return;
      if (s.properties) for (const [k, v] of Object.entries(s.properties)) (names.add(k), walk(v));
      if (s.items) walk(s.items);
    };
    walk(JSON.parse(readFileSync(path.join(SCHEMAS, vendor, file), 'utf8')));
  }
  return [...names];
}

function garbage(rnd: () => number, fields: string[], image: string, depth = 0): unknown {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
  const kind = Math.floor(rnd() * (depth > 2 ? 8 : 11));
  switch (kind) {
    case 0: return null;
    case 1: return rnd() < 0.5;
    case 2: return pick([0, -1, 1, 2 ** 53, -(2 ** 31), 1e308, 0.5, 101, 10001]);
    case 3: return pick(['', ' ', 'a'.repeat(5000), '\u0000\u0001', '名字', '../../etc/passwd', 'http://169.254.169.254/', 'data:image/png;base64,AAAA', '*', '1,2,3,4']);
    case 4: return image; // a real image, often in the wrong field
    case 5: return 'not-base64-%%%';
    case 6: return pick(['red', 'general_search', 'item_search', 'true', '10']);
    case 7: return `{"or": [}`;
    case 8: return Array.from({ length: Math.floor(rnd() * 4) }, () => garbage(rnd, fields, image, depth + 1));
    default: {
      const out: Record<string, unknown> = {};
      const n = Math.floor(rnd() * 6);
      for (let i = 0; i < n; i++) out[rnd() < 0.85 ? pick(fields) : `x${i}`] = garbage(rnd, fields, image, depth + 1);
      return out;
    }
  }
}

interface Answer {
  status: number;
  text: string;
}

async function send(url: string, method: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  const res = await fetch(url, { method, headers, body });
  return { status: res.status, text: await res.text() };
}

/** Internal-error answers of each API (from their error tables): none may appear. */
const INTERNAL = [/"INTERNAL_ERROR"/, /"IS\.0009"/, /"UnknownException"/, /"internal error"/];

let gw: TestGateway;
let image: string;
const answers: Array<{ route: string; answer: Answer }> = [];

beforeAll(async () => {
  gw = await startTestGateway();
  image = (await productImage('red', 'circle', { width: 200, height: 200 })).toString('base64');
});
afterAll(async () => {
  await gw.destroy();
});

test('operator API', async () => {
  const fields = fieldNames('operator');
  const rnd = prng(1);
  const routes = ['search/by-image', 'search/by-text', 'image/add', 'image/delete', 'image/list', 'image/tasks/create', 'library/create', 'library/list', 'library/describe', 'library/delete'];
  await send(`${gw.url}${PREFIX}/library/create`, 'POST', { 'content-type': 'application/json' }, JSON.stringify({ library_name: 'red', mode: 'general_search' }));
  for (const route of routes) {
    for (let i = 0; i < ROUNDS; i++) {
      const body = i === 0 ? 'not json at all' : JSON.stringify(garbage(rnd, fields, image));
      answers.push({ route: `operator ${route}`, answer: await send(`${gw.url}${PREFIX}/${route}`, 'POST', { 'content-type': 'application/json' }, body) });
    }
  }
});

test('Qiniu API', async () => {
  const fields = fieldNames('qiniu');
  const rnd = prng(2);
  const headers = { 'content-type': 'application/json', authorization: 'Qiniu fuzz-ak:c2lnbmF0dXJl' };
  const routes: Array<[string, string]> = [
    ['POST', '/group/g1/new'], ['POST', '/group/g1/add'], ['POST', '/group/g1/delete'], ['POST', '/group/g1/remove'],
    ['POST', '/group/g1/image'], ['POST', '/groups/search'], ['POST', '/group/g1/search'], ['GET', '/group/g1?limit=-5&marker=%00'],
  ];
  for (const [method, route] of routes) {
    for (let i = 0; i < ROUNDS; i++) {
      const body = method === 'GET' ? undefined : i === 0 ? '{"data": [' : JSON.stringify(garbage(rnd, fields, image));
      answers.push({ route: `qiniu ${method} ${route}`, answer: await send(`${gw.url}/v1/image${route}`, method, headers, body) });
    }
  }
});

test('Huawei API', async () => {
  const fields = fieldNames('huawei');
  const rnd = prng(3);
  const date = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
  // Open mode: a well-formed AK/SK header is accepted without checking the signature.
  const headers = {
    'content-type': 'application/json',
    'x-sdk-date': date,
    authorization: `SDK-HMAC-SHA256 Access=FUZZAK, SignedHeaders=content-type;host;x-sdk-date, Signature=${'ab'.repeat(32)}`,
  };
  const project = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';
  const routes: Array<[string, string]> = [
    ['POST', '/service'], ['POST', '/inst1/image'], ['PUT', '/inst1/image'], ['DELETE', '/inst1/image'],
    ['POST', '/inst1/image/check'], ['POST', '/inst1/image/search'], ['GET', '/service/inst1'], ['DELETE', '/service/inst1'],
  ];
  await send(`${gw.url}/v1/${project}/service`, 'POST', headers, JSON.stringify({ name: 'inst1', model: 'common-search', level: 30000 }));
  for (const [method, route] of routes) {
    for (let i = 0; i < ROUNDS; i++) {
      const body = method === 'GET' ? undefined : i === 0 ? '\u0000\u0001' : JSON.stringify(garbage(rnd, fields, image));
      answers.push({ route: `huawei ${method} ${route}`, answer: await send(`${gw.url}/v1/${project}${route}`, method, headers, body) });
    }
  }
});

test('Alibaba API', async () => {
  const fields = fieldNames('alibaba');
  const rnd = prng(4);
  const actions = readdirSync(path.join(SCHEMAS, 'alibaba')).filter((f) => /^[A-Z]/.test(f)).map((f) => f.replace(/\.json$/, ''));
  for (const action of actions) {
    for (let i = 0; i < ROUNDS; i++) {
      const params = new URLSearchParams({ InstanceName: 'inst1' });
      const value = garbage(rnd, fields, image);
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        for (const [k, v] of Object.entries(value)) params.set(k, typeof v === 'string' ? v : JSON.stringify(v));
      }
      const headers = { 'content-type': 'application/x-www-form-urlencoded', 'x-acs-action': action, 'x-acs-version': '2020-12-14' };
      answers.push({ route: `alibaba ${action}`, answer: await send(`${gw.url}/`, 'POST', headers, params.toString()) });
    }
  }
});

test('no answer was an internal error or leaked a stack, and the gateway is still healthy', async () => {
  expect(answers.length).toBeGreaterThan(400);
  const bad = answers.filter(({ answer }) => INTERNAL.some((re) => re.test(answer.text)) || /\n\s+at |node_modules/.test(answer.text) || answer.status === 0);
  expect(bad.map(({ route, answer }) => `${route}: ${answer.status} ${answer.text.slice(0, 200)}`)).toEqual([]);
  // Every answer was the vendor's JSON error or success body, never HTML or an empty 500.
  const notJson = answers.filter(({ answer }) => {
    try {
      JSON.parse(answer.text);
      return false;
    } catch {
      return true;
    }
  });
  expect(notJson.map(({ route, answer }) => `${route}: ${answer.status} ${answer.text.slice(0, 120)}`)).toEqual([]);
  expect((await fetch(`${gw.url}/_gateway/health`)).status).toBe(200);
});
