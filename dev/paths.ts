import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (dev/ sits directly under it). */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Machine-local state that is never committed (see .gitignore). */
export const LOCAL_STATE_DIR = join(REPO_ROOT, '.local');
export const DEV_TLS_DIR = join(LOCAL_STATE_DIR, 'tls');
