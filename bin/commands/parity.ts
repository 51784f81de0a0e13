/**
 * isg parity record|check — record how a vendor endpoint answers a fixed scenario, and replay it against
 * another endpoint (normally the gateway) to compare, step by step (docs/migration.md "Check the gateway
 * against your account"). The machinery is in adapters/parity/, each vendor's scenario and signing client
 * in adapters/<vendor>/parity.ts; this file wires them to the command line.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { compareRecordings, formatTable } from '../../adapters/parity/diff';
import { canWriteRecording, readRecording, writeRecording } from '../../adapters/parity/recording';
import { CLEANUP_ALLOWANCE, DEFAULT_MAX_REQUESTS, DEFAULT_MAX_WAIT_MS, assertNoSecret, runScenario } from '../../adapters/parity/runner';
import type { VendorParity } from '../../adapters/parity/types';
import { VENDORS } from '../../adapters/vendors';
import { ConfigError } from '../config';
import type { CommandIO } from './import';

/** Every vendor adapter that has a parity scenario, by name. */
export const PARITY_VENDORS: Record<string, VendorParity> = Object.fromEntries(VENDORS.flatMap((v) => (v.parity ? [[v.name, v.parity]] : [])));

export const PARITY_USAGE = `  parity record --vendor V --endpoint URL --credentials FILE --out DIR --yes-i-own-this-account
           run the vendor's fixed scenario against URL (normally the vendor's own endpoint) and write one
           normalised JSON file per step to DIR (no secret is written)
           --vendor V             ${Object.keys(PARITY_VENDORS).join(', ')}
           --endpoint URL         the vendor's own endpoint, e.g. https://<region endpoint of the vendor>
           --credentials FILE     JSON, one entry per vendor (below)
           --out DIR              the recording folder (created; earlier step files replaced)
           --max-requests N       stop the scenario after N requests (default ${DEFAULT_MAX_REQUESTS}); cleanup still runs (≤ ${CLEANUP_ALLOWANCE} more)
           --max-wait S           how long a step waits for a write to become searchable (default ${DEFAULT_MAX_WAIT_MS / 1000} s, 0: no waiting)
           --dry-run              print every request instead of sending it (needs no credentials)
           --yes-i-own-this-account   required to send: the scenario creates and deletes scratch data
  parity check --recording DIR --endpoint URL [--credentials FILE]
           replay the recording's scenario against URL and print a step-by-step table, then
           "parity: N/M steps identical"; exit 0 only when every step is identical
           --credentials FILE     as for record (optional against an open-mode gateway, unless the vendor's scenario needs them)
           --max-requests N, --max-wait S   as for record
           --out DIR              also write what URL answered as a recording

  credentials file (only the entry of the vendor used is read):
${Object.values(PARITY_VENDORS).map((v) => `           ${v.credentialsShape}`).join('\n')}
`;

function usage(io: CommandIO): number {
  io.stdout.write(`usage: isg parity record|check [options]\n${PARITY_USAGE}`);
  return 0;
}

function readCredentials(file: string | undefined, vendor: string): unknown {
  if (file === undefined) return undefined;
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`--credentials ${file}: ${(err as Error).message}`);
  }
  if (parsed?.[vendor] === undefined) throw new ConfigError(`--credentials ${file} has no "${vendor}" entry: ${PARITY_VENDORS[vendor].credentialsShape}`);
  return parsed[vendor];
}

function maxRequests(value: string | undefined): number {
  if (value === undefined) return DEFAULT_MAX_REQUESTS;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError('--max-requests must be a positive integer');
  return n;
}

function maxWaitMs(value: string | undefined): number {
  if (value === undefined) return DEFAULT_MAX_WAIT_MS;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 3600) throw new ConfigError('--max-wait must be a number of seconds from 0 to 3600');
  return n * 1000;
}

function endpointOf(value: string | undefined): string {
  if (!value) throw new ConfigError('--endpoint URL is required');
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new ConfigError(`--endpoint ${value} is not an http(s) URL`);
  }
  return value;
}

/** What escapes the runner is a setup failure (credentials, IAM): one line, no stack. */
function failed(err: Error): never {
  throw new ConfigError(`isg parity: ${err.message}`);
}

export async function parityCommand(argv: string[], io: CommandIO = process): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || rest.includes('--help') || rest.includes('-h')) return usage(io);
  const { values } = parseArgs({
    args: rest,
    strict: true,
    options: {
      vendor: { type: 'string' },
      endpoint: { type: 'string' },
      credentials: { type: 'string' },
      out: { type: 'string' },
      recording: { type: 'string' },
      'max-requests': { type: 'string' },
      'max-wait': { type: 'string' },
      'dry-run': { type: 'boolean' },
      'yes-i-own-this-account': { type: 'boolean' },
    },
  });
  const endpoint = endpointOf(values.endpoint);
  const max = maxRequests(values['max-requests']);
  const wait = maxWaitMs(values['max-wait']);
  const print = (line: string) => io.stdout.write(`${line}\n`);

  if (sub === 'record') {
    const vendor = PARITY_VENDORS[values.vendor ?? ''];
    if (!vendor) throw new ConfigError(`--vendor must be one of ${Object.keys(PARITY_VENDORS).join(', ')}`);
    if (!values['dry-run']) {
      if (!values['yes-i-own-this-account']) {
        throw new ConfigError('isg parity record creates and deletes scratch data on the account: add --yes-i-own-this-account (or --dry-run to see the requests)');
      }
      if (!values.out) throw new ConfigError('--out DIR is required');
      if (!values.credentials) throw new ConfigError('--credentials FILE is required');
      if (!canWriteRecording(values.out)) throw new ConfigError(`--out ${values.out} holds other files: give an empty or new folder, or an earlier recording`);
    }
    const result = await runScenario(vendor, { endpoint, credentials: readCredentials(values.credentials, vendor.vendor), maxRequests: max, maxWaitMs: wait, dryRun: values['dry-run'], print }).catch(failed);
    if (values['dry-run']) {
      print(`dry run: ${result.steps.length} requests, none sent`);
      return 0;
    }
    assertNoSecret(result.steps, result.secrets);
    const out = path.resolve(values.out as string);
    writeRecording(out, vendor.vendor, vendor.scenarioVersion, result.steps);
    print(`recorded ${result.steps.length} steps of the ${vendor.vendor} scenario to ${out}`);
    if (result.stopped) {
      io.stderr.write(`isg parity: ${result.stopped}\n`);
      return 1;
    }
    return 0;
  }

  if (sub === 'check') {
    if (!values.recording) throw new ConfigError('--recording DIR is required');
    if (values.out && !canWriteRecording(values.out)) throw new ConfigError(`--out ${values.out} holds other files: give an empty or new folder, or an earlier recording`);
    const { manifest, steps: recorded } = readRecording(values.recording);
    const vendor = PARITY_VENDORS[manifest.vendor];
    if (!vendor) throw new ConfigError(`${values.recording}: unknown vendor ${manifest.vendor}`);
    if (manifest.scenarioVersion !== vendor.scenarioVersion) {
      throw new ConfigError(`${values.recording} was recorded with scenario version ${manifest.scenarioVersion}; this isg runs version ${vendor.scenarioVersion}`);
    }
    const result = await runScenario(vendor, { endpoint, credentials: readCredentials(values.credentials, vendor.vendor), maxRequests: max, maxWaitMs: wait, print }).catch(failed);
    if (values.out) {
      assertNoSecret(result.steps, result.secrets);
      writeRecording(path.resolve(values.out), vendor.vendor, vendor.scenarioVersion, result.steps);
    }
    const outcomes = compareRecordings(recorded, result.steps);
    io.stdout.write(formatTable(outcomes, recorded.length));
    if (result.stopped) io.stderr.write(`isg parity: ${result.stopped}\n`);
    return outcomes.length === recorded.length && outcomes.every((o) => o.result === 'same') ? 0 : 1;
  }

  throw new ConfigError(`isg parity: unknown subcommand '${sub}' (record or check)`);
}
