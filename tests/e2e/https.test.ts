/**
 * HTTPS from the gateway itself: `isg cert` writes a CA and a server certificate for localhost, 127.0.0.1 and
 * ::1 (and says how to trust the CA), keeps the CA on a second run and renews the server certificate for a new
 * host; server.tls serves the same app on a second port beside HTTP; `isg serve --tls-self-signed` does it
 * all from the command line. Clients verify the certificate against the CA every time.
 */
import { spawn, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, DEFAULT_TLS_PORT, loadSettings } from '../../bin/config';
import { selfSignedFiles } from '../../bin/commands/cert';
import { get, startTestGateway } from '../helpers/gateway';

const ROOT = path.resolve(__dirname, '../..');
const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** `isg cert …` from the sources, as `npx isg cert` runs it from dist. */
function isgCert(...args: string[]) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bin/isg.ts'), 'cert', ...args], { cwd: ROOT, encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** GET over HTTPS, trusting `ca` only (verification on); the status and body, or the TLS error code. */
function httpsGet(url: string, ca?: Buffer, servername?: string): Promise<{ status?: number; body?: any; error?: string }> {
  return new Promise((resolve) => {
    const req = https.get(url, { ca, servername, agent: false }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(text) }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
  });
}

describe('isg cert', () => {
  let out: string;
  let first: ReturnType<typeof isgCert>;
  beforeAll(() => {
    out = path.join(tempDir('isg-cert-'), 'tls');
    first = isgCert('--out', out);
  });

  test('writes a CA and a server certificate for localhost, 127.0.0.1 and ::1, keys readable by the owner only', () => {
    expect(first.status).toBe(0);
    const files = selfSignedFiles(out);
    const ca = new X509Certificate(readFileSync(files.ca));
    const cert = new X509Certificate(readFileSync(files.cert));
    expect(ca.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect([cert.checkIssued(ca), cert.verify(ca.publicKey)]).toEqual([true, true]);
    expect([cert.checkHost('localhost'), cert.checkIP('127.0.0.1'), cert.checkIP('::1')]).toEqual(['localhost', '127.0.0.1', '::1']);
    expect(cert.checkHost('example.com')).toBeUndefined();
    expect(Date.parse(cert.validTo)).toBeGreaterThan(Date.now() + 365 * 24 * 3600 * 1000);
    for (const key of [files.key, files.caKey]) expect(statSync(key).mode & 0o077).toBe(0);
  });

  test('says how to serve with them and how each kind of client trusts the CA', () => {
    const { ca, cert, key } = selfSignedFiles(out);
    for (const line of [`--tls-cert ${cert} --tls-key ${key}`, `NODE_EXTRA_CA_CERTS=${ca}`, `curl --cacert ${ca}`, `REQUESTS_CA_BUNDLE=${ca}`, `SSL_CERT_FILE=${ca}`, 'keytool -importcert']) {
      expect(first.stdout).toContain(line);
    }
  });

  test('a second run keeps everything; a new --host renews the server certificate under the same CA', () => {
    const files = selfSignedFiles(out);
    const [caBefore, certBefore] = [readFileSync(files.ca, 'utf8'), readFileSync(files.cert, 'utf8')];
    const again = isgCert('--out', out);
    expect([again.status, readFileSync(files.ca, 'utf8'), readFileSync(files.cert, 'utf8')]).toEqual([0, caBefore, certBefore]);
    const more = isgCert('--out', out, '--host', 'isg.test', '--host', '10.1.2.3');
    expect(more.status).toBe(0);
    expect(readFileSync(files.ca, 'utf8')).toBe(caBefore);
    const cert = new X509Certificate(readFileSync(files.cert));
    expect([cert.checkHost('isg.test'), cert.checkIP('10.1.2.3'), cert.checkHost('localhost')]).toEqual(['isg.test', '10.1.2.3', 'localhost']);
    expect(cert.checkIssued(new X509Certificate(caBefore))).toBe(true);
    const bad = isgCert('--out', out, '--host', 'not a host');
    expect([bad.status, bad.stderr]).toEqual([2, expect.stringContaining('--host')]);
  });
});

describe('server.tls: HTTP and HTTPS at once', () => {
  test('the same gateway answers on both ports; HTTPS verifies against the CA, for 127.0.0.1 and localhost', async () => {
    const tls = path.join(tempDir('isg-tls-'), 'tls');
    expect(isgCert('--out', tls).status).toBe(0);
    const files = selfSignedFiles(tls);
    const gw = await startTestGateway({}, undefined, { tls: { certFile: files.cert, keyFile: files.key, port: 0 } });
    try {
      expect(gw.tlsUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(new URL(gw.tlsUrl!).port).not.toBe(new URL(gw.url).port);
      const ca = readFileSync(files.ca);
      const plain = await get(`${gw.url}/_gateway/health`);
      const secure = await httpsGet(`${gw.tlsUrl}/_gateway/health`, ca);
      expect(secure).toEqual({ status: plain.status, body: plain.body });
      expect(secure.status).toBe(200);
      const byName = await httpsGet(`https://localhost:${new URL(gw.tlsUrl!).port}/_gateway/health`, ca);
      expect(byName.status).toBe(200);
      // Without the CA, verification fails (nothing is switched off).
      expect((await httpsGet(`${gw.tlsUrl}/_gateway/health`)).error).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER/);
      // A vendor answer over HTTPS: the Qiniu list of groups.
      expect(await httpsGet(`${gw.tlsUrl}/v1/image/group`, ca)).toEqual({ status: 200, body: { code: 0, message: '', result: [] } });
    } finally {
      await gw.destroy();
    }
  });

  test('config: server.tls from the file (port 8443 unless given), flags over the file, a certificate without its key refused', () => {
    const dir = tempDir('isg-tls-config-');
    const file = (config: unknown) => {
      const at = path.join(dir, `config-${Math.random().toString(36).slice(2)}.json`);
      writeFileSync(at, JSON.stringify(config));
      return at;
    };
    const both = file({ server: { tls: { certFile: 'c.pem', keyFile: 'k.pem' } } });
    expect(loadSettings({ configFile: both }, {}).tls).toEqual({ certFile: path.resolve('c.pem'), keyFile: path.resolve('k.pem'), port: DEFAULT_TLS_PORT });
    expect(loadSettings({ configFile: both, tls: { port: 9443, certFile: '/x/c.pem' } }, {}).tls).toEqual({ certFile: '/x/c.pem', keyFile: path.resolve('k.pem'), port: 9443 });
    expect(loadSettings({}, {}).tls).toBeUndefined();
    expect(() => loadSettings({ tls: { certFile: 'c.pem' } }, {})).toThrow(ConfigError);
    expect(() => loadSettings({ configFile: file({ server: { tls: { certFile: 'c.pem' } } }) }, {})).toThrow(ConfigError);
    expect(() => loadSettings({ configFile: file({ server: { tls: { certFile: 'c.pem', keyFile: 'k.pem', ca: 'x' } } }) }, {})).toThrow(ConfigError);
  });
});

test('isg serve --tls-self-signed makes the certificates in <data>/tls and serves HTTPS beside HTTP', async () => {
  const data = tempDir('isg-serve-tls-');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bin/isg.ts'), 'serve', '--port', '0', '--tls-port', '0', '--tls-self-signed', '--data', data], {
    cwd: ROOT,
    env: { ...process.env, ISG_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let stderr = '';
    const listening = await new Promise<{ url: string; tlsUrl: string }>((resolve, reject) => {
      let out = '';
      // Listening (stdout, the log) and the trust help (stderr) both seen, in whichever order they arrive.
      const check = () => {
        const m = /"url":"(http:[^"]+)","tlsUrl":"(https:[^"]+)"/.exec(out);
        if (m && stderr.includes('NODE_EXTRA_CA_CERTS=')) resolve({ url: m[1], tlsUrl: m[2] });
      };
      child.stdout!.on('data', (chunk) => ((out += chunk), check()));
      child.stderr!.on('data', (chunk) => ((stderr += chunk), check()));
      child.once('exit', (code) => reject(new Error(`isg serve exited with ${code}: ${stderr}`)));
    });
    const files = selfSignedFiles(path.join(data, 'tls'));
    expect((await httpsGet(`${listening.tlsUrl}/_gateway/health`, readFileSync(files.ca))).status).toBe(200);
    expect((await get(`${listening.url}/_gateway/health`)).status).toBe(200);
    expect(stderr).toContain(`NODE_EXTRA_CA_CERTS=${files.ca}`);
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
});
