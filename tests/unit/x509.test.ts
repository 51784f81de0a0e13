/**
 * The certificate writer of `isg cert` (bin/x509.ts), checked by Node's own X.509 parser: dates on both sides
 * of 2050 (UTCTime / GeneralizedTime), IPv6 forms in the subject alternative names, chains that verify.
 */
import { X509Certificate } from 'node:crypto';
import { newCa, newServerCertificate } from '../../bin/x509';

const commonName = (cert: X509Certificate) => cert.subject.split('\n').find((l) => l.startsWith('CN='))!.slice(3);

test.each([
  ['now', new Date()],
  ['validity past 2050 (GeneralizedTime)', new Date('2045-06-01T00:00:00Z')],
])('a CA and a server certificate it signs verify (%s)', (_name, now) => {
  const ca = newCa(now);
  const caCert = new X509Certificate(ca.certPem);
  const server = newServerCertificate({ commonName: commonName(caCert), key: ca.key }, ['localhost', '127.0.0.1'], now);
  const cert = new X509Certificate(server.certPem);
  expect([caCert.ca, cert.ca, cert.checkIssued(caCert), cert.verify(caCert.publicKey), caCert.verify(caCert.publicKey)]).toEqual([true, false, true, true, true]);
  expect(Date.parse(caCert.validFrom)).toBeLessThanOrEqual(now.getTime());
  expect(Date.parse(caCert.validTo)).toBeGreaterThan(now.getTime() + 9 * 365 * 24 * 3600 * 1000);
  expect(cert.checkPrivateKey(server.key.privateKey)).toBe(true);
});

test('IPv6 addresses in every written form, and DNS names, are in the subject alternative names', () => {
  const ca = newCa();
  const hosts = ['isg.example', '::1', 'fe80::1:2', '2001:db8::', '2001:db8:0:0:1:0:0:1', '10.0.0.7'];
  const cert = new X509Certificate(newServerCertificate({ commonName: commonName(new X509Certificate(ca.certPem)), key: ca.key }, hosts).certPem);
  expect(cert.checkHost('isg.example')).toBe('isg.example');
  for (const ip of hosts.slice(1)) expect(cert.checkIP(ip)).toBe(ip);
  expect(cert.checkIP('::2')).toBeUndefined();
});
