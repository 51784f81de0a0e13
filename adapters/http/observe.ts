/**
 * The one hook every vendor adapter calls, so the control plane can see and steer its requests without
 * knowing any vendor:
 *   - `observe(res, vendor, operation)` names the request (request log, metrics, logs);
 *   - `noteError(res, code)` records the vendor error code the adapter answered;
 *   - `await injectFault(res)` applies a fault injected through /_gateway/faults (added latency, and an
 *     error the adapter then renders itself, from its own errors.ts table).
 * The state lives on res.locals (put there by the control plane's middleware), so an adapter mounted
 * without the control plane (a unit test) runs unchanged.
 */
import type { Response } from 'express';

/** A vendor adapter's name (adapters/vendor.ts VendorAdapter.name). */
export type Vendor = string;

/** What the control plane learns about one request. */
export interface Observation {
  vendor?: Vendor;
  operation?: string;
  /** The vendor's error code, as the adapter names it (its errors.ts). */
  errorCode?: string;
  tenant?: string;
  /** Set when an injected fault answered the request. */
  fault?: string;
}

/** A fault to apply: wait `latencyMs`, then answer `code` (a code of the vendor's table) when set. */
export interface FaultDecision {
  latencyMs: number;
  code?: string;
}

/** Chooses the fault for a request (adapters/control/faults.ts implements it). */
export interface FaultSource {
  decide(vendor: Vendor, operation: string): FaultDecision | undefined;
}

/** What each vendor tells the fault injector: the codes it can answer and its throttling code. */
export interface FaultCatalog {
  codes: readonly string[];
  throttle: string;
  operations: readonly string[];
}

/** An injected error; each adapter turns `code` into its own error and renders it. */
export class InjectedFault extends Error {
  constructor(readonly code: string) {
    super(`injected fault ${code}`);
  }
}

interface ObserveLocals {
  observation?: Observation;
  faults?: FaultSource;
}

function locals(res: Response): ObserveLocals {
  return res.locals as ObserveLocals;
}

/** Names the request. Later calls overwrite (a router may learn the operation late). */
export function observe(res: Response, vendor: Vendor, operation?: string, tenant?: string): void {
  const o = (locals(res).observation ??= {});
  o.vendor = vendor;
  if (operation !== undefined) o.operation = operation;
  if (tenant !== undefined) o.tenant = tenant;
}

export function noteError(res: Response, code: string): void {
  (locals(res).observation ??= {}).errorCode = code;
}

export function observationOf(res: Response): Observation | undefined {
  return locals(res).observation;
}

/** Lets the control plane attach its fault source to a request. */
export function attachFaults(res: Response, faults: FaultSource): void {
  locals(res).faults = faults;
}

/**
 * Applies the fault chosen for this request, if any: waits the added latency, then throws InjectedFault
 * when an error is to be answered. Call it after authentication, before the operation runs.
 */
export async function injectFault(res: Response): Promise<void> {
  const { faults, observation } = locals(res);
  if (!faults || !observation?.vendor) return;
  const decision = faults.decide(observation.vendor, observation.operation ?? '');
  if (!decision) return;
  if (decision.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, decision.latencyMs));
  if (decision.code !== undefined) {
    observation.fault = decision.code;
    throw new InjectedFault(decision.code);
  }
}
