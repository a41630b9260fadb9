// A local certificate authority and a loopback server certificate for the simulated tenant.
// Processes trust the CA through NODE_EXTRA_CA_CERTS (read by Node at start-up, applies to https and
// fetch alike), so TLS verification stays on everywhere.
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import selfsigned from 'selfsigned';

export interface DevCertificates {
  caCertPath: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

function stillValid(certPem: string, minRemainingMs: number): boolean {
  try {
    // validTo (a string) rather than validToDate, which Node 20 lacks.
    return Date.parse(new X509Certificate(certPem).validTo) - Date.now() > minRemainingMs;
  } catch {
    return false;
  }
}

/** Returns the certificates in `dir`, creating them when missing or within a day of expiry. */
export async function ensureDevCertificates(dir: string): Promise<DevCertificates> {
  const caCertPath = join(dir, 'ca.pem');
  const serverCertPath = join(dir, 'server.pem');
  const serverKeyPath = join(dir, 'server-key.pem');
  if ([caCertPath, serverCertPath, serverKeyPath].every((p) => existsSync(p))) {
    const caCert = readFileSync(caCertPath, 'utf8');
    const serverCert = readFileSync(serverCertPath, 'utf8');
    if (stillValid(caCert, DAY_MS) && stillValid(serverCert, DAY_MS)) {
      return { caCertPath, caCert, serverCert, serverKey: readFileSync(serverKeyPath, 'utf8') };
    }
  }
  mkdirSync(dir, { recursive: true });
  const notAfterDate = new Date(Date.now() + 30 * DAY_MS);
  const ca = await selfsigned.generate([{ name: 'commonName', value: 'm365-provisioner local CA' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const server = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  writeFileSync(caCertPath, ca.cert);
  writeFileSync(serverCertPath, server.cert);
  writeFileSync(serverKeyPath, server.private, { mode: 0o600 });
  return { caCertPath, caCert: ca.cert, serverCert: server.cert, serverKey: server.private };
}
