/**
 * Fault injection for client retry tests: rules set through /_gateway/faults, consulted by every vendor
 * adapter through adapters/http/observe.ts. A rule names a vendor, an operation (or "*"), an error code of
 * that vendor's own table or the vendor's throttling answer, a probability, added latency and an optional
 * number of times. The first rule that matches and fires decides; draws come from a per-rule PRNG, seeded
 * when the caller wants a reproducible sequence.
 */
import { randomInt } from 'node:crypto';
import { prng } from '../../core/prng';
import { InvalidArgumentError } from '../../core/errors';
import type { FaultCatalog, FaultDecision, FaultSource } from '../http/observe';
import { validator } from '../http/validate';
import faultSchema from '../../schemas/gateway/fault.json';

export interface FaultSpec {
  vendor: string;
  operation: string;
  code?: string;
  throttle: boolean;
  probability: number;
  latencyMs: number;
  times?: number;
  seed?: number;
}

export interface FaultRule extends FaultSpec {
  id: string;
  /** How many requests the rule has answered or delayed. */
  fired: number;
}

/** Per vendor name (adapters/vendors.ts): what its rules may name. */
export type FaultCatalogs = Record<string, FaultCatalog>;

const validators = new Map<string, (body: unknown) => FaultSpec>();

/** The rule schema, its `vendor` member restricted to the vendors mounted (one compiled schema per list). */
function specValidator(vendors: string[]): (body: unknown) => FaultSpec {
  const key = JSON.stringify(vendors);
  let validate = validators.get(key);
  if (!validate) {
    const { $id: _id, ...schema } = faultSchema; // ajv keeps one schema per $id: each list compiles its own
    validate = validator<FaultSpec>({ ...schema, properties: { ...schema.properties, vendor: { enum: vendors } } });
    validators.set(key, validate);
  }
  return validate;
}

export class FaultInjector implements FaultSource {
  private rules: Array<{ rule: FaultRule; draw: () => number }> = [];
  private nextId = 1;

  private readonly validateSpec: (body: unknown) => FaultSpec;

  constructor(readonly catalogs: FaultCatalogs) {
    this.validateSpec = specValidator(Object.keys(catalogs));
  }

  /** Validates a rule (schema, then the vendor's own codes and operations) and adds it last. */
  add(body: unknown): FaultRule {
    const spec = this.validateSpec(body === undefined ? {} : structuredClone(body));
    const catalog = this.catalogs[spec.vendor];
    if (spec.code !== undefined && spec.throttle) throw new InvalidArgumentError('code', 'give either code or throttle, not both');
    if (spec.code !== undefined && !catalog.codes.includes(spec.code)) {
      throw new InvalidArgumentError('code', `${spec.vendor} has no error code '${spec.code}' (GET /_gateway/faults lists them)`);
    }
    if (spec.operation !== '*' && !catalog.operations.includes(spec.operation)) {
      throw new InvalidArgumentError('operation', `${spec.vendor} has no operation '${spec.operation}' (GET /_gateway/faults lists them)`);
    }
    const rule: FaultRule = { ...spec, id: `fault-${this.nextId++}`, fired: 0 };
    this.rules.push({ rule, draw: prng(spec.seed ?? randomInt(2 ** 32)) });
    return { ...rule };
  }

  list(): FaultRule[] {
    return this.rules.map(({ rule }) => ({ ...rule }));
  }

  remove(id: string): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter(({ rule }) => rule.id !== id);
    return this.rules.length < before;
  }

  clear(): void {
    this.rules = [];
  }

  decide(vendor: string, operation: string): FaultDecision | undefined {
    for (const entry of this.rules) {
      const { rule } = entry;
      if (rule.vendor !== vendor || (rule.operation !== '*' && rule.operation !== operation)) continue;
      if (rule.times !== undefined && rule.fired >= rule.times) continue;
      if (entry.draw() >= rule.probability) continue;
      rule.fired++;
      const code = rule.throttle ? this.catalogs[vendor].throttle : rule.code;
      return { latencyMs: rule.latencyMs, code };
    }
    return undefined;
  }
}
