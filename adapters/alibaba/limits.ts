/**
 * Alibaba Cloud Image Search (2020-12-14) numbers, each in one place. Vendor facts cite
 * shared/specs/alibaba.md; the project's choices (UNVERIFIED there) say so and are listed in
 * docs/compatibility/alibaba.md.
 */
import type { ImageLimits } from '../../core/image/types';
import common from '../../schemas/alibaba/_common.json';

/** The API version every action must name (x-acs-version / Version). §1 */
export const API_VERSION = '2020-12-14';
/** The open-platform API the *Advance methods call for an upload ticket (AuthorizeFileUpload). §5 */
export const OPEN_PLATFORM_VERSION = '2019-12-19';

/**
 * PicContent: ≤ 4 MB, PNG/JPG/BMP/GIF/WebP/TIFF/PPM (PPM read by core's Netpbm decoder, which also takes
 * PGM/PBM), 100-4096 px a side for product and generic instances. §3. The 4 MB is checked on the decoded image bytes (the vendor's message speaks of
 * the "PicContent length": UNVERIFIED which of the two it measures).
 */
export const IMAGE_LIMITS: ImageLimits = {
  formats: ['jpeg', 'png', 'bmp', 'gif', 'webp', 'tiff', 'pnm'],
  maxBytes: 4 * 1024 * 1024,
  minWidth: 100,
  minHeight: 100,
  maxWidth: 4096,
  maxHeight: 4096,
};

/**
 * A request's picture (PicContent, Primary/SecondaryPicContent): IMAGE_LIMITS, and "the image cannot contain
 * rotation settings" (§3), refused before anything else. Pictures of an increment or an import are not held to it.
 */
export const PICTURE_LIMITS: ImageLimits = { ...IMAGE_LIMITS, refuseRotation: true };

/** A form body holds at most two 4 MB images as Base64 (CompareSimilarByImage) plus the other fields. */
export const BODY_LIMIT = 12 * 1024 * 1024;

/** Num 1..100 (default 10) is in the schema (_common.json); Start 0..499 (default 0), Start + Num ≤ 500. §3 */
export const MAX_RESULT_WINDOW = 500;

/**
 * Filter length: the SearchImageByPic page's "up to 256 characters" (the SDK model's 4096 is not followed),
 * as schemas/alibaba/_common.json declares it; longer → InvalidFilterClause. The operators `in` / `not in`
 * and int `!=` are accepted beyond the page's list (adapters/alibaba/filter.ts).
 */
export const MAX_FILTER_LENGTH: number = common.definitions.Filter.maxLength;

/** SortExprValues (deprecated): "<relevance>;0", relevance = Score × the maximum of the category. §4.1 */
export const SORT_EXPR_MAX_APPAREL = 7.33136443711219e24; // CategoryId 0-2
export const SORT_EXPR_MAX_OTHER = 5.37633353624177e24;

/** Detail: Capacity is counted in units of 10,000 images; an instance without a capacity reports this. */
export const CAPACITY_UNIT = 10_000;
export const DEFAULT_CAPACITY_UNITS = 10;
/** Detail.UtcExpireTime for instances that never expire (project-defined: 2100-01-01). */
export const NEVER_EXPIRES_MS = 4_102_444_800_000;


/** MetaUrl is valid for 2 hours. §4.11 */
export const META_URL_TTL_MS = 2 * 60 * 60 * 1000;

/**
 * Signatures: x-acs-date / Timestamp must be within ±15 minutes of the gateway clock and a nonce is
 * refused when seen again within that window (UNVERIFIED, §7.1; the project's choice).
 */
export const CLOCK_SKEW_MS = 15 * 60 * 1000;

/** Increment files: increment.meta in <imports.dir>/<BucketName><Path>/. §4.12 */
export const INCREMENT_META_FILE = 'increment.meta';
export const INCREMENT_META_MAX_BYTES = 256 * 1024 * 1024;
export const INCREMENT_BATCH_LINES = 16;

/** Objects uploaded through the *Advance flow are kept this long for the action that follows. */
export const UPLOAD_TTL_MS = 30 * 60 * 1000;
export const UPLOAD_MAX_OBJECTS = 1000;
/** Bytes of unexpired uploads one tenant may hold in the spool (alibaba.uploadQuotaBytes overrides). */
export const UPLOAD_TENANT_QUOTA_BYTES = 256 * 1024 * 1024;

/** The region reported by Detail and used in upload object keys when the config names none. */
export const DEFAULT_REGION = 'cn-shanghai';
