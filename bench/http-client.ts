/** The benchmarks' HTTP client: keep-alive POSTs of JSON, answering only the status (the body is drained). */
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
