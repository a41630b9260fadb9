// Starts what the whole suite shares: the local CA (trusted by every worker through NODE_EXTRA_CA_CERTS)
// and one Azurite on OS-chosen ports, so tests run even while `npm start` holds the default ones.
import type { TestProject } from 'vitest/node';
import { buildConsole } from '../../console/build.js';
import { type RunningAzurite, startAzurite } from '../../dev/azurite.js';
import { DEV_TLS_DIR } from '../../dev/paths.js';
import { ensureDevCertificates } from '../../dev/tls/dev-certificates.js';
import { generateEncryptionKeyEntry } from '../../shared/security/secret-cipher.js';

let azurite: RunningAzurite | undefined;

export default async function setup(project: TestProject) {
  const certs = await ensureDevCertificates(DEV_TLS_DIR);
  process.env.NODE_EXTRA_CA_CERTS = certs.caCertPath;
  // A throw-away key for this run's secrets at rest (workers and spawned hosts inherit it).
  process.env.SECRETS_ENCRYPTION_KEYS = generateEncryptionKeyEntry('test');
  // The host serves the console from dist/console: build it from this checkout's sources first.
  await buildConsole();
  azurite = await startAzurite();
  project.provide('storageConnectionString', azurite.connectionString);
  return async () => {
    await azurite?.stop();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    storageConnectionString: string;
  }
}
