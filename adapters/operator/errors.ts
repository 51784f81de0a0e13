/**
 * Operator API errors: every engine error and HTTP failure → (HTTP status, status string, message) in the
 * vendor envelope {"status", "message", "data": null}.
 *
 * The vendor documents only SUCCESS and MODE_NOT_SUPPORTED (HTTP 400) and the HTTP codes 200/400/404/500.
 * The other status strings are the project's, in the same UPPER_SNAKE_CASE style (UNVERIFIED; listed in
 * docs/compatibility/operator.md). Change them here and nowhere else.
 */
import { inLibraryNameWords } from '../http/library-name-words';
import { BodyAbortedError, BodyTooLargeError } from '../http/raw-body';
import { InjectedFault, type FaultCatalog } from '../http/observe';
import { isEngineError, type EngineError, type InvalidArgumentError, type NotFoundError, type NotSupportedError } from '../../core/errors';

export interface OperatorError {
  http: number;
  status: string;
  message: string;
}

export const STATUS = {
  success: 'SUCCESS',
  modeNotSupported: 'MODE_NOT_SUPPORTED',
  invalidParameter: 'INVALID_PARAMETER',
  invalidImage: 'INVALID_IMAGE',
  libraryNotFound: 'LIBRARY_NOT_FOUND',
  imageNotFound: 'IMAGE_NOT_FOUND',
  taskNotFound: 'TASK_NOT_FOUND',
  libraryAlreadyExists: 'LIBRARY_ALREADY_EXISTS',
  quotaExceeded: 'QUOTA_EXCEEDED',
  unauthorized: 'UNAUTHORIZED',
  routeNotFound: 'NOT_FOUND',
  methodNotAllowed: 'METHOD_NOT_ALLOWED',
  payloadTooLarge: 'PAYLOAD_TOO_LARGE',
  tooManyRequests: 'TOO_MANY_REQUESTS',
  serviceUnavailable: 'SERVICE_UNAVAILABLE',
  internalError: 'INTERNAL_ERROR',
} as const;

/** The vendor's documented message for text search on a library that cannot do it. */
export function modeNotSupportedMessage(library: string, mode: string): string {
  return `Image library '${library}' is in ${mode} mode and does not support text-to-image search.`;
}

function fromEngine(e: EngineError): OperatorError {
  switch (e.kind) {
    case 'invalid_argument':
      return { http: 400, status: STATUS.invalidParameter, message: inLibraryNameWords(e as InvalidArgumentError) };
    case 'image_invalid':
      return { http: 400, status: STATUS.invalidImage, message: e.message };
    case 'not_found': {
      const resource = (e as NotFoundError).resource;
      const key = (e as NotFoundError).key;
      if (resource === 'image') return { http: 404, status: STATUS.imageNotFound, message: `Image '${key}' does not exist.` };
      if (resource === 'task') return { http: 404, status: STATUS.taskNotFound, message: `Task '${key}' does not exist.` };
      if (resource === 'model') return { http: 400, status: STATUS.invalidParameter, message: `Model '${key}' is not installed.` };
      return { http: 404, status: STATUS.libraryNotFound, message: `Image library '${key}' does not exist.` };
    }
    case 'already_exists':
      return { http: 400, status: STATUS.libraryAlreadyExists, message: `Image library '${(e as NotFoundError).key}' already exists.` };
    case 'not_supported': {
      const detail = (e as NotSupportedError).detail;
      if (detail.cause === 'mode' && detail.library && detail.mode) {
        return { http: 400, status: STATUS.modeNotSupported, message: modeNotSupportedMessage(detail.library, detail.mode) };
      }
      if (detail.cause === 'model' && detail.library) {
        return {
          http: 400,
          status: STATUS.modeNotSupported,
          message: `Image library '${detail.library}' uses a model without a text encoder and does not support text-to-image search.`,
        };
      }
      return { http: 400, status: STATUS.modeNotSupported, message: e.message };
    }
    case 'quota_exceeded':
      return (e as { quota?: string }).quota === 'queue'
        ? { http: 429, status: STATUS.tooManyRequests, message: 'Too many requests; retry later.' }
        : { http: 400, status: STATUS.quotaExceeded, message: e.message };
    case 'unavailable':
      return { http: 503, status: STATUS.serviceUnavailable, message: 'The service is temporarily unavailable; retry later.' };
    default:
      return { http: 500, status: STATUS.internalError, message: 'Internal server error.' };
  }
}

/** A request refused with one of the API's own answers (e.g. 401 from auth.ts). */
export class OperatorRefusal extends Error {
  constructor(readonly answer: OperatorError) {
    super(answer.message);
  }
}

/** Any thrown value → the operator error to answer. Unknown errors are 500 without details. */
export function toOperatorError(e: unknown): OperatorError {
  if (isEngineError(e)) return fromEngine(e);
  if (e instanceof OperatorRefusal) return e.answer;
  if (e instanceof InjectedFault) return FAULT_ANSWERS[e.code as FaultStatus];
  if (e instanceof BodyTooLargeError) return { http: 413, status: STATUS.payloadTooLarge, message: `Request body exceeds ${e.limit} bytes.` };
  if (e instanceof BodyAbortedError) return { http: 400, status: STATUS.invalidParameter, message: e.message };
  if (e instanceof SyntaxError) return { http: 400, status: STATUS.invalidParameter, message: 'The request body is not valid JSON.' };
  // The router could not decode a path parameter (e.g. %E0%A4%A): the client's request, not our failure.
  if (e instanceof URIError) return { http: 400, status: STATUS.invalidParameter, message: 'The request path is not valid percent-encoding.' };
  return { http: 500, status: STATUS.internalError, message: 'Internal server error.' };
}

/** The API's envelope of an error (every error answer, the adapter's and migration's). */
export function errorEnvelope(error: OperatorError): { status: string; message: string; data: null } {
  return { status: error.status, message: error.message, data: null };
}

export const ROUTE_NOT_FOUND: OperatorError = { http: 404, status: STATUS.routeNotFound, message: 'No such API.' };
export const METHOD_NOT_ALLOWED: OperatorError = { http: 405, status: STATUS.methodNotAllowed, message: 'Method not allowed.' };
export const UNAUTHORIZED: OperatorError = { http: 401, status: STATUS.unauthorized, message: 'A valid API key is required (Authorization: Bearer <key>).' };

/**
 * Fault injection (/_gateway/faults): the answer for each status string a fault may name. Statuses whose
 * message names a resource get a generic one. TOO_MANY_REQUESTS is the API's throttling answer (the same
 * as a full embedding queue).
 */
type FaultStatus = Exclude<(typeof STATUS)[keyof typeof STATUS], 'SUCCESS'>;
const FAULT_ANSWERS: Record<FaultStatus, OperatorError> = {
  MODE_NOT_SUPPORTED: { http: 400, status: STATUS.modeNotSupported, message: 'The image library does not support this search.' },
  INVALID_PARAMETER: { http: 400, status: STATUS.invalidParameter, message: 'Invalid parameter.' },
  INVALID_IMAGE: { http: 400, status: STATUS.invalidImage, message: 'The image is invalid.' },
  LIBRARY_NOT_FOUND: { http: 404, status: STATUS.libraryNotFound, message: 'Image library does not exist.' },
  IMAGE_NOT_FOUND: { http: 404, status: STATUS.imageNotFound, message: 'Image does not exist.' },
  TASK_NOT_FOUND: { http: 404, status: STATUS.taskNotFound, message: 'Task does not exist.' },
  LIBRARY_ALREADY_EXISTS: { http: 400, status: STATUS.libraryAlreadyExists, message: 'Image library already exists.' },
  QUOTA_EXCEEDED: { http: 400, status: STATUS.quotaExceeded, message: 'Quota exceeded.' },
  UNAUTHORIZED,
  NOT_FOUND: ROUTE_NOT_FOUND,
  METHOD_NOT_ALLOWED,
  PAYLOAD_TOO_LARGE: { http: 413, status: STATUS.payloadTooLarge, message: 'Request body too large.' },
  TOO_MANY_REQUESTS: { http: 429, status: STATUS.tooManyRequests, message: 'Too many requests; retry later.' },
  SERVICE_UNAVAILABLE: { http: 503, status: STATUS.serviceUnavailable, message: 'The service is temporarily unavailable; retry later.' },
  INTERNAL_ERROR: { http: 500, status: STATUS.internalError, message: 'Internal server error.' },
};

export const FAULT_CODES = Object.keys(FAULT_ANSWERS) as FaultStatus[];
export const THROTTLE_STATUS: FaultStatus = STATUS.tooManyRequests;

/** What the fault injector may use for this API (operations are the route paths). */
export function operatorFaultCatalog(operations: readonly string[]): FaultCatalog {
  return { codes: FAULT_CODES, throttle: THROTTLE_STATUS, operations };
}
