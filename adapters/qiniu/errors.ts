/**
 * Qiniu errors, the one table: every engine error and request failure → (HTTP status, message), answered
 * as `{"error": message}` with that status (Qiniu httputil.ReplyErr: the status is the code), or as a
 * per-image `{"code", "message"}` inside new/add answers.
 *
 * Documented or from the vendor's server code (shared/specs/qiniu.md §4, §5): bad token, group already
 * exists, group <id> not exists, id already exists, no enough arguments provided, groups is empty,
 * cannot search in more than N groups at one time, invalid limit, invalid threshold, desc too long, and
 * the codes 599 (unknown internal error), 612 (no such entry), 571 (overload). Every other message is the
 * project's (UNVERIFIED), in the same short lower-case style; docs/compatibility/qiniu.md lists them all.
 */
import { isEngineError, type EngineError, type ImageInvalidError, type InvalidArgumentError, type ImageInvalidReason, type NotFoundError, type QuotaExceededError } from '../../core/errors';
import { inLibraryNameWords } from '../http/library-name-words';
import { BodyAbortedError, BodyTooLargeError } from '../http/raw-body';
import { InjectedFault, type FaultCatalog } from '../http/observe';
import { ADD_MAX_ITEMS, IMAGE_LIMITS, LIST_LIMIT_MAX, SEARCH_LIMIT_MAX, SEARCH_MAX_GROUPS } from './limits';

export interface QiniuError {
  http: number;
  message: string;
}

/** An error an operation decides itself (not one the engine raised). */
export class QiniuRequestError extends Error {
  constructor(readonly error: QiniuError) {
    super(error.message);
  }
}

const e = (http: number, message: string): QiniuError => ({ http, message });

export const ERRORS = {
  badToken: e(401, 'bad token'),
  groupAlreadyExists: e(400, 'group already exists'),
  groupNotExists: (group: string) => e(400, `group ${group} not exists`),
  idAlreadyExists: e(400, 'id already exists'),
  noEnoughArguments: e(406, 'no enough arguments provided'),
  groupsEmpty: e(406, 'groups is empty'),
  tooManyGroups: e(406, `cannot search in more than ${SEARCH_MAX_GROUPS} groups at one time`),
  invalidLimit: e(406, `invalid limit, maximal allowed limit is ${SEARCH_LIMIT_MAX}`),
  invalidThreshold: e(406, 'invalid threshold'),
  descTooLong: e(406, 'desc too long'),
  noSuchEntry: e(612, 'no such entry'),
  overload: e(571, 'overload'),
  internal: e(599, 'internal error'),
  // The project's (UNVERIFIED):
  invalidListLimit: e(406, `invalid limit, limit should be in [1, ${LIST_LIMIT_MAX}]`),
  invalidMarker: e(406, 'invalid marker'),
  tooManyImages: e(406, `cannot add more than ${ADD_MAX_ITEMS} images at one time`),
  groupFull: (group: string, capacity: number) => e(400, `group ${group} is full, maximal allowed images is ${capacity}`),
  invalidJson: e(400, 'invalid JSON body'),
  malformedUrl: e(400, 'invalid request path: malformed percent-encoding'),
  bodyTooLarge: (limit: number) => e(413, `request body is larger than ${limit} bytes`),
  bodyAborted: e(400, 'request body was not received in full'),
  routeNotFound: e(404, 'no such api'),
  methodNotAllowed: e(405, 'method not allowed'),
  unavailable: e(503, 'service unavailable'),
  invalidUri: e(400, 'uri not supported, use an http(s) URL or data:application/octet-stream;base64,'),
} as const;

/** Why an image was refused → the message (all HTTP 400, per image in new/add, for the request in search). */
const IMAGE_MESSAGES: Record<ImageInvalidReason, string> = {
  empty: 'empty image',
  bad_encoding: 'invalid base64 data in uri',
  bad_format: `unsupported image format, supported formats are png, jpg, jpeg, bmp, webp and gif`,
  corrupt: 'invalid image: cannot be decoded',
  too_small: `image is too small, minimal allowed size is ${IMAGE_LIMITS.minWidth}x${IMAGE_LIMITS.minHeight}`,
  too_large: `image is too large, maximal allowed size is ${IMAGE_LIMITS.maxWidth}x${IMAGE_LIMITS.maxHeight}`,
  too_many_pixels: `image is too large, maximal allowed size is ${IMAGE_LIMITS.maxWidth}x${IMAGE_LIMITS.maxHeight}`,
  too_many_bytes: `image file is too large, maximal allowed file size is ${IMAGE_LIMITS.maxBytes! / 1024 / 1024}MB`,
  fetch_failed: 'fetch uri failed',
  fetch_refused: 'fetch uri refused: the address is not allowed',
  has_alpha: 'image must not contain an alpha channel',
  rotated: 'image must not carry an EXIF rotation flag', // never asked of Qiniu images
};

function fromEngine(err: EngineError): QiniuError {
  switch (err.kind) {
    case 'not_found': {
      const { resource, key } = err as NotFoundError;
      if (resource === 'library') return ERRORS.groupNotExists(key);
      return ERRORS.noSuchEntry;
    }
    case 'already_exists':
      return ERRORS.groupAlreadyExists;
    case 'invalid_argument':
      return e(406, inLibraryNameWords(err as InvalidArgumentError));
    case 'image_invalid':
      return e(400, IMAGE_MESSAGES[(err as ImageInvalidError).reason] ?? 'invalid image');
    case 'quota_exceeded':
      return (err as QuotaExceededError).quota === 'queue' ? ERRORS.overload : e(400, err.message);
    case 'not_supported':
      return e(406, err.message);
    case 'unavailable':
      return ERRORS.unavailable;
    default:
      return ERRORS.internal;
  }
}

/** The vendor's envelope of an error (sent with the error's status). */
export function errorBody(error: QiniuError): { error: string } {
  return { error: error.message };
}

/** Any thrown value → the Qiniu error to answer. Unknown errors are 599 without details. */
export function toQiniuError(err: unknown): QiniuError {
  if (err instanceof QiniuRequestError) return err.error;
  if (isEngineError(err)) return fromEngine(err);
  if (err instanceof InjectedFault) return ERRORS[err.code as FaultName] as QiniuError;
  if (err instanceof BodyTooLargeError) return ERRORS.bodyTooLarge(err.limit);
  if (err instanceof BodyAbortedError) return ERRORS.bodyAborted;
  if (err instanceof SyntaxError) return ERRORS.invalidJson;
  // The router could not decode a path parameter (e.g. %E0%A4%A): the client's request, not our failure.
  if (err instanceof URIError) return ERRORS.malformedUrl;
  return ERRORS.internal;
}

/**
 * True for the gateway's own failures (599), the only answers logged at error level: Qiniu's other 5xx codes
 * are normal answers (612 no such entry, 571 overload).
 */
export function isInternal(error: QiniuError): boolean {
  return error === ERRORS.internal;
}

/** A per-image entry of `errors[]` in new/add answers. */
export function itemError(err: unknown): { code: number; message: string } {
  const { http, message } = toQiniuError(err);
  return { code: http, message };
}

export function fail(error: QiniuError): never {
  throw new QiniuRequestError(error);
}

/**
 * Fault injection (/_gateway/faults): the fixed answers of the table by name (the ones that take a group or
 * a number are left out); `overload` (571) is the throttling answer, as for a full embedding queue. The
 * request log shows a Qiniu error by its HTTP status, which is what the vendor's clients see as the code.
 */
type FaultName = { [K in keyof typeof ERRORS]: (typeof ERRORS)[K] extends QiniuError ? K : never }[keyof typeof ERRORS];
const FAULT_NAMES = (Object.keys(ERRORS) as Array<keyof typeof ERRORS>).filter((k): k is FaultName => typeof ERRORS[k] !== 'function');

export function qiniuFaultCatalog(operations: readonly string[]): FaultCatalog {
  return { codes: FAULT_NAMES, throttle: 'overload' satisfies FaultName, operations };
}
