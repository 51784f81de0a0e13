/**
 * The one Alibaba error table: every code the gateway answers, with its HTTP status and message
 * (shared/specs/alibaba.md §6; platform codes §6.3), the error envelope
 * {"RequestId","HostId","Code","Message","Recommend"}, and the mapping of engine errors onto codes.
 * Codes not in the vendor documents are marked project-defined in docs/compatibility/alibaba.md.
 */
import { randomUUID } from 'node:crypto';
import type { Response } from 'express';
import { BodyAbortedError, BodyTooLargeError } from '../http/raw-body';
import { InjectedFault, noteError, type FaultCatalog } from '../http/observe';
import { isEngineError, type EngineError, type ImageInvalidError, type InvalidArgumentError, type NotFoundError } from '../../core/errors';

export const ERRORS = {
  // 400, from the vendor's tables
  BadRequest: [400, 'The request has invalid parameters.'],
  InvalidInstance: [400, 'The specified instance name is invalid.'],
  InvalidInstanceName: [400, 'The parameter instanceName is not specified.'],
  NoCaretSeperator: [400, 'The body content is missing the ^ separator.'],
  EmptyMeta: [400, 'The body content has an empty meta field.'],
  InvalidMetaItem: [400, 'The meta field is invalid.'],
  NoPicList: [400, 'The body content is missing the pic_list parameter.'],
  InvalidPicList: [400, 'The specified pic_list parameter is invalid.'],
  NoSpecifiedProductId: [400, 'The parameter ProductId no specified.'],
  NoSpecifiedPicName: [400, 'The parameter PicName no specified.'],
  NoSpecifiedPicContent: [400, 'The parameter PicContent no specified.'],
  InvalidCategory: [400, 'The specified category is invalid.'],
  OverflowMaxResultNum: [400, 'The specified number of total results exceeds the maximum of 500.'],
  OverflowMaxReturnNum: [400, 'The specified number of results for each request exceeds the maximum of 100.'],
  InvalidStartParameter: [400, 'The specified parameter start is invalid.'],
  InvalidNumParameter: [400, 'The specified parameter num is invalid.'],
  InvalidIntAttr: [400, 'The specified int_attr field is invalid.'],
  InvalidIntAttr2: [400, 'The specified int_attr2 field is invalid.'],
  InvalidIntAttr3: [400, 'The specified int_attr3 field is invalid.'],
  InvalidIntAttr4: [400, 'The specified int_attr4 field is invalid.'],
  InvalidStrAttr: [400, 'The specified str_attr field is invalid.'],
  InvalidStrAttr2: [400, 'The specified str_attr2 field is invalid.'],
  InvalidStrAttr3: [400, 'The specified str_attr3 field is invalid.'],
  InvalidStrAttr4: [400, 'The specified str_attr4 field is invalid.'],
  InvalidCustomContent: [400, 'The specified custom content is invalid.'],
  InvalidPicName: [400, 'The specified PicName is invalid.'],
  InvalidProductId: [400, 'The specified ProductId is invalid.'],
  InvalidPicContent: [400, 'PicContent length greater than 4 * 1024 * 1024'],
  InvalidPicUrl: [400, 'The specified picture url is invalid.'],
  InvalidRegion: [400, 'The specified region is invalid.'],
  InvalidText: [400, 'The specified text is invalid.'],
  InvalidTextLength: [400, 'Invalid text clause.'],
  InvalidFilterClause: [400, 'The specified filtering condition is invalid.'],
  InstanceOverQuota: [400, 'The number of items exceeds the limit.'],
  IncorrectOrientation: [400, 'The image contains incorrect rotation flags in the meta data.'],
  UnsupportedPicFormat: [400, 'The specified image format is invalid.'],
  UnsupportedPicPixels: [400, 'The specified pixels is not supported.'],
  PicNotExist: [400, 'The search picture does not exist.'],
  InvalidPrimaryPicContent: [400, 'The specified primary picture content is invalid.'],
  InvalidSecondaryPicContent: [400, 'The specified secondary picture content is invalid.'],
  'Console.BadRequest': [400, 'The request has invalid parameters.'],
  'Console.InstanceNotFound': [400, 'The specified ImageSearch instance is not found.'],
  // platform (POP) codes, §6.3
  MissingParameter: [400, 'A required parameter is not supplied.'],
  IncompleteSignature: [400, 'The request signature does not conform to Aliyun standards.'],
  SignatureDoesNotMatch: [400, 'Specified signature is not matched with our calculation.'],
  SignatureNonceUsed: [400, 'Specified signature nonce was used already.'],
  'InvalidTimeStamp.Expired': [400, 'Specified time stamp or date value is expired.'],
  'InvalidTimeStamp.Format': [400, 'Specified time stamp or date value is not well formatted.'],
  InvalidVersion: [400, 'Specified parameter Version is not valid.'],
  'InvalidAccessKeyId.NotFound': [404, 'Specified access key is not found.'],
  'InvalidAction.NotFound': [404, 'Specified api is not found, please check your url and method.'],
  // 403 / 409
  NoPermission: [403, 'You are not authorized to perform this operation.'],
  DeniedRequest: [403, 'Your request was denied due to instance flow control.'],
  'Console.TaskAlreadyExist': [409, 'The task already exists.'],
  // 500 / 503
  PictureError: [500, '[download] Img Download Failed.'],
  UnsupportedInstanceType: [500, 'The instance type is not supported.'],
  UnknownException: [500, 'An internal server error occurred.'],
  ServiceUnavailable: [503, 'The request has failed due to a temporary failure of the server.'],
} as const satisfies Record<string, readonly [number, string]>;

export type ErrorCode = keyof typeof ERRORS;

/** An answer in the vendor's error envelope; thrown by the adapter, answered by index.ts. */
export class AlibabaError extends Error {
  readonly status: number;
  /**
   * What exactly was wrong, for the log only, where the answer must carry the table's message word for word
   * (BadRequest: "The request has invalid parameters.").
   */
  detail?: string;
  constructor(
    readonly code: ErrorCode,
    message?: string,
  ) {
    super(message ?? ERRORS[code][1]);
    this.status = ERRORS[code][0];
  }

  /** BadRequest with the documented message; the detail goes to the log (index.ts), not on the wire. */
  static badRequest(detail: string): AlibabaError {
    const error = new AlibabaError('BadRequest');
    error.detail = detail;
    return error;
  }
}

/** Upper-case UUID, as the vendor's RequestId. */
export function newRequestId(): string {
  return randomUUID().toUpperCase();
}

/** Which code a request parameter's errors take: when it is missing, when it is invalid, when too large. */
export const PARAM_ERRORS: Record<string, { missing?: ErrorCode; invalid: ErrorCode; overflow?: ErrorCode }> = {
  InstanceName: { missing: 'InvalidInstanceName', invalid: 'InvalidInstance' },
  ProductId: { missing: 'NoSpecifiedProductId', invalid: 'InvalidProductId' },
  PicName: { missing: 'NoSpecifiedPicName', invalid: 'InvalidPicName' },
  PicContent: { missing: 'NoSpecifiedPicContent', invalid: 'InvalidPicContent' },
  PrimaryPicContent: { missing: 'InvalidPrimaryPicContent', invalid: 'InvalidPrimaryPicContent' },
  SecondaryPicContent: { missing: 'InvalidSecondaryPicContent', invalid: 'InvalidSecondaryPicContent' },
  CategoryId: { invalid: 'InvalidCategory' },
  Num: { invalid: 'InvalidNumParameter', overflow: 'OverflowMaxReturnNum' },
  Start: { invalid: 'InvalidStartParameter', overflow: 'OverflowMaxResultNum' },
  Region: { invalid: 'InvalidRegion' },
  region: { invalid: 'InvalidRegion' }, // core's name for a region outside the image
  Filter: { missing: 'InvalidFilterClause', invalid: 'InvalidFilterClause' },
  Text: { missing: 'InvalidText', invalid: 'InvalidText', overflow: 'InvalidTextLength' },
  CustomContent: { invalid: 'InvalidCustomContent' },
  IntAttr: { invalid: 'InvalidIntAttr' },
  IntAttr2: { invalid: 'InvalidIntAttr2' },
  IntAttr3: { invalid: 'InvalidIntAttr3' },
  IntAttr4: { invalid: 'InvalidIntAttr4' },
  StrAttr: { invalid: 'InvalidStrAttr' },
  StrAttr2: { invalid: 'InvalidStrAttr2' },
  StrAttr3: { invalid: 'InvalidStrAttr3' },
  StrAttr4: { invalid: 'InvalidStrAttr4' },
};

/** Image errors by core reason, for PicContent (the Compare action renames them, see imageError). */
function imageCode(e: ImageInvalidError): ErrorCode {
  switch (e.reason) {
    case 'bad_format':
      return 'UnsupportedPicFormat';
    case 'too_small':
    case 'too_large':
    case 'too_many_pixels':
      return 'UnsupportedPicPixels';
    case 'fetch_refused':
      return 'InvalidPicUrl';
    case 'fetch_failed':
      return 'PictureError';
    case 'rotated':
      return 'IncorrectOrientation';
    default:
      return 'InvalidPicContent'; // empty, bad_encoding, corrupt, too_many_bytes
  }
}

/** The error for an image parameter; `field` names PrimaryPicContent / SecondaryPicContent for Compare. */
export function imageError(e: ImageInvalidError, field = 'PicContent'): AlibabaError {
  const code = imageCode(e);
  if (field === 'PicContent' || code === 'UnsupportedPicFormat' || code === 'UnsupportedPicPixels' || code === 'IncorrectOrientation') return new AlibabaError(code);
  return new AlibabaError(PARAM_ERRORS[field].invalid);
}

/** Which action family speaks of a missing instance as Console.InstanceNotFound instead of InvalidInstance. */
export type InstanceErrorStyle = 'data' | 'console';

function fromEngine(e: EngineError, style: InstanceErrorStyle): AlibabaError {
  switch (e.kind) {
    case 'not_found': {
      const nf = e as NotFoundError;
      if (nf.resource === 'image') return new AlibabaError('PicNotExist');
      if (nf.resource === 'library') return new AlibabaError(style === 'console' ? 'Console.InstanceNotFound' : 'InvalidInstance');
      return new AlibabaError('BadRequest');
    }
    case 'invalid_argument': {
      const field = (e as InvalidArgumentError).field;
      const code = PARAM_ERRORS[field]?.invalid;
      return code ? new AlibabaError(code) : AlibabaError.badRequest(e.message);
    }
    case 'image_invalid':
      return imageError(e as ImageInvalidError);
    case 'quota_exceeded':
      return (e as { quota?: string }).quota === 'library_capacity' ? new AlibabaError('InstanceOverQuota') : new AlibabaError('DeniedRequest');
    case 'not_supported':
      return new AlibabaError('UnsupportedInstanceType');
    case 'unavailable':
      return new AlibabaError('ServiceUnavailable');
    default:
      return new AlibabaError('UnknownException');
  }
}

/** Any thrown value → the error to answer. Unknown errors are UnknownException (500), without details. */
export function toAlibabaError(e: unknown, style: InstanceErrorStyle = 'data'): AlibabaError {
  if (e instanceof AlibabaError) return e;
  if (isEngineError(e)) return fromEngine(e, style);
  if (e instanceof InjectedFault) return new AlibabaError(e.code as ErrorCode);
  if (e instanceof BodyTooLargeError) return new AlibabaError('InvalidPicContent');
  if (e instanceof BodyAbortedError) return new AlibabaError('BadRequest');
  return new AlibabaError('UnknownException');
}

/** Writes the vendor's error envelope. `host` is the Host the client called (HostId). */
export function sendError(res: Response, error: AlibabaError, requestId: string, host: string | undefined): void {
  noteError(res, error.code);
  res.status(error.status).json({
    RequestId: requestId,
    HostId: host ?? 'imagesearch.aliyuncs.com',
    Code: error.code,
    Message: error.message,
    Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(error.code)}&product=ImageSearch&requestId=${requestId}`,
  });
}

/** Fault injection (/_gateway/faults): any code of the table; DeniedRequest is the throttling answer (as for a full queue). */
export function alibabaFaultCatalog(operations: readonly string[]): FaultCatalog {
  return { codes: Object.keys(ERRORS), throttle: 'DeniedRequest' satisfies ErrorCode, operations };
}
