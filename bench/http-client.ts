/**
 * The benchmarks' HTTP client: keep-alive POSTs of JSON, answering only the status (the body is drained),
 * and the pool that keeps a number of them in flight.
 */
import http from 'node:http';

/** POST a body (pre-encoded bytes, or a value to encode as JSON) and resolve the HTTP status. */
export function postJson(agent: http.Agent, url: URL, body: Buffer | unknown): Promise<number> {
  const data = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': data.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(data);
  });
}

/** Runs `fn` over `items` with `concurrency` of them in flight; resolves the wall seconds it took. */
export async function runPool<T>(items: T[], concurrency: number, fn: (item: T, i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i], i);
      }
    }),
  );
  return Number(process.hrtime.bigint() - started) / 1e9;
}
