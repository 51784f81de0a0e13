/**
 * Runs a vendor's scenario against an endpoint: signs and sends each step (or prints it in a dry run),
 * stops the scenario at the request bound, always runs the cleanup steps afterwards (also after a failure),
 * and turns every step into a normalised RecordedStep. Knows no vendor.
 */
import { randomBytes } from 'node:crypto';
import { imageTokens, scenarioImages } from './images';
import { Normaliser } from './normalise';
import type { ParityRequest, ParityResponse, RecordedStep, ScenarioContext, VendorParity } from './types';

export const DEFAULT_MAX_REQUESTS = 60;
/** Cleanup steps are sent even past the bound, so nothing is left behind; a scenario has at most this many. */
export const CLEANUP_ALLOWANCE = 10;
/** How long, and how often, a step waits for a vendor to show a write (ScenarioContext.step's until). */
export const DEFAULT_MAX_WAIT_MS = 30_000;
export const POLL_INTERVAL_MS = 2000;
/** A vendor that does not answer one request in this time fails the step (and the scenario stops). */
export const REQUEST_TIMEOUT_MS = 120_000;

export interface RunOptions {
  endpoint: string;
  credentials: unknown;
  maxRequests?: number;
  /** Print every request instead of sending it. */
  dryRun?: boolean;
  print?: (line: string) => void;
  /** Longest wait of a step for a write to show (default DEFAULT_MAX_WAIT_MS; 0: no second try). */
  maxWaitMs?: number;
  pollIntervalMs?: number;
  /** Fixed scratch prefix (tests); by default isgp- and 8 random characters. */
  scratch?: string;
}

export interface RunResult {
  steps: RecordedStep[];
  /** Why the scenario stopped early (a step failed to send, the bound), or undefined. */
  stopped?: string;
  /** The secrets the recording must not contain. */
  secrets: string[];
}

class BoundReached extends Error {}

/** A unique prefix: lower-case letters and digits only, valid as every vendor's group/instance name. */
export function newScratchName(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return `isgp-${[...randomBytes(8)].map((b) => alphabet[b % alphabet.length]).join('')}`;
}

export async function runScenario(vendor: VendorParity, opts: RunOptions): Promise<RunResult> {
  const base = new URL(opts.endpoint);
  const scratch = opts.scratch ?? newScratchName();
  const session = await vendor.session(opts.credentials, scratch);
  const images = await scenarioImages();
  const normaliser = new Normaliser({
    known: [[scratch, '<scratch>'], [base.host, '<host>'], ...imageTokens(images), ...session.known],
    opaqueKeys: vendor.opaqueKeys,
  });
  const max = opts.maxRequests ?? DEFAULT_MAX_REQUESTS;
  const print = opts.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const steps: RecordedStep[] = [];
  let sent = 0;
  const cleanupFailures: string[] = [];

  const interval = opts.pollIntervalMs ?? POLL_INTERVAL_MS;
  const tries = 1 + Math.floor((opts.maxWaitMs ?? DEFAULT_MAX_WAIT_MS) / Math.max(interval, 1));
  const stamp = () => ({ now: new Date(), nonce: randomBytes(32).toString('hex') });
  /** keepGoing (cleanup): a request that fails is recorded and the next cleanup step is still tried. */
  const context = (limit: number, keepGoing = false): ScenarioContext => ({
    scratch,
    async step(name, req, options) {
      const url = new URL(req.path, base);
      for (const [k, v] of req.query ?? []) url.searchParams.append(k, v);
      const body = Buffer.from(req.body ?? '', 'utf8');
      const recorded: RecordedStep = { step: name, request: describeRequest(req, normaliser), response: { error: 'not sent' } };
      if (opts.dryRun) {
        if (sent >= limit) throw new BoundReached(`stopped at the request bound (${max}) before step ${name}`);
        sent++;
        print(dryRunText(steps.length + 1, name, req, url, session.sign(req, url, body, stamp()), normaliser, vendor.hiddenHeaders ?? []));
        steps.push(recorded);
        return undefined;
      }
      let response: ParityResponse | undefined;
      for (let attempt = 1; ; attempt++) {
        if (sent >= limit) {
          if (response === undefined) throw new BoundReached(`stopped at the request bound (${max}) before step ${name}`);
          break; // record the last answer; the next step meets the bound
        }
        sent++;
        try {
          response = await send(url, req, session.sign(req, url, body, stamp()), body);
        } catch (err) {
          recorded.response = { error: `request failed: ${(err as Error).message}` };
          steps.push(recorded);
          if (keepGoing) {
            cleanupFailures.push(name);
            return undefined;
          }
          throw err;
        }
        if (!options?.until || options.until(response) || attempt >= tries) break;
        await new Promise((resolve) => setTimeout(resolve, interval));
      }
      recorded.response = {
        status: response.status,
        contentType: response.headers['content-type']?.split(';')[0].trim(),
        body: normaliser.value(response.body),
      };
      steps.push(recorded);
      return response;
    },
  });

  if (!opts.dryRun) await session.prepare?.(base);
  let stopped: string | undefined;
  try {
    await session.main(context(max));
  } catch (err) {
    stopped = err instanceof BoundReached ? err.message : `the scenario stopped: ${(err as Error).message}`;
  } finally {
    try {
      await session.cleanup(context(max + CLEANUP_ALLOWANCE, true));
      if (cleanupFailures.length > 0) stopped = `${stopped ? `${stopped}; ` : ''}cleanup steps failed: ${cleanupFailures.join(', ')} (delete what they name by hand)`;
    } catch (err) {
      stopped = `${stopped ? `${stopped}; ` : ''}cleanup failed: ${(err as Error).message}`;
    }
  }
  return { steps, stopped, secrets: session.secrets };
}

async function send(url: URL, req: ParityRequest, headers: Record<string, string>, body: Buffer): Promise<ParityResponse> {
  const res = await fetch(url, { method: req.method, headers, body: req.body === undefined ? undefined : body, redirect: 'manual', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // Not JSON (an HTML error page of a proxy, say): kept as text.
  }
  const out: Record<string, string> = {};
  res.headers.forEach((v, k) => (out[k] = v));
  return { status: res.status, headers: out, body: parsed };
}

/** The request as recorded: before signing (no Authorization, date or signature), normalised. */
function describeRequest(req: ParityRequest, n: Normaliser): RecordedStep['request'] {
  const out: RecordedStep['request'] = { method: req.method, path: n.text(req.path) };
  if (req.query && req.query.length > 0) out.query = n.value(Object.fromEntries(req.query)) as Record<string, string>;
  if (req.headers) out.headers = n.value(req.headers) as Record<string, string>;
  if (req.body !== undefined) out.body = n.value(parseBody(req));
  return out;
}

function parseBody(req: ParityRequest): unknown {
  if (req.contentType?.startsWith('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(req.body));
  try {
    return JSON.parse(req.body ?? '');
  } catch {
    return req.body;
  }
}

function dryRunText(n: number, name: string, req: ParityRequest, url: URL, headers: Record<string, string>, normaliser: Normaliser, hidden: string[]): string {
  const secret = new Set(['authorization', ...hidden.map((h) => h.toLowerCase())]);
  const shown = Object.entries(headers).map(([k, v]) => `    ${k}: ${secret.has(k.toLowerCase()) ? '<removed>' : v}`);
  const body = req.body === undefined ? '' : `\n    ${JSON.stringify(normaliser.value(parseBody(req)))}`;
  return `${String(n).padStart(2, '0')} ${name}\n  ${req.method} ${url.href}\n${shown.join('\n')}${body}`;
}

/** Throws when a secret made it into a step (a vendor echoing a key in an error message, say). */
export function assertNoSecret(steps: RecordedStep[], secrets: string[]): void {
  const text = JSON.stringify(steps);
  for (const secret of secrets) {
    if (secret.length >= 4 && text.includes(secret)) throw new Error('a credential appears in the recording; nothing was written');
  }
}
