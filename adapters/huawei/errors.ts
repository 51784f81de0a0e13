/**
 * Every error the Huawei adapter answers, in one table:
 * - service errors (ImageSearch itself): HTTP 400 {"error_code": "IS.xxxx", "error_msg": ...};
 * - API gateway errors (auth, routing, size, throttling): by default the `APIGW.*` variant with real HTTP
 *   statuses and a `request_id`, because that is what the official SDK reports (sdk-clients.md §2.5) and
 *   what the gateway documents; expired tokens answer APIG.0307, as documented for that gateway. With
 *   `huawei.errorStyle: "documented"` the ImageSearch table's variant instead (`documentedVariant`): HTTP 400
 *   `APIG.*`, `IS.0013` (no token), `IS.0021` (expired token), in the service envelope;
 * - IAM errors (POST /v3/auth/tokens): {"error": {"code", "message", "title"}}.
 * Which IS code answers which condition is UNVERIFIED beyond the three documented examples (IS.0003,
 * IS.0004, IS.3000): the choices are made here and nowhere else.
 */
import { BodyAbortedError, BodyTooLargeError } from '../http/raw-body';
import { InjectedFault, type FaultCatalog } from '../http/observe';
import { isEngineError, type EngineError, type ImageInvalidError, type InvalidArgumentError, type NotFoundError, type QuotaExceededError } from '../../core/errors';

/** The service codes used, with the message each answers (documented example strings where they exist). */
export const IS = {
  missingParameter: { code: 'IS.0001', msg: 'The request parameter is missing or empty.' },
  wrongType: { code: 'IS.0002', msg: 'The type of the request parameter is not supported.' },
  pathMissing: { code: 'IS.0003', msg: 'Arguments of path can not be null.' },
  tokenAbnormal: { code: 'IS.0004', msg: 'The authentication token is abnormal.' },
  tokenEmpty: { code: 'IS.0013', msg: 'The token is empty.' },
  tokenExpired: { code: 'IS.0021', msg: 'The token has expired.' },
  invalidInstanceName: { code: 'IS.0007', msg: 'Invalid instance name.' },
  badJson: { code: 'IS.0008', msg: 'The JSON format of the input data is incorrect.' },
  internal: { code: 'IS.0009', msg: 'The request failed due to an internal error.' },
  invalidPath: { code: 'IS.0016', msg: 'The path is invalid.' },
  projectMismatch: { code: 'IS.0019', msg: 'The user service ID does not match the project ID.' },
  tooManyTags: { code: 'IS.1003', msg: 'Too many tags.' },
  tagMismatch: { code: 'IS.1004', msg: 'The tag does not match.' },
  badLimit: { code: 'IS.1010', msg: 'The value of limit is incorrect.' },
  badOffset: { code: 'IS.1011', msg: 'The value of offset is incorrect.' },
  instanceFull: { code: 'IS.1015', msg: 'Too many images in the instance.' },
  downloadFailed: { code: 'IS.2000', msg: 'Failed to download the image.' },
  badFormat: { code: 'IS.2001', msg: 'The image format is not supported.' },
  damaged: { code: 'IS.2002', msg: 'The image file has been damaged.' },
  notIndexed: { code: 'IS.2006', msg: 'The image is not indexed.' },
  badBase64: { code: 'IS.2007', msg: 'Base64 decoding of the input data is incorrect.' },
  notAuthorizedSource: { code: 'IS.2011', msg: 'OBS is not authorized to obtain images.' },
  tagsMissing: { code: 'IS.2009', msg: 'The request parameters must contain tag information.' },
  noInstance: { code: 'IS.2019', msg: 'The instance does not exist.' },
  serviceNotRunning: { code: 'IS.2105', msg: 'The service is not running properly.' },
  imageTooBig: { code: 'IS.2106', msg: 'The image is too big.' },
  imageTooSmall: { code: 'IS.2107', msg: 'The image is too small.' },
  // Documented example message, reproduced as printed (leading "T" included).
  instanceExists: { code: 'IS.3000', msg: 'TInstance name is already exists.' },
  modelUnusable: { code: 'IS.3004', msg: 'The model cannot be used.' },
  noModel: { code: 'IS.3014', msg: 'The model name does not exist.' },
  tooManyInstanceTags: { code: 'IS.3024', msg: 'Too many instance tags.' },
  badInstanceTag: { code: 'IS.3026', msg: 'Failed to add the instance tag.' },
  noLevel: { code: 'IS.3035', msg: 'The instance scale does not exist.' },
  descriptionTooLong: { code: 'IS.3036', msg: 'The user instance description is too long.' },
} as const;

export type ServiceCode = (typeof IS)[keyof typeof IS];

/** An error the adapter decided itself (a vendor rule the engine does not know). */
export class HuaweiServiceError extends Error {
  constructor(readonly error: ServiceCode) {
    super(error.msg);
  }
}

/** API gateway answers: HTTP status, code and message (`request_id` is added when sent). */
export interface GatewayError {
  http: number;
  code: string;
  msg: string;
  /** Why authentication failed (APIGW.0301 answers). */
  reason?: AuthFailure;
}

const IAM_AUTH = 'Incorrect IAM authentication information';

export const GATEWAY = {
  routeNotFound: { http: 404, code: 'APIGW.0101', msg: 'The API does not exist or has not been published in the environment.' },
  badRequest: { http: 400, code: 'APIGW.0201', msg: 'API request error.' },
  tooLarge: { http: 413, code: 'APIGW.0201', msg: 'Request entity too large.' },
  throttled: { http: 429, code: 'APIGW.0308', msg: 'The throttling threshold has been reached.' },
  tokenExpired: { http: 401, code: 'APIG.0307', msg: 'The token must be updated.' },
} as const satisfies Record<string, GatewayError>;

/** 401 APIGW.0301 with the reason after the colon, as the vendor gateway words it. */
export function unauthorized(reason: AuthFailure): GatewayError {
  return { http: 401, code: 'APIGW.0301', msg: `${IAM_AUTH}: ${AUTH_FAILURE_TEXT[reason]}`, reason };
}

/** Which variant answers auth, routing, size and throttling failures (`huawei.errorStyle` in the config). */
export type HuaweiErrorStyle = 'gateway' | 'documented';

/** The API-gateway rows of the ImageSearch error table (表 5-2): all HTTP 400, in the service envelope. */
export const APIG = {
  apiNotFound: { code: 'APIG.0101', msg: 'The API does not exist or has not been published.' },
  bodyOversized: { code: 'APIG.0201', msg: 'The request body is oversized.' },
  tooFast: { code: 'APIG.0308', msg: 'The request is sent too fast and exceeds the default rate limit of the service.' },
} as const;

/**
 * The ImageSearch table's answer for a gateway answer (errorStyle "documented"): no credentials → IS.0013,
 * expired token → IS.0021, any other authentication failure → APIG.0301 with the same reason after the
 * colon, unknown API or method → APIG.0101, body too large → APIG.0201, throttled → APIG.0308. A malformed
 * request (APIGW.0201 400) has no row in the table and keeps its answer (undefined).
 */
export function documentedVariant(error: GatewayError): { code: string; msg: string } | undefined {
  if (error === GATEWAY.routeNotFound) return APIG.apiNotFound;
  if (error === GATEWAY.tooLarge) return APIG.bodyOversized;
  if (error === GATEWAY.throttled) return APIG.tooFast;
  if (error === GATEWAY.tokenExpired) return IS.tokenExpired;
  if (error.reason === 'no_credentials') return IS.tokenEmpty;
  if (error.reason !== undefined) return { code: 'APIG.0301', msg: error.msg };
  return undefined;
}

export type AuthFailure =
  | 'no_credentials'
  | 'malformed_authorization'
  | 'unknown_access_key'
  | 'signature_mismatch'
  | 'date_missing'
  | 'date_skew'
  | 'token_invalid';

const AUTH_FAILURE_TEXT: Record<AuthFailure, string> = {
  no_credentials: 'Authorization not found.',
  malformed_authorization: 'Authorization format incorrect.',
  unknown_access_key: 'Access key not found.',
  signature_mismatch: 'verify aksk signature fail',
  date_missing: 'X-Sdk-Date not found or not signed.',
  // UNVERIFIED: the vendor documents the 15-minute window but not its message.
  date_skew: 'verify aksk signature fail, X-Sdk-Date is more than 15 minutes from the server time',
  token_invalid: 'decrypt token fail',
};

/** IAM answers (POST /v3/auth/tokens). */
export interface IamError {
  http: number;
  message: string;
  title: string;
}

export const IAM = {
  badBody: { http: 400, message: 'The request body is invalid', title: 'Bad Request' },
  wrongPassword: { http: 401, message: 'The username or password is wrong.', title: 'Unauthorized' },
  // UNVERIFIED: a scope naming a project the account does not have.
  noProject: { http: 400, message: 'The project does not exist.', title: 'Bad Request' },
  tooLarge: { http: 413, message: 'The request body is too large.', title: 'Request Entity Too Large' },
} as const satisfies Record<string, IamError>;

/** What index.ts sends: a service error (400, `{error_code, error_msg}`) or a gateway error. */
export type Answer = { kind: 'service'; error: { code: string; msg: string } } | { kind: 'gateway'; error: GatewayError };

/** The status and body of an answer: the envelope of each kind, in one place (index.ts and migration.ts send it). */
export function answerResponse(answer: Answer, requestId: string): { status: number; body: Record<string, unknown> } {
  if (answer.kind === 'gateway') return { status: answer.error.http, body: { error_msg: answer.error.msg, error_code: answer.error.code, request_id: requestId } };
  return { status: 400, body: { error_code: answer.error.code, error_msg: answer.error.msg } };
}

/** Engine field names (from validation of schemas/huawei/*.json or engine checks) → service code. */
const FIELD_CODES: Record<string, { missing: ServiceCode; type: ServiceCode; value: ServiceCode }> = {
  path: { missing: IS.pathMissing, type: IS.wrongType, value: IS.pathMissing },
  name: { missing: IS.missingParameter, type: IS.wrongType, value: IS.invalidInstanceName },
  model: { missing: IS.missingParameter, type: IS.wrongType, value: IS.noModel },
  description: { missing: IS.missingParameter, type: IS.wrongType, value: IS.descriptionTooLong },
  level: { missing: IS.missingParameter, type: IS.wrongType, value: IS.noLevel },
  limit: { missing: IS.badLimit, type: IS.badLimit, value: IS.badLimit },
  offset: { missing: IS.badOffset, type: IS.badOffset, value: IS.badOffset },
  file: { missing: IS.pathMissing, type: IS.wrongType, value: IS.badBase64 },
  tags: { missing: IS.tagsMissing, type: IS.wrongType, value: IS.tooManyTags },
  library: { missing: IS.invalidInstanceName, type: IS.invalidInstanceName, value: IS.invalidInstanceName },
  region: { missing: IS.wrongType, type: IS.wrongType, value: IS.wrongType },
};

/** The kind of complaint in a validation message (adapters/http/validate.ts words them). */
function complaint(message: string): 'missing' | 'type' | 'value' {
  if (/ is required$| must not be empty$/.test(message)) return 'missing';
  if (/ must be an? (string|integer|number|boolean|object|array)/.test(message) || message.includes('request body must be a JSON object')) return 'type';
  return 'value';
}

function fromInvalidArgument(e: InvalidArgumentError): ServiceCode {
  const top = e.field.split(/[.[]/)[0];
  const kind = complaint(e.message);
  if (top === 'body') return IS.wrongType;
  const row = FIELD_CODES[top];
  if (row) return row[kind];
  if (e.field === 'box' || top === 'box' || top === 'is_crop') return IS.wrongType;
  return kind === 'missing' ? IS.missingParameter : IS.wrongType;
}

function fromImage(e: ImageInvalidError): ServiceCode {
  switch (e.reason) {
    case 'empty':
    case 'bad_encoding':
      return IS.badBase64;
    case 'bad_format':
    case 'has_alpha': // never asked of Huawei images; a format the caller refuses
    case 'rotated': // never asked of Huawei images either
      return IS.badFormat;
    case 'corrupt':
      return IS.damaged;
    case 'too_small':
      return IS.imageTooSmall;
    case 'too_large':
    case 'too_many_bytes':
    case 'too_many_pixels':
      return IS.imageTooBig;
    case 'fetch_failed':
      return IS.downloadFailed;
    case 'fetch_refused':
      return IS.notAuthorizedSource;
  }
}

function fromEngine(e: EngineError): Answer {
  const service = (error: ServiceCode): Answer => ({ kind: 'service', error });
  switch (e.kind) {
    case 'invalid_argument':
      return service(fromInvalidArgument(e as InvalidArgumentError));
    case 'image_invalid':
      return service(fromImage(e as ImageInvalidError));
    case 'not_found':
      return service((e as NotFoundError).resource === 'image' ? IS.notIndexed : (e as NotFoundError).resource === 'model' ? IS.modelUnusable : IS.noInstance);
    case 'already_exists':
      return service(IS.instanceExists);
    case 'quota_exceeded':
      return (e as QuotaExceededError).quota === 'queue' ? { kind: 'gateway', error: GATEWAY.throttled } : service(IS.instanceFull);
    case 'not_supported':
      return service(IS.modelUnusable);
    case 'unavailable':
      return service(IS.serviceNotRunning);
    default:
      return service(IS.internal);
  }
}

/** Any thrown value → the answer. Unknown errors are IS.0009 (HTTP 400, as the vendor does) without details. */
export function toHuaweiAnswer(e: unknown): Answer {
  if (e instanceof HuaweiServiceError) return { kind: 'service', error: e.error };
  if (isEngineError(e)) return fromEngine(e);
  if (e instanceof InjectedFault) return FAULT_ANSWERS.get(e.code)!;
  if (e instanceof BodyTooLargeError) return { kind: 'gateway', error: GATEWAY.tooLarge };
  if (e instanceof BodyAbortedError) return { kind: 'gateway', error: GATEWAY.badRequest };
  if (e instanceof SyntaxError) return { kind: 'service', error: IS.badJson };
  // The router could not decode a path parameter (e.g. %E0%A4%A): the API gateway refuses such a request.
  if (e instanceof URIError) return { kind: 'gateway', error: GATEWAY.badRequest };
  return { kind: 'service', error: IS.internal };
}

/** True for answers that hide an unexpected failure (logged by index.ts). */
export function isInternal(answer: Answer): boolean {
  return answer.kind === 'service' && answer.error === IS.internal;
}

/**
 * Fault injection (/_gateway/faults): every IS code and API gateway code by its code (the first row of a
 * code used twice, so APIGW.0201 is the 400). APIGW.0308 (429) is the throttling answer, as for a full
 * embedding queue.
 */
const FAULT_ANSWERS = new Map<string, Answer>([
  ...Object.values(IS).map((error): [string, Answer] => [error.code, { kind: 'service', error }]),
  ...[...Object.values(GATEWAY), unauthorized('token_invalid')].reverse().map((error): [string, Answer] => [error.code, { kind: 'gateway', error }]),
]);

export function huaweiFaultCatalog(operations: readonly string[]): FaultCatalog {
  return { codes: [...FAULT_ANSWERS.keys()], throttle: GATEWAY.throttled.code, operations };
}
