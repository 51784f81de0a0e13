/**
 * The Alibaba Image Search (2020-12-14) parity scenario and its signing client (isg parity, docs/migration.md
 * "Check the gateway against your account"). Requests are signed ACS3-HMAC-SHA256 as @alicloud/openapi-core
 * signs them (sdk-clients §1.2-1.3): host, content-type and every x-acs-* header signed, a fresh 64-hex nonce,
 * the form body built with querystring.stringify, the canonical request from the same function the gateway
 * verifies with (auth.ts).
 *
 * Instances cannot be created through the API: the credentials name an existing instance, and the scenario
 * only adds, reads and deletes images whose ProductId starts with the run's scratch prefix (every search is
 * restricted to them by a StrAttr4 filter). Nothing else of the instance is touched.
 *
 * Credentials file entry: {"alibaba": {"accessKeyId": "...", "accessKeySecret": "...", "instanceName": "..."}}.
 */
import { createHash } from 'node:crypto';
import querystring from 'node:querystring';
import type { ParityRequest, ScenarioContext, VendorParity, VendorSession } from '../parity/types';
import { scenarioImages } from '../parity/images';
import { v3Signature, v3StringToSign } from './auth';

interface AlibabaCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  instanceName: string;
}

const VERSION = '2020-12-14';

function credentialsOf(value: unknown): AlibabaCredentials {
  if (value === undefined) return { accessKeyId: 'ParityDryRun', accessKeySecret: 'parity-dry-run', instanceName: 'parity-instance' };
  const c = value as Partial<AlibabaCredentials>;
  for (const key of ['accessKeyId', 'accessKeySecret', 'instanceName'] as const) {
    if (typeof c[key] !== 'string' || c[key] === '') throw new Error(`credentials: alibaba.${key} is missing (${ALIBABA_PARITY.credentialsShape})`);
  }
  return c as AlibabaCredentials;
}

type Params = Record<string, string | number | boolean>;

/** One RPC action: POST / with x-acs-action, query and form body split as the SDK splits them. */
function action(name: string, form: Params, query?: Params): ParityRequest {
  const q = query ? Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]) : undefined;
  return {
    method: 'POST',
    path: '/',
    query: q,
    headers: { 'x-acs-action': name, 'x-acs-version': VERSION },
    contentType: 'application/x-www-form-urlencoded',
    body: querystring.stringify(form),
  };
}

export const ALIBABA_PARITY: VendorParity = {
  vendor: 'alibaba',
  scenarioVersion: 1,
  hiddenHeaders: ['x-acs-signature-nonce', 'x-acs-security-token', 'x-acs-date'],
  credentialsShape: '{"alibaba": {"accessKeyId": "AK id", "accessKeySecret": "AK secret", "instanceName": "an existing instance"}}',
  async session(credentials, scratch): Promise<VendorSession> {
    const creds = credentialsOf(credentials);
    const images = await scenarioImages();
    const instance = { InstanceName: creds.instanceName };
    const product = (n: number) => `${scratch}-p${n}`;
    const mine = `str_attr4="${scratch}"`;
    const add = (n: number, name: keyof typeof images, color: string) =>
      action('AddImage', { ...instance, ProductId: product(n), PicName: `${name}.png`, PicContent: images[name], IntAttr: n, StrAttr: color, StrAttr4: scratch, CustomContent: 'isg parity' });
    const byPic = { ...instance, PicContent: images['red-circle-shifted'], Filter: mine };

    return {
      known: [[creds.instanceName, '<instance>']],
      secrets: [creds.accessKeyId, creds.accessKeySecret],
      sign(req, url, body, stamp) {
        const headers: Record<string, string> = {
          host: url.host,
          ...req.headers,
          'x-acs-date': stamp.now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
          'x-acs-signature-nonce': stamp.nonce,
          accept: 'application/json',
          'x-acs-content-sha256': createHash('sha256').update(body).digest('hex'),
          'x-acs-credentials-provider': 'static_ak',
        };
        if (req.contentType) headers['content-type'] = req.contentType;
        const signed = Object.keys(headers).filter((h) => h === 'host' || h === 'content-type' || h.startsWith('x-acs-')).sort();
        const query = [...url.searchParams.entries()];
        const { stringToSign } = v3StringToSign({ method: req.method, query, form: [], rawHeaders: Object.entries(headers).flat(), body }, signed);
        delete headers.host; // fetch sends Host itself (url.host, the value signed)
        headers.authorization = `ACS3-HMAC-SHA256 Credential=${creds.accessKeyId},SignedHeaders=${signed.join(';')},Signature=${v3Signature(creds.accessKeySecret, stringToSign)}`;
        return headers;
      },
      async main(ctx: ScenarioContext) {
        await ctx.step('add-red-circle', add(1, 'red-circle', 'red'));
        await ctx.step('add-blue-square', add(2, 'blue-square', 'blue'));
        await ctx.step('add-green-stripes', add(3, 'green-stripes', 'green'));
        await ctx.step('check-image-exists', action('CheckImageExists', { ...instance, ProductId: product(1), PicName: 'red-circle.png' }));
        // Wait until the three images are searchable (the index may lag AddImage).
        await ctx.step('search-by-pic', action('SearchImageByPic', { ...byPic, Num: 3 }), { until: (r) => (r.body as { Auctions?: unknown[] })?.Auctions?.length === 3 });
        await ctx.step('search-by-pic-page-2', action('SearchImageByPic', { ...byPic, Num: 1, Start: 1 }));
        await ctx.step('search-by-pic-distinct', action('SearchImageByPic', { ...byPic, Num: 3, DistinctProductId: true }, { ScoreThreshold: 0.1 }));
        await ctx.step('search-by-name', action('SearchImageByName', { ...instance, ProductId: product(2), PicName: 'blue-square.png', Num: 3, Filter: mine }));
        await ctx.step('search-by-filter', action('SearchImageByFilter', { ...instance, Filter: `${mine} AND int_attr>=2`, Num: 10 }));
        // The gateway merges UpdateImage attributes into the stored ones.
        await ctx.step('update-image', action('UpdateImage', { ...instance, ProductId: product(2), PicName: 'blue-square.png', StrAttr: 'navy', CustomContent: 'updated' }));
        await ctx.step('search-after-update', action('SearchImageByFilter', { ...instance, Filter: `${mine} AND str_attr="navy"`, Num: 10 }));
        await ctx.step('delete-image', action('DeleteImage', { ...instance, ProductId: product(3), PicName: 'green-stripes.png' }));
        await ctx.step('check-deleted-image', action('CheckImageExists', { ...instance, ProductId: product(3), PicName: 'green-stripes.png' }));
        await ctx.step('delete-missing-image', action('DeleteImage', { ...instance, ProductId: product(3), PicName: 'green-stripes.png' }));
        // project-defined on the gateway: PicNotExist.
        await ctx.step('error-update-missing-image', action('UpdateImage', { ...instance, ProductId: product(3), PicName: 'green-stripes.png', StrAttr: 'x' }));
        await ctx.step('error-search-by-missing-name', action('SearchImageByName', { ...instance, ProductId: product(9), PicName: 'never-added.png', Filter: mine }));
        await ctx.step('error-add-bad-picture', action('AddImage', { ...instance, ProductId: product(9), PicName: 'broken.png', PicContent: Buffer.from('not an image').toString('base64'), StrAttr4: scratch }));
        await ctx.step('error-search-num-too-large', action('SearchImageByPic', { ...byPic, Num: 101 }));
        await ctx.step('error-bad-filter', action('SearchImageByFilter', { ...instance, Filter: `${mine} AND int_attr >>= 2`, Num: 10 }));
      },
      async cleanup(ctx: ScenarioContext) {
        // Only the scenario's own products, one by one: never a delete by filter on someone's instance.
        for (const n of [1, 2, 3, 9]) await ctx.step(`cleanup-delete-product-${n}`, action('DeleteImage', { ...instance, ProductId: product(n) }));
      },
    };
  },
};
