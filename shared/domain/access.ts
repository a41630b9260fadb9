// Who may do what through the admin API. Callers are a function key (everything), or a signed-in principal with
// the app roles of the app registration: Provisioning.Admin (everything) or Provisioning.Reader (reads only).
import type { Actor } from './config-audit.js';

export const APP_ROLES = { admin: 'Provisioning.Admin', reader: 'Provisioning.Reader' } as const;

/**
 * How the caller proved who it is. Neither is sent by a browser by itself (no cookie session: App Service
 * authentication's principal is never trusted with sign-in on, functions/http-auth.ts), so no write needs a CSRF
 * header.
 */
export type Credential = 'function-key' | 'bearer-token';

export interface Caller {
  actor: Actor;
  roles: string[];
  credential: Credential;
}

/**
 * The header the console sends with every change (a cross-site form or image cannot set it). No credential the API
 * accepts today is ambient, so the API requires it of none; GET /api/auth/config names it for browser clients.
 */
export const CSRF_HEADER = { name: 'x-requested-with', value: 'm365-provisioner-console' } as const;

export const canWrite = (roles: readonly string[]) => roles.includes(APP_ROLES.admin);
export const canRead = (roles: readonly string[]) => canWrite(roles) || roles.includes(APP_ROLES.reader);

/** What the caller may do, as GET /api/me answers it. */
export const accessOf = (caller: Caller) => ({
  actor: caller.actor,
  roles: caller.roles,
  canWrite: canWrite(caller.roles),
});
