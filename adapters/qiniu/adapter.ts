/**
 * Qiniu 以图搜图 as a vendor adapter (adapters/vendor.ts): its routes under /v1/image, Qiniu MAC auth, the
 * SSRF-guarded download of `uri` images at the vendor's byte limit.
 */
import { Router, type Request } from 'express';
import { underPrefix, type VendorAdapter, type VendorContext } from '../vendor';
import { authenticate, FAULT_CATALOG, NAME, qiniuRouter } from './index';
import { IMPORT_READER } from './import-reader';
import { IMAGE_LIMITS, PICTURE_FIELDS, PREFIX } from './limits';
import { MIGRATION } from './migration';
import { QINIU_PARITY } from './parity';
import { ROUTES } from './routes';

export const QINIU: VendorAdapter = {
  name: NAME,
  docs: {
    title: 'Qiniu 以图搜图 (image groups)',
    description: 'Authorization: Qiniu <AK>:<sign> (or QBox). Errors {"error": message} with the HTTP status as the code. docs/compatibility/qiniu.md.',
    server: PREFIX,
  },
  routes: ROUTES,
  errors: FAULT_CATALOG,
  images: { limits: IMAGE_LIMITS, pictureFields: PICTURE_FIELDS },
  owns: underPrefix(PREFIX),
  migration: MIGRATION,
  importReader: IMPORT_READER,
  parity: QINIU_PARITY,
  mount(ctx: VendorContext) {
    const fetchImage = ctx.fetcher(Math.min(ctx.config.fetch.maxBytes, IMAGE_LIMITS.maxBytes!));
    const router = Router();
    // Only /v1/image is taken: /v1/<project_id>/... (Huawei's space) passes by.
    router.use(PREFIX, qiniuRouter({ engine: ctx.engine, fetchImage }, ctx.config, ctx.log));
    return { router, authenticate: (req: Request) => authenticate(ctx.config.auth, req) };
  },
};
