/**
 * The operator API parity scenario and its client (isg parity, docs/migration.md "Check the gateway against
 * your account"). The operator API signs nothing: a verify-mode endpoint takes `Authorization: Bearer <key>`.
 *
 * Credentials file entry: {"operator": {"apiKey": "..."}} (optional against an open-mode endpoint). The
 * scenario creates one library named after the run's scratch prefix and deletes it at the end.
 */
import type { ScenarioContext, VendorParity, VendorSession } from '../parity/types';
import { scenarioImages } from '../parity/images';
import { PREFIX } from './limits';

function apiKeyOf(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const key = (value as { apiKey?: unknown }).apiKey;
  if (typeof key !== 'string' || key === '') throw new Error(`credentials: operator.apiKey is missing (${OPERATOR_PARITY.credentialsShape})`);
  return key;
}

export const OPERATOR_PARITY: VendorParity = {
  vendor: 'operator',
  scenarioVersion: 1,
  credentialsShape: '{"operator": {"apiKey": "key"}}',
  opaqueKeys: ['next_cursor', 'cursor'],
  async session(credentials, scratch): Promise<VendorSession> {
    const apiKey = apiKeyOf(credentials);
    const images = await scenarioImages();
    const post = (op: string, body: Record<string, unknown>) => ({ method: 'POST' as const, path: `${PREFIX}/${op}`, contentType: 'application/json', body: JSON.stringify(body) });
    const lib = { library_name: scratch };
    const add = (name: keyof typeof images, color: string) =>
      post('image/add', { ...lib, image_id: name, image_uri: `https://parity.invalid/${name}.png`, image_base64: images[name], tags: { color, kind: 'parity', rank: color.length } });
    const query = { ...lib, image_base64: images['red-circle-shifted'], return_frame: false };

    return {
      known: [],
      secrets: apiKey ? [apiKey] : [],
      sign(req) {
        const headers: Record<string, string> = { accept: 'application/json' };
        if (req.contentType) headers['content-type'] = req.contentType;
        if (apiKey) headers.authorization = `Bearer ${apiKey}`;
        return headers;
      },
      async main(ctx: ScenarioContext) {
        await ctx.step('library-create', post('library/create', { ...lib, mode: 'general_search', description: 'isg parity scratch library' }));
        await ctx.step('library-describe-empty', post('library/describe', lib));
        await ctx.step('add-red-circle', add('red-circle', 'red'));
        await ctx.step('add-blue-square', add('blue-square', 'blue'));
        await ctx.step('add-green-stripes', add('green-stripes', 'green'));
        await ctx.step('search-by-image', post('search/by-image', { ...query, top_k: 3 }));
        await ctx.step('search-by-image-top-1', post('search/by-image', { ...query, top_k: 1 }));
        await ctx.step('search-with-tag-filter', post('search/by-image', { ...query, top_k: 3, tag_filter: [{ field: 'color', op: 'in', value: ['blue', 'green'] }] }));
        await ctx.step('search-with-numeric-filter', post('search/by-image', { ...query, top_k: 3, tag_filter: { or: [{ field: 'rank', op: '>=', value: 5 }, { field: 'color', op: 'contains', value: 'ee' }] } }));
        const page1 = await ctx.step('list-images-page-1', post('image/list', { ...lib, limit: 2 }));
        const cursor = (page1?.body as { data?: { next_cursor?: unknown } } | undefined)?.data?.next_cursor;
        await ctx.step('list-images-page-2', post('image/list', { ...lib, limit: 2, ...(typeof cursor === 'string' ? { cursor } : {}) }));
        // Re-adding the same (image_id, image_uri) overwrites: the operator API's update.
        await ctx.step('update-by-re-add', post('image/add', { ...lib, image_id: 'blue-square', image_uri: 'https://parity.invalid/blue-square.png', image_base64: images['blue-square'], tags: { color: 'navy' } }));
        await ctx.step('search-after-update', post('search/by-image', { ...query, top_k: 3, tag_filter: [{ field: 'color', op: '=', value: 'navy' }] }));
        await ctx.step('delete-image', post('image/delete', { ...lib, image_id: 'green-stripes' }));
        await ctx.step('library-describe', post('library/describe', lib));
        await ctx.step('delete-missing-image', post('image/delete', { ...lib, image_id: 'green-stripes' }));
        await ctx.step('error-search-missing-library', post('search/by-image', { ...query, library_name: `${scratch}-x`, top_k: 3 }));
        await ctx.step('error-bad-tag-filter', post('search/by-image', { ...query, top_k: 3, tag_filter: [{ field: 'color', op: 'like', value: 'r%' }] }));
        await ctx.step('error-data-uri-prefix', post('search/by-image', { ...query, image_base64: `data:image/png;base64,${images['red-circle']}`, top_k: 3 }));
        await ctx.step('error-create-existing-library', post('library/create', { ...lib, mode: 'general_search' }));
      },
      async cleanup(ctx: ScenarioContext) {
        await ctx.step('cleanup-library-delete', post('library/delete', lib));
      },
    };
  },
};
