/**
 * What a failed Qdrant request means to the engine. Unreachable, timed out, overloaded or a 5xx → core's
 * UnavailableError (every adapter answers its vendor's service-unavailable error); idempotent reads are
 * retried a bounded number of times first. Writes are not retried here: an unanswered write is reported
 * unavailable and never acknowledged (an upsert may then be repeated safely by the caller: ids are
 * deterministic). Anything else is a bug and stays an ordinary Error (internal).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { UnavailableError } from '../../errors';

/** HTTP statuses that mean "try again later", not "your request is wrong". */
const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);

/** Network error codes of node's fetch (undici) and the OS that mean the server cannot be reached. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

export function httpStatusOf(e: unknown): number | undefined {
  const status = (e as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

/**
 * A short reason when `e` means Qdrant is unavailable, else undefined. Errors are recognised by name and
 * code, not by class: fetch's errors (TypeError, DOMException) may come from another realm.
 */
export function unavailableReason(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const name = (e as { name?: unknown }).name;
  if (name === 'QdrantClientTimeoutError' || name === 'AbortError' || name === 'TimeoutError') return 'request timed out';
  if (name === 'QdrantClientResourceExhaustedError') return 'overloaded (429)';
  const status = httpStatusOf(e);
  if (status !== undefined) return RETRYABLE_STATUS.has(status) ? `answered HTTP ${status}` : undefined;
  for (let cause: unknown = e, depth = 0; typeof cause === 'object' && cause !== null && depth < 5; depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return `unreachable (${code})`;
    cause = (cause as { cause?: unknown }).cause;
  }
  if (name === 'TypeError' && (e as { message?: unknown }).message === 'fetch failed') return 'unreachable';
  return undefined;
}

/** Qdrant answered 404: a collection (or point) that does not exist. */
export function isNotFound(e: unknown): boolean {
  return httpStatusOf(e) === 404;
}

/** Error text Qdrant put in its answer, for messages (never the request, which may hold image bytes). */
export function qdrantMessage(e: unknown): string {
  const data = (e as { data?: { status?: { error?: unknown } } } | null)?.data;
  const detail = data?.status?.error;
  const message = (e as { message?: unknown } | null)?.message;
  return typeof detail === 'string' ? detail : typeof message === 'string' ? message : String(e);
}

export function toEngineError(e: unknown): unknown {
  const reason = unavailableReason(e);
  if (reason !== undefined) return new UnavailableError(`vector store unavailable: ${reason}`);
  if (httpStatusOf(e) !== undefined) {
    return new Error(`qdrant answered HTTP ${httpStatusOf(e)}: ${qdrantMessage(e)}`);
  }
  return e;
}

/** Backoff before retry `attempt` (1-based): 50 ms, 200 ms, 800 ms, ... */
export function retryDelayMs(attempt: number): number {
  return 50 * 4 ** (attempt - 1);
}

/** Runs an idempotent read; on an unavailable answer tries up to `retries` more times. */
export async function readWithRetries<T>(retries: number, run: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (e) {
      if (attempt >= retries || unavailableReason(e) === undefined) throw toEngineError(e);
      await sleep(retryDelayMs(attempt + 1));
    }
  }
}

/** Runs a write once; failures become engine errors. */
export async function writeOnce<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    throw toEngineError(e);
  }
}
