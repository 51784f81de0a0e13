/**
 * A gateway in a child process of its own, as clients meet it: the benchmark's load generator then does
 * not share the gateway's event loop. Started with `isg serve` on a free loopback port and its defaults,
 * with the V8 flags npm start gives it (bin/node-flags.ts).
 * Also what /proc tells about it (Linux): peak resident memory and CPU time used.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GATEWAY_NODE_FLAGS } from '../bin/node-flags';

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

/** Peak resident set of a process, from /proc (Linux). */
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
