/**
 * A gateway in a child process of its own, as clients meet it: the benchmark's load generator then does
 * not share the gateway's event loop. Started with `isg serve` on a free loopback port and its defaults,
 * with the V8 flags npm start gives it (bin/node-flags.ts).
 * Also what /proc tells about it (Linux): peak resident memory, CPU time used, and CPU time per kind of thread.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { GATEWAY_NODE_FLAGS } from '../bin/node-flags';
import { BACKGROUND_NICE } from '../core/background-threads';

const ROOT = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../..' : '..');

export interface GatewayProcess {
  child: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

/** `configFile`: a config file for the gateway (default none: every setting at its default). */
export function startGatewayProcess(dataDir: string, options: { configFile?: string } = {}): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [...GATEWAY_NODE_FLAGS, path.join(ROOT, 'dist/bin/isg.js'), 'serve', '--port', '0', '--data', dataDir], {
    env: { ...process.env, ISG_LOG_LEVEL: 'info', ISG_CONFIG: options.configFile ?? '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stop = async () => {
    if (child.exitCode !== null) return;
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  };
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      const m = /"url":"(http:[^"]+)"/.exec(out);
      if (m) resolve({ child, url: m[1], stop });
    });
    child.once('exit', (code) => reject(new Error(`gateway exited (${code}) before listening`)));
  });
}

/**
 * Peak resident set of a process, from /proc (Linux): VmHWM, its own since exec. Not getrusage's maxRSS,
 * which a child inherits from its parent across fork and exec (a child spawned by a parent holding 1 GB
 * reports 1 GB before it allocates anything: the scale bench's bare-usearch peaks were its parent's so).
 */
export function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** CPU seconds (user + system, all threads) a process has used, from /proc (Linux; 100 ticks a second). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime: fields 14 and 15 of the line
}

/** Kinds of threads in a gateway process, as cpuByThread counts them. */
export type ThreadKind = 'main' | 'onnxruntime' | 'libvips' | 'other';

/**
 * CPU seconds per kind of thread of a process (Linux), of the threads alive now: the main thread (event
 * loop), threads at the engine's background priority (onnxruntime sessions and the threads they start;
 * also the BMP/PNM decoder thread), libvips workers, and the rest (libuv's pool running sharp's pipelines,
 * V8's garbage-collector helpers, ...). Differences of two calls give where a stretch of work went.
 */
export function cpuByThread(pid: number): Record<ThreadKind, number> {
  const out: Record<ThreadKind, number> = { main: 0, onnxruntime: 0, libvips: 0, other: 0 };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const seconds = (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime
    const nice = Number(fields[16]); // field 19 of the line
    const kind: ThreadKind =
      Number(tid) === pid ? 'main' : nice === BACKGROUND_NICE ? 'onnxruntime' : name.startsWith('libvips') ? 'libvips' : 'other';
    out[kind] += seconds;
  }
  return out;
}

/** CPU seconds per kind of thread a process has used since `before` (an earlier cpuByThread of it). */
export function cpuByThreadSince(pid: number, before: Record<ThreadKind, number>): Record<ThreadKind, number> {
  const now = cpuByThread(pid);
  return Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v - before[k as ThreadKind]])) as Record<ThreadKind, number>;
}
