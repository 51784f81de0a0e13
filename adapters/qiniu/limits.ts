/**
 * Qiniu 以图搜图 numbers: the documented limits (shared/specs/qiniu.md) and the project's choices where the
 * vendor is silent or contradicts itself (marked UNVERIFIED, listed in docs/compatibility/qiniu.md).
 * Change them here only: schemas, errors and tests read them from this file.
 */
import type { ImageLimits } from '../../core/image/types';

/** Every route lives below this prefix (`/v1/image/group...`, `/v1/image/groups/search`). */
export const PREFIX = '/v1/image';

/**
 * 文件适用规格: <= 10 MB, 30x30 to 4999x4999, at most 3 channels and no alpha channel (不能包含alpha通道),
 * png/jpg/jpeg/bmp/webp/gif (GIF: first frame; a GIF's transparent palette entry is not an alpha channel).
 */
export const IMAGE_LIMITS: ImageLimits = {
  formats: ['jpeg', 'png', 'bmp', 'webp', 'gif'],
  maxBytes: 10 * 1024 * 1024,
  minWidth: 30,
  minHeight: 30,
  maxWidth: 4999,
  maxHeight: 4999,
  refuseAlpha: true,
};

/** The only inline form the API takes (server constant DataURIPrefix); anything else is not an image. */
export const DATA_URI_PREFIX = 'data:application/octet-stream;base64,';

/** 每个图像库最多存入50万张图片. */
export const GROUP_CAPACITY = 500_000;

/** attribute.desc: at most 4096 bytes of JSON. */
export const DESC_MAX_BYTES = 4096;

/**
 * Groups per search: the page's 最多2个. (The 2019 server code accepted 5; the gateway follows the page, with
 * that server's message above the limit.)
 */
export const SEARCH_MAX_GROUPS = 2;

/** Search top-N: default 1, at most 10000; -1 (any negative, UNVERIFIED) = all, capped here; 0 = 1. */
export const SEARCH_LIMIT_DEFAULT = 1;
export const SEARCH_LIMIT_MAX = 10_000;

/** The "system setting" threshold when the config sets none (the server's example configuration). */
export const SEARCH_THRESHOLD_DEFAULT = 0.4;

/** GET /v1/image/group/<id>: page size 1-1000, default 1000. */
export const LIST_LIMIT_DEFAULT = 1000;
export const LIST_LIMIT_MAX = 1000;

/**
 * Project limits (the vendor documents none): a request body holds a few 10 MB images as Base64; one
 * new/add call imports at most this many images; images are fetched, checked and embedded this many at a time.
 */
export const BODY_LIMIT = 64 * 1024 * 1024;
/** The member that may carry a picture as a base64 data URI (decoded ahead: adapters/http/raw-body.ts). */
export const PICTURE_FIELDS: ReadonlySet<string> = new Set(['uri']);
export const ADD_MAX_ITEMS = 1000;
export const ADD_BATCH = 16;
