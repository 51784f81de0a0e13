/**
 * Normalisers: turn an answer into data two runs of the same behaviour agree on byte for byte, the way
 * LocalStack's snapshot transformers do. Replaced by stable tokens:
 *   - values of this account and run (scratch prefix, project id, instance, host, images' Base64): <token>
 *   - request ids (keys named like request_id / RequestId, and those values wherever else they appear)
 *   - timestamps (ISO 8601 / RFC 1123 / compact YYYYMMDDTHHMMSSZ text, and epoch numbers under *time* keys)
 *   - scores (score / Score / sim): "<score>" when a number in [0, 1] not above the previous result's,
 *     "<score:rises>" when above it (results out of order), "<score:out-of-range>" otherwise
 *   - durations (SearchTime, took ...): "<duration>"
 *   - opaque cursors named by the vendor (marker, next_cursor ...): "<cursor>" when non-empty
 * Everything else is kept as received, including key order and array order.
 */

export interface NormaliseRules {
  /** Exact values to replace inside any string, e.g. ['isgp-k3x9q2mz', '<scratch>']. */
  known: Array<[value: string, token: string]>;
  /** Keys whose non-empty string value is opaque (a paging cursor, a generated id). */
  opaqueKeys?: string[];
}

const REQUEST_ID_KEYS = new Set(['request_id', 'requestid', 'x-request-id', 'x-reqid', 'x-log']);
const SCORE_KEYS = new Set(['score', 'sim']);
/** Time taken to answer (e.g. Head.SearchTime): a measurement, never behaviour. */
const DURATION_KEYS = new Set(['searchtime', 'took', 'elapsed', 'latency', 'cost_ms', 'duration']);
const TIME_KEY = /(^|_|-)(time|date|at)$|[a-z](Time|Date|At)$/;
const TIMESTAMP = /\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?\b|\b\d{8}T\d{6}Z\b|\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT\b/g;

/** Fixed far-future or sentinel dates some APIs answer with are behaviour, not a clock: kept. */
const KEPT_TIMES = new Set(['2100-01-01T00:00:00Z', '2100-01-01T00:00:00.000Z']);

export class Normaliser {
  private readonly known: Array<[string, string]>;
  private readonly opaque: Set<string>;

  constructor(rules: NormaliseRules) {
    // Longest first, so a value containing another (scratch-x contains scratch) is replaced whole.
    this.known = rules.known.filter(([v]) => v.length > 0).sort(([a], [b]) => b.length - a.length);
    this.opaque = new Set((rules.opaqueKeys ?? []).map((k) => k.toLowerCase()));
  }

  /** Normalises a value (a body, a query object) and returns a new one. */
  value(input: unknown): unknown {
    const requestIds = new Set<string>();
    collectRequestIds(input, requestIds);
    const extra: Array<[string, string]> = [...requestIds].filter((id) => id.length >= 8).map((id) => [id, '<request-id>']);
    return this.walk(input, undefined, [...extra, ...this.known]);
  }

  /** Normalises one string (a path, a header value). */
  text(input: string): string {
    return this.replaceKnown(input, this.known);
  }

  private walk(input: unknown, key: string | undefined, known: Array<[string, string]>, previousScore?: number): unknown {
    const k = key?.toLowerCase();
    if (typeof input === 'string') {
      if (k !== undefined && REQUEST_ID_KEYS.has(k) && input !== '') return '<request-id>';
      if (k !== undefined && this.opaque.has(k) && input !== '') return '<cursor>';
      return this.replaceKnown(input, known).replace(TIMESTAMP, (t) => (KEPT_TIMES.has(t) ? t : '<timestamp>'));
    }
    if (typeof input === 'number') {
      if (k !== undefined && SCORE_KEYS.has(k)) return scoreToken(input, previousScore);
      if (k !== undefined && DURATION_KEYS.has(k)) return '<duration>';
      if (key !== undefined && TIME_KEY.test(key) && input > 1e9) return '<timestamp>';
      return input;
    }
    if (Array.isArray(input)) {
      let previous: number | undefined;
      return input.map((item) => {
        const out = this.walk(item, undefined, known, previous);
        previous = scoreOf(item) ?? previous;
        return out;
      });
    }
    if (input !== null && typeof input === 'object') {
      const out: Record<string, unknown> = {};
      for (const [name, v] of Object.entries(input)) out[this.replaceKnown(name, known)] = this.walk(v, name, known, previousScore);
      return out;
    }
    return input;
  }

  private replaceKnown(text: string, known: Array<[string, string]>): string {
    let out = text;
    for (const [value, token] of known) if (out.includes(value)) out = out.split(value).join(token);
    return out;
  }
}

function scoreToken(score: number, previous: number | undefined): string {
  if (!Number.isFinite(score) || score < 0 || score > 1) return '<score:out-of-range>';
  if (previous !== undefined && score > previous) return '<score:rises>';
  return '<score>';
}

/** The score of one result object (the first score-named number among its own keys). */
function scoreOf(item: unknown): number | undefined {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) return undefined;
  for (const [name, v] of Object.entries(item)) if (SCORE_KEYS.has(name.toLowerCase()) && typeof v === 'number') return v;
  return undefined;
}

function collectRequestIds(input: unknown, into: Set<string>, key?: string): void {
  if (typeof input === 'string' && key !== undefined && REQUEST_ID_KEYS.has(key.toLowerCase()) && input !== '') into.add(input);
  else if (Array.isArray(input)) input.forEach((v) => collectRequestIds(v, into));
  else if (input !== null && typeof input === 'object') for (const [k, v] of Object.entries(input)) collectRequestIds(v, into, k);
}
