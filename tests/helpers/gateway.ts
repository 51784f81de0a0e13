/** Starts a real gateway (embedded store in a temp dir, bundled model) on a loopback port for a test. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { GatewayConfig } from '../../adapters/config';
import { loadSettings, type TlsSettings } from '../../bin/config';
import { startGateway, type Gateway } from '../../bin/gateway';

export interface TestGateway extends Gateway {
  dataDir: string;
  /** Closes and starts again on the same data directory (a clean restart). */
  restart(): Promise<TestGateway>;
  /** Closes and removes the data directory. */
  destroy(): Promise<void>;
}

/** `tls`: also listen for HTTPS (server.tls) with these files, on a port of its own (0: any free one). */
export async function startTestGateway(config: Partial<GatewayConfig> = {}, dataDir?: string, server: { tls?: TlsSettings } = {}): Promise<TestGateway> {
  const dir = dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'isg-test-'));
  const settings = loadSettings({ port: 0, host: '127.0.0.1', dataDir: dir, tls: server.tls }, {});
  settings.gateway = { ...settings.gateway, ...config, imports: config.imports ?? settings.gateway.imports };
  const gateway = await startGateway(settings, pino({ level: 'silent' }));
  return {
    ...gateway,
    dataDir: dir,
    async restart() {
      await gateway.close();
      return startTestGateway(config, dir, server);
    },
    async destroy() {
      await gateway.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** POST a JSON body (or raw text) and return status and parsed body. */
export async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

export async function get(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
