/**
 * How the official-SDK suites (tests/sdk/{alibaba,huawei,qiniu}.test.ts) reach the gateway. By default over
 * HTTP. tests/sdk/https.test.ts runs the same suites again in a child process with ISG_TEST_SDK_TLS_DIR set
 * (the folder of an `isg cert` CA and server certificate) and NODE_EXTRA_CA_CERTS naming its CA: the gateway
 * then also listens for HTTPS and the SDKs use it on their default https protocol, verifying the certificate.
 */
import path from 'node:path';
import type { TlsSettings } from '../../bin/config';
import type { TestGateway } from './gateway';

const TLS_DIR = process.env.ISG_TEST_SDK_TLS_DIR;

/** The environment variable https.test.ts sets for the child run. */
export const SDK_TLS_DIR_ENV = 'ISG_TEST_SDK_TLS_DIR';

/** Whether this run speaks HTTPS to the gateway. */
export const overTls = TLS_DIR !== undefined && TLS_DIR !== '';

/** The third argument of startTestGateway: an HTTPS listener on a free port when over TLS. */
export const sdkServer: { tls?: TlsSettings } = overTls ? { tls: { certFile: path.join(TLS_DIR!, 'cert.pem'), keyFile: path.join(TLS_DIR!, 'key.pem'), port: 0 } } : {};

/** The gateway URL the SDK is given: the HTTPS listener when over TLS (never silently the HTTP one). */
export function sdkUrl(gw: TestGateway): string {
  if (!overTls) return gw.url;
  if (!gw.tlsUrl?.startsWith('https://')) throw new Error('the SDK suite runs over TLS but the gateway has no HTTPS listener');
  return gw.tlsUrl;
}
