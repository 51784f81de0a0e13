/**
 * What Node's HTTP alone costs a server per request of the ingest bench: a bare node:http server in a child
 * process of its own reads each body whole and answers a small JSON, with no framework, parsing or work.
 * The gateway cannot spend less on a request than this; the ingest line prints it beside its own figures.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { cpuSeconds } from './gateway-process';
import { postJson, runPool } from './http-client';

const SERVER_SOURCE = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'SUCCESS', message: null, data: { bytes: body.length } }));
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
`;

/** Rounds over the bodies: CPU time is read from /proc in 10 ms ticks, so a few hundred requests are too few. */
const ROUNDS = 3;

/** CPU milliseconds per request of a bare node:http server receiving `bodies` with `concurrency` in flight. */
export async function httpFloorCpuMs(bodies: Buffer[], concurrency: number): Promise<number> {
  const child = spawn(process.execPath, ['-e', SERVER_SOURCE], { stdio: ['ignore', 'pipe', 'inherit'] });
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk) => {
        out += chunk;
        if (out.includes('\n')) resolve(Number(out.trim()));
      });
      child.once('exit', (code) => reject(new Error(`bare HTTP server exited (${code}) before listening`)));
    });
    const url = new URL(`http://127.0.0.1:${port}/`);
    const send = (list: Buffer[]) =>
      runPool(list, concurrency, async (body) => {
        if ((await postJson(agent, url, body)) !== 200) throw new Error('bare HTTP server failed');
      });
    await send(bodies.slice(0, 32)); // warm-up
    const before = cpuSeconds(child.pid!);
    for (let round = 0; round < ROUNDS; round++) await send(bodies);
    return ((cpuSeconds(child.pid!) - before) * 1000) / (bodies.length * ROUNDS);
  } finally {
    agent.destroy();
    child.kill();
  }
}
