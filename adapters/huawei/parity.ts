/**
 * The Huawei ImageSearch v1 parity scenario and its signing client (isg parity, docs/migration.md "Check the
 * gateway against your account"). Requests are signed SDK-HMAC-SHA256 as the Node SDK core signs them
 * (sdk-clients §2.3): Content-Type application/json on every request, X-Project-Id and X-Sdk-Date signed
 * with host, the canonical request built by the same functions the gateway verifies with (signer.ts).
 *
 * Credentials file entry: {"huawei": {"accessKey": "...", "secretKey": "...", "projectId": "..."}}, or an IAM
 * user: {"huawei": {"user": "...", "password": "...", "domain": "account name", "projectId": "...",
 * "iamEndpoint": "https://iam.<region>.myhuaweicloud.com"}} (iamEndpoint defaults to --endpoint): a
 * project-scoped token is got once before the scenario (POST /v3/auth/tokens, not a recorded step) and sent
 * as X-Auth-Token, as the SDKs' token clients do.
 * The scenario creates one instance named after the run's scratch prefix and deletes it at the end.
 */
import type { ParityRequest, ScenarioContext, VendorParity, VendorSession } from '../parity/types';
import { scenarioImages } from '../parity/images';
import { IAM_TOKENS_PATH } from './routes';
import { ALGORITHM, canonicalRequest, signature, stringToSign } from './signer';

type HuaweiCredentials =
  | { kind: 'aksk'; accessKey: string; secretKey: string; projectId: string }
  | { kind: 'iam'; user: string; password: string; domain: string; projectId: string; iamEndpoint?: string };

const SIGNED_HEADERS = ['content-type', 'host', 'x-project-id', 'x-sdk-date'];

function sdkDate(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function credentialsOf(value: unknown): HuaweiCredentials {
  if (value === undefined) return { kind: 'aksk', accessKey: 'PARITYDRYRUN', secretKey: 'parity-dry-run', projectId: '0123456789abcdef0123456789abcdef' };
  const c = value as Record<string, unknown>;
  const kind = c.user !== undefined ? 'iam' : 'aksk';
  const required = kind === 'iam' ? ['user', 'password', 'domain', 'projectId'] : ['accessKey', 'secretKey', 'projectId'];
  for (const key of required) {
    if (typeof c[key] !== 'string' || c[key] === '') throw new Error(`credentials: huawei.${key} is missing (${HUAWEI_PARITY.credentialsShape})`);
  }
  return { kind, ...c } as HuaweiCredentials;
}

/** A project-scoped token for an IAM user (password method), as the SDKs' token clients get one. */
async function iamToken(creds: Extract<HuaweiCredentials, { kind: 'iam' }>, endpoint: URL): Promise<string> {
  const url = new URL(`${IAM_TOKENS_PATH}?nocatalog=true`, creds.iamEndpoint ?? endpoint);
  const body = {
    auth: {
      identity: { methods: ['password'], password: { user: { name: creds.user, password: creds.password, domain: { name: creds.domain } } } },
      scope: { project: { id: creds.projectId } },
    },
  };
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json;charset=utf8' }, body: JSON.stringify(body) });
  const token = res.headers.get('x-subject-token');
  await res.arrayBuffer();
  if (res.status !== 201 || !token) throw new Error(`IAM ${url.origin} refused the token request (HTTP ${res.status})`);
  return token;
}

export const HUAWEI_PARITY: VendorParity = {
  vendor: 'huawei',
  scenarioVersion: 1,
  hiddenHeaders: ['x-auth-token', 'x-subject-token', 'x-security-token', 'x-sdk-date'],
  credentialsShape:
    '{"huawei": {"accessKey": "AK", "secretKey": "SK", "projectId": "project id"}} or {"huawei": {"user": "IAM user", "password": "...", "domain": "account", "projectId": "project id", "iamEndpoint": "https://iam... (default: --endpoint)"}}',
  async session(credentials, scratch): Promise<VendorSession> {
    const creds = credentialsOf(credentials);
    const images = await scenarioImages();
    const p = `/v1/${encodeURIComponent(creds.projectId)}`;
    const inst = `${p}/${scratch}`;
    const json = (method: ParityRequest['method'], path: string, body?: unknown): ParityRequest => ({
      method,
      path,
      contentType: 'application/json',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const picture = (name: string) => `https://parity.invalid/${name}.png`;
    const add = (name: keyof typeof images, color: string) => json('POST', `${inst}/image`, { file: images[name], path: picture(name), tags: { color, kind: 'parity' } });

    const secrets = creds.kind === 'aksk' ? [creds.accessKey, creds.secretKey] : [creds.password];
    let token = '<token: not fetched in a dry run>';
    return {
      known: [[creds.projectId, '<project-id>']],
      secrets,
      async prepare(endpoint) {
        if (creds.kind !== 'iam') return;
        token = await iamToken(creds, endpoint);
        secrets.push(token);
      },
      sign(req, url, body, stamp): Record<string, string> {
        if (creds.kind === 'iam') return { 'content-type': 'application/json', accept: 'application/json', 'x-auth-token': token };
        const date = sdkDate(stamp.now);
        const headers: Record<string, string> = { 'content-type': 'application/json', host: url.host, 'x-project-id': creds.projectId, 'x-sdk-date': date };
        const raw = Object.entries(headers).flat();
        const canonical = canonicalRequest({ method: req.method, url: url.pathname + url.search, rawHeaders: raw, body }, SIGNED_HEADERS);
        const sig = signature(creds.secretKey, stringToSign(canonical, date));
        delete headers.host; // fetch sends Host itself (url.host, the value signed)
        return { ...headers, accept: 'application/json', authorization: `${ALGORITHM} Access=${creds.accessKey}, SignedHeaders=${SIGNED_HEADERS.join(';')}, Signature=${sig}` };
      },
      async main(ctx: ScenarioContext) {
        await ctx.step('create-instance', json('POST', `${p}/service`, { name: scratch, model: 'common-search', description: 'isg parity scratch instance', tags: ['color', 'kind'] }));
        // An instance may show CREATION for a while: wait until it does not.
        await ctx.step('get-instance', json('GET', `${p}/service/${scratch}`), { until: (r) => (r.body as { status?: string })?.status !== 'CREATION' });
        await ctx.step('add-red-circle', add('red-circle', 'red'));
        await ctx.step('add-blue-square', add('blue-square', 'blue'));
        await ctx.step('add-green-stripes', add('green-stripes', 'green'));
        await ctx.step('check-picture', json('POST', `${inst}/image/check`, { path: picture('red-circle') }));
        // Wait until the three pictures are searchable (an index may lag the writes).
        await ctx.step('search-by-image', json('POST', `${inst}/image/search`, { file: images['red-circle-shifted'], limit: 3 }), { until: (r) => (r.body as { count?: number })?.count === 3 });
        await ctx.step('search-by-image-page-2', json('POST', `${inst}/image/search`, { file: images['red-circle-shifted'], limit: 1, offset: 1 }));
        await ctx.step('search-by-path', json('POST', `${inst}/image/search`, { path: picture('blue-square'), limit: 3 }));
        await ctx.step('search-by-image-and-tags', json('POST', `${inst}/image/search`, { file: images['red-circle-shifted'], tags: { color: 'blue' }, limit: 3 }));
        // UNVERIFIED on the gateway: tags-only search order and score.
        await ctx.step('search-by-tags-only', json('POST', `${inst}/image/search`, { tags: { kind: 'parity' }, limit: 10 }));
        // UNVERIFIED: modify replaces the tags (kind disappears) rather than merging them.
        await ctx.step('modify-picture-tags', json('PUT', `${inst}/image`, { path: picture('blue-square'), tags: { color: 'navy' } }));
        await ctx.step('search-after-modify', json('POST', `${inst}/image/search`, { path: picture('blue-square'), limit: 1 }));
        await ctx.step('delete-picture', json('DELETE', `${inst}/image`, { path: picture('green-stripes') }));
        await ctx.step('check-deleted-picture', json('POST', `${inst}/image/check`, { path: picture('green-stripes') }));
        // UNVERIFIED: deleting a picture that is not there.
        await ctx.step('error-delete-missing-picture', json('DELETE', `${inst}/image`, { path: picture('green-stripes') }));
        await ctx.step('error-search-missing-path', json('POST', `${inst}/image/search`, { path: picture('never-added'), limit: 3 }));
        await ctx.step('error-search-bad-base64', json('POST', `${inst}/image/search`, { file: 'not base64 at all!', limit: 3 }));
        await ctx.step('error-add-without-path', json('POST', `${inst}/image`, { file: images['blue-square'] }));
        await ctx.step('error-create-existing-instance', json('POST', `${p}/service`, { name: scratch, model: 'common-search' }));
        await ctx.step('error-get-missing-instance', json('GET', `${p}/service/${scratch}-x`));
      },
      async cleanup(ctx: ScenarioContext) {
        await ctx.step('cleanup-delete-instance', json('DELETE', `${p}/service/${scratch}`));
      },
    };
  },
};
