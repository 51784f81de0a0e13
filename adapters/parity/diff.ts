/**
 * Compares a recorded step with the same step observed now: both are flattened to leaf paths
 * (response.status, response.body.result[0].path ...) and every path whose value differs, or exists on one
 * side only, is one difference.
 */
import type { RecordedStep } from './types';

export interface FieldDifference {
  field: string;
  /** JSON text of the value, or undefined when the field is absent on that side. */
  recorded?: string;
  observed?: string;
}

export type StepOutcome =
  | { step: string; result: 'same' }
  | { step: string; result: 'differs'; differences: FieldDifference[] }
  | { step: string; result: 'missing' }
  | { step: string; result: 'extra' };

/** Leaf paths → JSON text. Empty objects and arrays are leaves, so {} vs absent is a difference. */
export function flatten(value: unknown, prefix = '', into = new Map<string, string>()): Map<string, string> {
  if (Array.isArray(value) && value.length > 0) {
    value.forEach((v, i) => flatten(v, `${prefix}[${i}]`, into));
  } else if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix === '' ? k : `${prefix}.${k}`, into);
  } else {
    into.set(prefix, JSON.stringify(value));
  }
  return into;
}

export function diffStep(recorded: RecordedStep, observed: RecordedStep): FieldDifference[] {
  const a = flatten({ request: recorded.request, response: recorded.response });
  const b = flatten({ request: observed.request, response: observed.response });
  const out: FieldDifference[] = [];
  for (const [field, value] of a) if (b.get(field) !== value) out.push({ field, recorded: value, observed: b.get(field) });
  for (const [field, value] of b) if (!a.has(field)) out.push({ field, observed: value });
  return out;
}

/** Step by step, matched by position and name: a recorded step not run now is missing, one more is extra. */
export function compareRecordings(recorded: RecordedStep[], observed: RecordedStep[]): StepOutcome[] {
  const out: StepOutcome[] = [];
  for (let i = 0; i < Math.max(recorded.length, observed.length); i++) {
    const r = recorded[i];
    const o = observed[i];
    if (r === undefined) out.push({ step: o.step, result: 'extra' });
    else if (o === undefined || o.step !== r.step) out.push({ step: r.step, result: 'missing' });
    else {
      const differences = diffStep(r, o);
      out.push(differences.length === 0 ? { step: r.step, result: 'same' } : { step: r.step, result: 'differs', differences });
    }
  }
  return out;
}

/** The table check prints, one row per step (differences indented under it), then the summary line. */
export function formatTable(outcomes: StepOutcome[], recordedCount: number): string {
  const width = Math.max(4, ...outcomes.map((o) => o.step.length));
  const lines = [`${'step'.padEnd(width)}  result`];
  for (const o of outcomes) {
    lines.push(`${o.step.padEnd(width)}  ${o.result}`);
    if (o.result === 'differs') {
      for (const d of o.differences) lines.push(`${' '.repeat(width)}    ${d.field}: ${d.recorded ?? '(absent)'} recorded, ${d.observed ?? '(absent)'} observed`);
    }
  }
  const same = outcomes.filter((o) => o.result === 'same').length;
  lines.push(`parity: ${same}/${recordedCount} steps identical`);
  return `${lines.join('\n')}\n`;
}
