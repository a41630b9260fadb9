import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (dev/ sits directly under it). */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Machine-local files that are never committed (see .gitignore): the local CA, bench output, `npm start`'s state. */
export const LOCAL_DIR = join(REPO_ROOT, '.local');
export const DEV_TLS_DIR = join(LOCAL_DIR, 'tls');

/**
 * Where `npm start` keeps what it remembers between runs (Azurite's data, the simulated tenant, the key for
 * secrets at rest): `LOCAL_STATE_DIR` when set (tests use a temporary directory), otherwise `.local/`.
 */
export function localStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.LOCAL_STATE_DIR ? resolve(env.LOCAL_STATE_DIR) : LOCAL_DIR;
}
