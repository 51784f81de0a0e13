/**
 * The shapes the parity machinery passes around: a scenario's request before signing, the answer as
 * received, one recorded step, and what a vendor contributes (signing client, scenario, normalising hints).
 * A vendor's scenario lives in adapters/<vendor>/parity.ts; everything generic lives in this folder.
 */

/** One request of a scenario, before signing: the body is already serialised (JSON or form text). */
export interface ParityRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path as sent, already percent-encoded where needed. */
  path: string;
  query?: Array<[string, string]>;
  contentType?: string;
  body?: string;
  /** Vendor headers that are part of the request itself, not of its signature (e.g. x-acs-action). */
  headers?: Record<string, string>;
}

/** An answer as received; body is the parsed JSON, or the text when it is not JSON. */
export interface ParityResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** One step as written to NN-name.json: both halves normalised, nothing secret in either. */
export interface RecordedStep {
  step: string;
  request: { method: string; path: string; query?: Record<string, string>; headers?: Record<string, string>; body?: unknown };
  response: { status: number; contentType?: string; body?: unknown } | { error: string };
}

/** The per-request inputs of a signature: the clock and a fresh random nonce (fixed in tests). */
export interface SigningStamp {
  now: Date;
  /** 64 hex characters. */
  nonce: string;
}

/** Signs a request for the endpoint: returns every header to send (the request's own ones included). */
export type Signer = (req: ParityRequest, url: URL, body: Buffer, stamp: SigningStamp) => Record<string, string>;

export interface ScenarioContext {
  /** The unique prefix of everything this run creates (e.g. isgp-k3x9q2mz). */
  readonly scratch: string;
  /**
   * Sends (or in a dry run prints) one step; undefined in a dry run. With `until`, the request is sent again
   * (every POLL_INTERVAL_MS, for at most the run's max wait) until the answer satisfies it: a vendor may
   * index a write a few seconds late. Every try counts against the bound; only the last answer is recorded.
   */
  step(name: string, req: ParityRequest, options?: { until?: (res: ParityResponse) => boolean }): Promise<ParityResponse | undefined>;
}

/** A vendor's scenario bound to one set of credentials. */
export interface VendorSession {
  sign: Signer;
  /** Values of this account that become stable tokens in a recording (longest first is not required). */
  known: Array<[value: string, token: string]>;
  /** Secrets that must never appear in a recording (checked before each file is written). */
  secrets: string[];
  /** Runs once before the scenario (e.g. gets an IAM token); not a recorded step; skipped in a dry run. */
  prepare?(endpoint: URL): Promise<void>;
  /** The scenario's steps; it may stop early (a failed request, the bound): cleanup runs anyway. */
  main(ctx: ScenarioContext): Promise<void>;
  /** Deletes everything main may have created; the same steps whatever happened before. */
  cleanup(ctx: ScenarioContext): Promise<void>;
}

export interface VendorParity {
  vendor: string;
  /** Bumped when the scenario's steps change: a recording and a check must run the same scenario. */
  scenarioVersion: number;
  /** The shape of this vendor's entry in the credentials file, for --help and errors. */
  credentialsShape: string;
  /**
   * Binds the scenario to credentials (the vendor's entry of the credentials file; undefined when no file
   * was given, allowed for a dry run and for an open-mode gateway). Throws a one-line Error when unusable.
   */
  session(credentials: unknown, scratch: string): Promise<VendorSession>;
  /** Keys (anywhere in a body) whose non-empty string value is an opaque cursor / id to tokenise. */
  opaqueKeys?: string[];
  /** Request headers of the vendor's signing that a dry run shows as <removed> (Authorization always is). */
  hiddenHeaders?: string[];
}
