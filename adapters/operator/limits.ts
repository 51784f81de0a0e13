/**
 * Operator API limits. The vendor documents none (UNVERIFIED); these are the project's choices, listed in
 * docs/compatibility/operator.md. Change them here only.
 */
import type { ImageLimits } from '../../core/image/types';

export const PREFIX = '/api/v1/operators/image-search';

/** Query and imported images: any format the pipeline reads, up to 20 MB, 10 px to 10,000 px a side. */
export const IMAGE_LIMITS: ImageLimits = {
  maxBytes: 20 * 1024 * 1024,
  minWidth: 10,
  minHeight: 10,
  maxWidth: 10_000,
  maxHeight: 10_000,
};

/** A request body holds at most one 20 MB image as Base64 plus fields. */
export const BODY_LIMIT = 32 * 1024 * 1024;
/** The members that carry a picture as base64 (decoded ahead of the handler: adapters/http/raw-body.ts). */
export const PICTURE_FIELDS: ReadonlySet<string> = new Set(['image_base64']);

/** Batch import: the JSON-lines file, lines per engine batch, and how often progress is saved. */
export const IMPORT_FILE_MAX_BYTES = 1024 * 1024 * 1024;
export const IMPORT_BATCH_LINES = 16;
export const IMPORT_SAVE_EVERY_LINES = 256;
export const IMPORT_SAVE_EVERY_MS = 2000;

/** GET image/tasks/results/{task_id}: per-line results per page. */
export const TASK_RESULTS_PAGE_DEFAULT = 1000;
export const TASK_RESULTS_PAGE_MAX = 10_000;
