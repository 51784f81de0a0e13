/**
 * Timeouts every listener of the gateway applies (HTTP and HTTPS alike), so that a slow or silent client
 * cannot hold a socket forever (slowloris): the whole header block must arrive within `headersMs`, the whole
 * request within `requestMs`, a socket with no traffic at all is closed after `idleMs`, and a keep-alive
 * connection waits `keepAliveMs` for its next request. Config: `server.timeouts` (docs/operations.md).
 */
import type http from 'node:http';

export interface ServerTimeouts {
  headersMs: number;
  requestMs: number;
  idleMs: number;
  keepAliveMs: number;
}

export const DEFAULT_SERVER_TIMEOUTS: ServerTimeouts = {
  headersMs: 20_000,
  // A 64 MiB body (the largest any vendor API takes) over a slow link still fits.
  requestMs: 300_000,
  idleMs: 60_000,
  // Longer than the 60 s idle timeout of common load balancers, so they close first.
  keepAliveMs: 65_000,
};

/** Options for http.createServer / https.createServer: Node checks the header and request deadlines on this interval. */
export function serverOptions(t: ServerTimeouts): Pick<http.ServerOptions, 'headersTimeout' | 'requestTimeout' | 'keepAliveTimeout' | 'connectionsCheckingInterval'> {
  return {
    headersTimeout: t.headersMs,
    requestTimeout: Math.max(t.requestMs, t.headersMs),
    keepAliveTimeout: t.keepAliveMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(t.headersMs / 4))),
  };
}

/** The inactivity timeout, which the constructor options do not carry: a socket silent for idleMs is destroyed. */
export function applyIdleTimeout(server: http.Server, t: ServerTimeouts): void {
  server.setTimeout(t.idleMs, (socket) => socket.destroy());
}
