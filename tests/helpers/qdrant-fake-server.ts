/**
 * A real HTTP server on 127.0.0.1 standing where a Qdrant would, for what a real Qdrant cannot show on
 * demand: refusing, hanging, failing. The Qdrant client talks real HTTP to it. Each request is recorded.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: any;
}

/** An answer: status and JSON body, or 'hang' (never answer). */
export type FakeAnswer = { status: number; body: unknown } | 'hang';

export interface FakeQdrant {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startFakeQdrant(answer: (req: RecordedRequest) => FakeAnswer): Promise<FakeQdrant> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const text = Buffer.concat(chunks).toString('utf8');
      const recorded: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, body: text ? JSON.parse(text) : undefined };
      requests.push(recorded);
      const a = answer(recorded);
      if (a === 'hang') return;
      res.writeHead(a.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(a.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback URL where nothing listens (a port just released): connections are refused. */
export async function refusingUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** Qdrant's success envelope. */
export const ok = (result: unknown): FakeAnswer => ({ status: 200, body: { result, status: 'ok', time: 0 } });
