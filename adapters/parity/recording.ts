/**
 * A recording folder: recording.json (vendor, scenario version, the step files in order), one
 * NN-step-name.json per step, and a README.md for whoever opens the folder in a bug report. Files are
 * written with one stable formatting (2-space JSON in the answer's own key order, trailing newline) so two
 * recordings of the same behaviour are byte-identical.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RecordedStep } from './types';

export const MANIFEST = 'recording.json';

export interface RecordingManifest {
  format: 1;
  vendor: string;
  scenarioVersion: number;
  steps: string[];
}

export function stepFileName(index: number, step: string): string {
  return `${String(index + 1).padStart(2, '0')}-${step}.json`;
}

export function serialise(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Whether DIR may receive a recording: absent, empty, or an earlier recording (never someone's other files). */
export function canWriteRecording(dir: string): boolean {
  return !existsSync(dir) || readdirSync(dir).length === 0 || existsSync(path.join(dir, MANIFEST));
}

/** Writes the folder (replacing the step files of an earlier recording there). */
export function writeRecording(dir: string, vendor: string, scenarioVersion: number, steps: RecordedStep[]): void {
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(dir)) if (/^\d{2,}-.*\.json$/.test(name)) rmSync(path.join(dir, name));
  const files = steps.map((s, i) => stepFileName(i, s.step));
  steps.forEach((s, i) => writeFileSync(path.join(dir, files[i]), serialise(s)));
  const manifest: RecordingManifest = { format: 1, vendor, scenarioVersion, steps: files };
  writeFileSync(path.join(dir, MANIFEST), serialise(manifest));
  writeFileSync(path.join(dir, 'README.md'), readme(vendor, files));
}

export function readRecording(dir: string): { manifest: RecordingManifest; steps: RecordedStep[] } {
  let manifest: RecordingManifest;
  try {
    manifest = JSON.parse(readFileSync(path.join(dir, MANIFEST), 'utf8'));
  } catch (err) {
    throw new Error(`${dir} is not a parity recording (${MANIFEST}: ${(err as Error).message})`);
  }
  if (manifest.format !== 1 || !Array.isArray(manifest.steps)) throw new Error(`${dir}/${MANIFEST}: unknown format`);
  return { manifest, steps: manifest.steps.map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as RecordedStep) };
}

function readme(vendor: string, files: string[]): string {
  return `# Parity recording: ${vendor}

Written by \`isg parity record --vendor ${vendor}\` (image-search-gateway). It holds how one endpoint answered
the fixed ${vendor} scenario described in the gateway's docs/migration.md, section "Check the gateway against
your account". Replay it against any endpoint with:

    isg parity check --recording <this folder> --endpoint <url> [--credentials FILE]

## What is here

- \`${MANIFEST}\`: the vendor, the scenario version, the step files in order.
- One file per step (${files.length} steps, cleanup included): the request as sent and the answer, both
  normalised. Ids, request ids, timestamps, paging cursors and the run's unique scratch name are replaced by
  stable tokens (\`<scratch>\`, \`<request-id>\`, \`<timestamp>\`, \`<cursor>\` ...); scores are kept only as
  \`<score>\` (a number in [0, 1], not above the previous result's), \`<score:rises>\` or \`<score:out-of-range>\`;
  images are named (\`<image:red-circle>\`), their bytes are not stored.

## No secret

No credential is stored: no access key, secret key, token, API key, project id, instance name, signature,
Authorization or date header. The requests are recorded before signing, and every file was checked for the
credentials before it was written. The folder is plain data: commit it, or attach it to a bug report.
`;
}
