/**
 * One fuzzing session: a gateway in open mode on loopback with its logs captured, the fuzzer's requests sent
 * a few at a time, every answer judged, and the two process-level checks at the end — nothing logged at error
 * level (an internal failure) and /_gateway/health still answering 200.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import sharp from 'sharp';
import { prng } from '../../core/prng';
import { loadSettings } from '../../bin/config';
import { startGateway } from '../../bin/gateway';
import { fuzzRequests, judge, type Finding, type FuzzRequest } from './fuzzer';

export interface FuzzReport {
  sent: number;
  /** Status and body of the `extra` requests, in order (the fuzzed ones are judged, not kept). */
  answers: Array<{ status: number; body: string }>;
  findings: Finding[];
  /** Lines the gateway logged at error level or above (each an internal failure). */
  errorLogs: string[];
  healthy: boolean;
}

export async function fuzzSession(opts: { seed: number; n: number; concurrency?: number; extra?: FuzzRequest[]; onProgress?: (sent: number) => void }): Promise<FuzzReport> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'isg-fuzz-'));
  const errorLogs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of chunk.toString().split('\n')) {
        if (line && (JSON.parse(line).level ?? 0) >= 50) errorLogs.push(line.slice(0, 500));
      }
      done();
    },
  });
  const gateway = await startGateway(loadSettings({ port: 0, host: '127.0.0.1', dataDir }, {}), pino({ level: 'warn' }, sink));
  const findings: Finding[] = [];
  let sent = 0;
  try {
    // Noise, so that its base64 (~10 KB) is long enough for the picture members to be decoded ahead
    // (adapters/http/raw-body.ts) and that path is fuzzed too; seeded, like every request.
    const noise = Buffer.from(Array.from({ length: 160 * 120 * 3 }, prng(opts.seed)).map((v) => Math.floor(v * 256)));
    const image = (await sharp(noise, { raw: { width: 160, height: 120, channels: 3 } }).jpeg().toBuffer()).toString('base64');
    const requests = fuzzRequests(opts.seed, opts.n, image);
    const worker = async () => {
      for (let next = requests.next(); !next.done; next = requests.next()) {
        const req = next.value;
        let status = 0;
        let contentType = '';
        let text = '';
        try {
          const res = await fetch(`${gateway.url}${req.path}`, { method: req.method, headers: req.headers, body: req.body, redirect: 'manual', signal: AbortSignal.timeout(30_000) });
          status = res.status;
          contentType = res.headers.get('content-type') ?? '';
          text = await res.text();
        } catch (e) {
          text = String(e);
        }
        const problem = judge(req, status, contentType, text, dataDir);
        if (problem) findings.push({ request: req, status, problem, excerpt: text.slice(0, 300) });
        sent++;
        if (sent % 500 === 0) opts.onProgress?.(sent);
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency ?? 4 }, worker));
    // Requests a test names, sent one after the other, their answers kept.
    const answers: FuzzReport['answers'] = [];
    for (const req of opts.extra ?? []) {
      const res = await fetch(`${gateway.url}${req.path}`, { method: req.method, headers: req.headers, body: req.body });
      answers.push({ status: res.status, body: await res.text() });
    }
    const healthy = (await fetch(`${gateway.url}/_gateway/health`)).status === 200;
    return { sent, answers, findings, errorLogs, healthy };
  } finally {
    await gateway.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** One line per finding: what was sent, how it was mutated, what came back. */
export function describeFinding(f: Finding): string {
  return `${f.problem}: ${f.request.method} ${f.request.path} [${f.request.mutation}] → ${f.status} ${f.excerpt.replace(/\s+/g, ' ').slice(0, 160)}`;
}
