/**
 * The control plane's own error envelope, {"error": {"code", "message"}}, and the codes it uses. The
 * control plane is the gateway's API, not a vendor's, so it has one shape of its own.
 */
import type { Response } from 'express';
import { isEngineError, type InvalidArgumentError } from '../../core/errors';
import { BodyTooLargeError } from '../http/raw-body';

export function sendControlError(res: Response, http: number, code: string, message: string): void {
  res.status(http).json({ error: { code, message } });
}

/** Any thrown value → the control plane's answer (never a stack trace). */
export function sendThrown(res: Response, e: unknown): void {
  if (isEngineError(e) && e.kind === 'invalid_argument') return sendControlError(res, 400, 'INVALID_ARGUMENT', (e as InvalidArgumentError).message);
  if (isEngineError(e) && e.kind === 'not_found') return sendControlError(res, 404, 'NOT_FOUND', e.message);
  if (e instanceof SyntaxError) return sendControlError(res, 400, 'INVALID_ARGUMENT', 'The request body is not valid JSON.');
  if (e instanceof BodyTooLargeError) return sendControlError(res, 413, 'PAYLOAD_TOO_LARGE', e.message);
  sendControlError(res, 500, 'INTERNAL', 'Internal error.');
}
