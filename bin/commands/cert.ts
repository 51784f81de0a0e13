/**
 * isg cert: writes a local CA and a server certificate it signs (localhost, 127.0.0.1, ::1 and any --host)
 * for the gateway's HTTPS listener, and prints how to make clients trust the CA, with verification left on
 * (as Azurite's --cert/--key: the vendors' SDKs default to https). `ensureSelfSigned` is also what
 * `isg serve --tls-self-signed` uses: the files are made when missing and the server certificate renewed,
 * under the same CA, when it expires within 30 days or lacks a host; a CA once trusted stays trusted.
 */
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, DEFAULT_TLS_PORT } from '../config';
import { newCa, newServerCertificate, privateKeyPem, type CertificateKey } from '../x509';

export const CERT_USAGE = `usage: isg cert [--out DIR] [--host NAME]... [--force]

Writes a local certificate authority and a server certificate it signs, for HTTPS:
  DIR/ca.pem        the CA certificate: the one file clients trust
  DIR/ca-key.pem    its key (kept to sign the next server certificate; readable by you only)
  DIR/cert.pem      the server certificate (localhost, 127.0.0.1, ::1 and every --host)
  DIR/key.pem       its key
then prints how to serve with them and how to make clients trust the CA.

  --out DIR    where to write (default <data>/tls: ISG_DATA_DIR or ./data, as isg serve --tls-self-signed uses)
  --data DIR   the data directory whose tls/ folder is the default --out
  --host NAME  another DNS name or IP address the server certificate is valid for (repeatable)
  --force      a new CA too (clients must trust the new ca.pem); otherwise an existing CA is kept
`;

/** Names every local certificate is valid for. */
export const DEFAULT_HOSTS = ['localhost', '127.0.0.1', '::1'];
const RENEW_WITHIN_MS = 30 * 24 * 60 * 60 * 1000;

export interface SelfSignedFiles {
  ca: string;
  caKey: string;
  cert: string;
  key: string;
}

export function selfSignedFiles(dir: string): SelfSignedFiles {
  const at = (name: string) => path.resolve(dir, name);
  return { ca: at('ca.pem'), caKey: at('ca-key.pem'), cert: at('cert.pem'), key: at('key.pem') };
}

/** What ensureSelfSigned did: made a new CA (and server certificate), only a server certificate, or nothing. */
export type Made = 'ca' | 'server' | 'none';

/**
 * The self-signed pair in `dir`, made or renewed as needed (see the header). `hosts` are added to the
 * default ones. Keys are written readable by the owner only.
 */
export function ensureSelfSigned(dir: string, hosts: string[] = [], opts: { force?: boolean; now?: Date } = {}): { files: SelfSignedFiles; made: Made } {
  const now = opts.now ?? new Date();
  const files = selfSignedFiles(dir);
  const names = [...new Set([...DEFAULT_HOSTS, ...hosts])];
  mkdirSync(dir, { recursive: true });

  let ca = opts.force ? undefined : readCa(files, now);
  let made: Made = 'none';
  if (!ca) {
    const fresh = newCa(now);
    writeFileSync(files.ca, fresh.certPem);
    writeFileSync(files.caKey, privateKeyPem(fresh.key), { mode: 0o600 });
    ca = { cert: new X509Certificate(fresh.certPem), key: fresh.key };
    made = 'ca';
  }
  if (made === 'ca' || !serverCertificateFits(files, ca.cert, names, now)) {
    const server = newServerCertificate({ commonName: commonNameOf(ca.cert), key: ca.key }, names, now);
    writeFileSync(files.cert, server.certPem);
    writeFileSync(files.key, privateKeyPem(server.key), { mode: 0o600 });
    if (made === 'none') made = 'server';
  }
  return { files, made };
}

function readCa(files: SelfSignedFiles, now: Date): { cert: X509Certificate; key: CertificateKey } | undefined {
  if (!existsSync(files.ca) || !existsSync(files.caKey)) return undefined;
  try {
    const cert = new X509Certificate(readFileSync(files.ca));
    const privateKey = createPrivateKey(readFileSync(files.caKey));
    if (!cert.ca || !cert.checkPrivateKey(privateKey) || Date.parse(cert.validTo) - now.getTime() < RENEW_WITHIN_MS) return undefined;
    return { cert, key: { privateKey, publicKey: createPublicKey(privateKey) } };
  } catch {
    return undefined; // unreadable: made again
  }
}

function serverCertificateFits(files: SelfSignedFiles, ca: X509Certificate, names: string[], now: Date): boolean {
  if (!existsSync(files.cert) || !existsSync(files.key)) return false;
  try {
    const cert = new X509Certificate(readFileSync(files.cert));
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey) || !cert.checkPrivateKey(createPrivateKey(readFileSync(files.key)))) return false;
    if (Date.parse(cert.validTo) - now.getTime() < RENEW_WITHIN_MS) return false;
    return names.every((name) => (isIP(name) ? cert.checkIP(name) : cert.checkHost(name, { wildcards: false })) !== undefined);
  } catch {
    return false;
  }
}

function commonNameOf(cert: X509Certificate): string {
  const line = cert.subject.split('\n').find((l) => l.startsWith('CN='));
  if (!line) throw new ConfigError('the CA certificate has no common name');
  return line.slice(3);
}

/** How to serve with the files and make each kind of client trust the CA (verification stays on). */
export function trustHelp(files: SelfSignedFiles, port = DEFAULT_TLS_PORT): string {
  const { ca } = files;
  return `Serve HTTPS (beside HTTP) with:
  npx isg serve --tls-cert ${files.cert} --tls-key ${files.key} --tls-port ${port}
  (or "server": {"tls": {"certFile": ..., "keyFile": ..., "port": ${port}}} in the config file)

Clients must trust the CA ${ca}; nothing else changes, verification stays on:
  Node.js (the vendor SDKs, fetch):                     NODE_EXTRA_CA_CERTS=${ca} node app.js
  curl:                 curl --cacert ${ca} https://localhost:${port}/health
  Python requests:      REQUESTS_CA_BUNDLE=${ca} python app.py   (replaces the bundle: this CA only)
  Python ssl / urllib, Go, OpenSSL tools:  SSL_CERT_FILE=${ca}
  Java:                 keytool -importcert -noprompt -alias isg-local-ca -file ${ca} -keystore isg.jks -storepass changeit
                        then java -Djavax.net.ssl.trustStore=isg.jks -Djavax.net.ssl.trustStorePassword=changeit ...
  Debian/Ubuntu, system-wide:  sudo cp ${ca} /usr/local/share/ca-certificates/isg-local-ca.crt && sudo update-ca-certificates
Point the SDK at https://localhost:${port} (or 127.0.0.1): the certificate names localhost, 127.0.0.1 and ::1.
`;
}

export async function certCommand(argv: string[], io: { out: (text: string) => void } = { out: (t) => process.stdout.write(t) }): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      data: { type: 'string' },
      host: { type: 'string', multiple: true },
      force: { type: 'boolean' },
    },
    strict: true,
  });
  const dir = values.out ?? path.join(values.data ?? process.env.ISG_DATA_DIR ?? './data', 'tls');
  for (const host of values.host ?? []) {
    if (!isIP(host) && !/^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(host)) {
      throw new ConfigError(`--host ${host}: not a DNS name or an IP address`);
    }
  }
  const { files, made } = ensureSelfSigned(dir, values.host ?? [], { force: values.force });
  const what = made === 'ca' ? 'wrote a new CA and server certificate' : made === 'server' ? 'kept the CA, wrote a new server certificate' : 'the certificates are current; nothing written';
  io.out(`isg cert: ${what} in ${path.resolve(dir)}\n  ${files.ca}  (the CA to trust)\n  ${files.cert}, ${files.key}\n\n${trustHelp(files)}`);
  return 0;
}
