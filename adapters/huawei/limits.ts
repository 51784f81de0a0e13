/**
 * Huawei ImageSearch v1 facts and the project's choices where the vendor is silent (UNVERIFIED, listed in
 * docs/compatibility/huawei.md). Every number and literal of the Huawei API lives here or in errors.ts.
 */
import type { ImageLimits } from '../../core/image/types';

/** Files: JPEG/JPG/PNG/BMP, shortest side >= 100 px, longest side <= 2048 px (vendor). */
export const IMAGE_LIMITS: ImageLimits = {
  formats: ['jpeg', 'png', 'bmp'],
  minShortSide: 100,
  maxLongSide: 2048,
  // UNVERIFIED: the vendor states no byte limit for one image; 10 MB keeps a 2048 px BMP (12.6 MB) out.
  maxBytes: 10 * 1024 * 1024,
};

/** AK/SK-signed bodies are limited to 12 MB (vendor); token-authenticated ones may be larger (ours: 32 MB). */
export const AKSK_BODY_LIMIT = 12 * 1024 * 1024;
export const TOKEN_BODY_LIMIT = 32 * 1024 * 1024;
/** The member that carries a picture as base64 (decoded ahead: adapters/http/raw-body.ts). */
export const PICTURE_FIELDS: ReadonlySet<string> = new Set(['file']);
/** The IAM request is a small JSON document. */
export const IAM_BODY_LIMIT = 64 * 1024;

/** X-Sdk-Date must be within 15 minutes of the server clock (vendor API gateway). */
export const SDK_DATE_SKEW_MS = 15 * 60 * 1000;
/** IAM tokens are valid 24 hours (vendor). */
export const TOKEN_TTL_SECONDS = 24 * 60 * 60;

/**
 * Field rules (name pattern, models, levels, tag counts, description length, limit range and defaults)
 * live in schemas/huawei/*.json, the single source for validation and tests.
 */
/** The create/query example's `domain` ("model description"); the vendor never shows another value. UNVERIFIED. */
export const MODEL_DOMAIN = 'model description';
/** Instances never expire here (vendor: -1 = never). */
export const EXPIRED_DATE_NEVER = -1;
/** The only status an instance reaches here. */
export const STATUS_NORMAL = 'NORMAL';

/** `sim` is printed with at most 5 decimals, as in the vendor example (0.51263). */
export const SIM_DECIMALS = 5;
/** UNVERIFIED: a tags-only search has no query image; every match gets this similarity. */
export const TAGS_ONLY_SIM = 1;

/** Literal success bodies (vendor examples: capital S for pictures, lower case for delete instance). */
export const PICTURE_OK = { result: 'Success' } as const;
export const INSTANCE_DELETED = { result: 'success' } as const;
