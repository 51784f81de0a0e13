/**
 * Self-signed certificates without openssl or a dependency: a small DER writer and the two X.509 v3
 * certificates a local HTTPS endpoint needs, a CA (the one file clients trust) and a server certificate it
 * signs for names and addresses such as localhost, 127.0.0.1 and ::1. Keys are ECDSA P-256, signatures
 * ecdsa-with-SHA256 (node:crypto); the extensions are the ones strict verifiers ask for (OpenSSL 3 and
 * Python's VERIFY_X509_STRICT): basic constraints, key usage, subject and authority key identifiers,
 * extended key usage serverAuth and subject alternative names.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';

// ---- DER -----------------------------------------------------------------------------------------

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, content: Buffer) => Buffer.concat([Buffer.from([tag]), length(content.length), content]);
const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const bool = (value: boolean) => tlv(0x01, Buffer.from([value ? 0xff : 0]));
const octets = (value: Buffer) => tlv(0x04, value);
const utf8 = (text: string) => tlv(0x0c, Buffer.from(text, 'utf8'));
/** A BIT STRING of whole bytes, or of the named bits given (DER drops the trailing zero bits). */
const bits = (value: Buffer, unusedBits = 0) => tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), value]));
const explicit = (n: number, content: Buffer) => tlv(0xa0 + n, content);

/** A non-negative INTEGER from big-endian bytes (a leading 0 keeps the sign bit clear). */
function integer(value: Buffer | number): Buffer {
  let bytes = typeof value === 'number' ? Buffer.from([value]) : value;
  while (bytes.length > 1 && bytes[0] === 0 && bytes[1] < 0x80) bytes = bytes.subarray(1);
  if (bytes[0] >= 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(0x02, bytes);
}

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out = [40 * a + b];
  for (const n of rest) {
    const chunk = [n & 0x7f];
    for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime through 2049, GeneralizedTime after (RFC 5280 §4.1.2.5). */
function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').replace(/\.\d{3}/, ''); // YYYYMMDDHHMMSSZ
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2), 'latin1')) : tlv(0x18, Buffer.from(iso, 'latin1'));
}

// ---- X.509 -----------------------------------------------------------------------------------------

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
};

const SIGNATURE_ALGORITHM = seq(oid(OID.ecdsaWithSha256));

const name = (commonName: string, organization: string) =>
  seq(set(seq(oid(OID.organization), utf8(organization))), set(seq(oid(OID.commonName), utf8(commonName))));

const extension = (id: string, critical: boolean, value: Buffer) => seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));

/** A key pair and what a certificate needs of it. */
export interface CertificateKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function newKey(): CertificateKey {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

/** The key identifier of a public key: SHA-1 of its SubjectPublicKeyInfo (RFC 7093 §2, method 4 style). */
function keyId(publicKey: KeyObject): Buffer {
  return createHash('sha1').update(publicKey.export({ type: 'spki', format: 'der' })).digest();
}

interface CertificateSpec {
  subject: { commonName: string; organization: string };
  key: CertificateKey;
  issuer: { commonName: string; organization: string; key: CertificateKey };
  notBefore: Date;
  notAfter: Date;
  ca: boolean;
  /** Server certificates: DNS names and IP addresses it is valid for. */
  hosts?: string[];
}

/** One certificate, DER, signed by the issuer's key. */
function certificate(spec: CertificateSpec): Buffer {
  const extensions = [
    extension(OID.basicConstraints, true, spec.ca ? seq(bool(true), integer(0)) : seq()),
    // CA: digitalSignature, keyCertSign, cRLSign (bits 0, 5, 6); server: digitalSignature (bit 0).
    extension(OID.keyUsage, true, spec.ca ? bits(Buffer.from([0x86]), 1) : bits(Buffer.from([0x80]), 7)),
    extension(OID.subjectKeyIdentifier, false, octets(keyId(spec.key.publicKey))),
    extension(OID.authorityKeyIdentifier, false, seq(tlv(0x80, keyId(spec.issuer.key.publicKey)))),
  ];
  if (!spec.ca) {
    extensions.push(extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth))));
    const names = (spec.hosts ?? []).map((host) => (isIP(host) ? tlv(0x87, ipBytes(host)) : tlv(0x82, Buffer.from(host, 'ascii'))));
    extensions.push(extension(OID.subjectAltName, false, seq(...names)));
  }
  const tbs = seq(
    explicit(0, integer(2)), // v3
    integer(Buffer.concat([Buffer.from([0x01]), randomBytes(15)])), // positive, 16 bytes
    SIGNATURE_ALGORITHM,
    name(spec.issuer.commonName, spec.issuer.organization),
    seq(time(spec.notBefore), time(spec.notAfter)),
    name(spec.subject.commonName, spec.subject.organization),
    spec.key.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, seq(...extensions)),
  );
  const signature = sign('sha256', tbs, spec.issuer.key.privateKey); // DER ECDSA-Sig-Value
  return seq(tbs, SIGNATURE_ALGORITHM, bits(signature));
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  // IPv6: expand "::" and write eight 16-bit groups.
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g || '0', 16), i * 2));
  return out;
}

export function pem(label: 'CERTIFICATE', der: Buffer): string {
  const body = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

export const privateKeyPem = (key: CertificateKey) => key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

const ORGANIZATION = 'image-search-gateway';
const DAY_MS = 24 * 60 * 60 * 1000;
/** The CA lives ten years; server certificates 825 days, the most Apple's and browsers' rules allow. */
export const CA_VALIDITY_DAYS = 3650;
export const SERVER_VALIDITY_DAYS = 825;

/** A new CA: its certificate (PEM) and key. */
export function newCa(now = new Date()): { certPem: string; key: CertificateKey } {
  const key = newKey();
  const commonName = `image-search-gateway local CA ${randomBytes(4).toString('hex')}`;
  const der = certificate({
    subject: { commonName, organization: ORGANIZATION },
    key,
    issuer: { commonName, organization: ORGANIZATION, key },
    notBefore: new Date(now.getTime() - 60 * 60 * 1000), // an hour back: clocks differ
    notAfter: new Date(now.getTime() + CA_VALIDITY_DAYS * DAY_MS),
    ca: true,
  });
  return { certPem: pem('CERTIFICATE', der), key };
}

/** A server certificate for `hosts` (DNS names and IPs), signed by the CA. */
export function newServerCertificate(ca: { commonName: string; key: CertificateKey }, hosts: string[], now = new Date()): { certPem: string; key: CertificateKey } {
  const key = newKey();
  const der = certificate({
    subject: { commonName: hosts[0], organization: ORGANIZATION },
    key,
    issuer: { commonName: ca.commonName, organization: ORGANIZATION, key: ca.key },
    notBefore: new Date(now.getTime() - 60 * 60 * 1000),
    notAfter: new Date(now.getTime() + SERVER_VALIDITY_DAYS * DAY_MS),
    ca: false,
    hosts,
  });
  return { certPem: pem('CERTIFICATE', der), key };
}
