/**
 * Huawei Cloud ImageSearch v1 as a vendor adapter (adapters/vendor.ts): /v1/{project_id}/... and the
 * emulated IAM (/v3/auth/tokens) at the app root, AK/SK and token auth, the SSRF-guarded download of
 * `path` images at the adapter's byte limit.
 */
import type { Request } from 'express';
import type { VendorAdapter, VendorContext } from '../vendor';
import type { AuthContext } from './auth';
import { Iam } from './iam';
import { authenticate, FAULT_CATALOG, huaweiRoutes, isForeign, NAME } from './index';
import { IMAGE_LIMITS, PICTURE_FIELDS } from './limits';
import { MIGRATION } from './migration';
import { HUAWEI_PARITY } from './parity';
import { ROUTES } from './routes';

export const HUAWEI: VendorAdapter = {
  name: NAME,
  docs: {
    title: 'Huawei Cloud ImageSearch v1',
    description: 'SDK-HMAC-SHA256 (AK/SK) or X-Auth-Token from the emulated IAM. docs/compatibility/huawei.md.',
    server: '/',
  },
  routes: ROUTES,
  errors: FAULT_CATALOG,
  images: { limits: IMAGE_LIMITS, pictureFields: PICTURE_FIELDS },
  // The /v1 space: a request signed with another vendor's scheme is not Huawei's (as index.ts decides).
  // IAM token requests are always served here, never forwarded.
  owns: (req) => req.path.startsWith('/v1/') && !isForeign(req),
  migration: MIGRATION,
  parity: HUAWEI_PARITY,
  mount(ctx: VendorContext) {
    const { config } = ctx;
    const fetchImage = ctx.fetcher(Math.min(config.fetch.maxBytes, IMAGE_LIMITS.maxBytes!));
    const iam = new Iam(config.auth);
    const auth: AuthContext = { auth: config.auth, iam };
    const router = huaweiRoutes({ engine: ctx.engine, config, fetchImage, log: ctx.log }, auth, iam);
    return { router, authenticate: (req: Request) => authenticate(auth, req) };
  },
};
