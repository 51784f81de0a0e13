/**
 * Typed engine errors. Adapters map `kind` (and `reason` for images) to their vendor's status and code
 * through one table each (adapters/<vendor>/errors.ts); nothing in core knows a vendor code.
 */
export type ErrorKind =
  | 'not_found'
  | 'already_exists'
  | 'invalid_argument'
  | 'image_invalid'
  | 'quota_exceeded'
  | 'not_supported'
  | 'unavailable'
  | 'internal';

/** What a not_found / already_exists error is about. */
export type ResourceKind = 'library' | 'image' | 'task' | 'model';

/** Why an image was refused. */
export type ImageInvalidReason =
  | 'empty' // no bytes at all
  | 'bad_encoding' // not valid base64 / data URI
  | 'bad_format' // not an image, or a format the caller does not accept
  | 'corrupt' // a known format that fails to decode (truncated, damaged)
  | 'too_small' // a side below the caller's minimum
  | 'too_large' // a side above the caller's maximum
  | 'too_many_bytes' // more bytes than the caller allows
  | 'too_many_pixels' // pixel-bomb guard
  | 'has_alpha' // an alpha channel, where the caller refuses one
  | 'rotated' // an EXIF rotation flag, where the caller refuses one
  | 'fetch_failed' // a URL source could not be downloaded
  | 'fetch_refused'; // a URL source points where the SSRF guard does not allow

export class EngineError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

export class NotFoundError extends EngineError {
  constructor(
    readonly resource: ResourceKind,
    readonly key: string,
    message = `${resource} '${key}' does not exist`,
  ) {
    super('not_found', message);
  }
}

export class AlreadyExistsError extends EngineError {
  constructor(
    readonly resource: ResourceKind,
    readonly key: string,
    message = `${resource} '${key}' already exists`,
  ) {
    super('already_exists', message);
  }
}

export class InvalidArgumentError extends EngineError {
  constructor(
    /** The request field at fault, in the engine's words (adapters translate it when they need to). */
    readonly field: string,
    message: string,
  ) {
    super('invalid_argument', message);
  }
}

export class ImageInvalidError extends EngineError {
  constructor(
    readonly reason: ImageInvalidReason,
    message: string,
  ) {
    super('image_invalid', message);
  }
}

export class QuotaExceededError extends EngineError {
  constructor(
    readonly quota: 'library_capacity' | 'libraries' | 'queue',
    message: string,
  ) {
    super('quota_exceeded', message);
  }
}

/** The operation exists but this library (its mode or its model) cannot do it, e.g. text search. */
export class NotSupportedError extends EngineError {
  constructor(
    readonly feature: 'text_search' | 'mixed_models',
    message: string,
    /** Which library refused, and whether its mode or its model is the cause. */
    readonly detail: { library?: string; mode?: string; cause?: 'mode' | 'model' } = {},
  ) {
    super('not_supported', message);
  }
}

export class UnavailableError extends EngineError {
  constructor(message: string) {
    super('unavailable', message);
  }
}

export function isEngineError(e: unknown): e is EngineError {
  return e instanceof EngineError;
}
