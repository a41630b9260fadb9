// Who may do what through the admin API. Callers are a function key (everything), or a signed-in principal with
// the app roles of the app registration: Provisioning.Admin (everything) or Provisioning.Reader (reads only).
import type { Actor } from './config-audit.js';

export const APP_ROLES = { admin: 'Provisioning.Admin', reader: 'Provisioning.Reader' } as const;

/** How the caller proved who it is: a cookie session (Easy Auth) is the only one a browser sends by itself. */
export type Credential = 'function-key' | 'bearer-token' | 'session-cookie';

export interface Caller {
  actor: Actor;
  roles: string[];
  credential: Credential;
}

/** The header a cookie-session write must carry (a cross-site form or image cannot set it: CSRF). */
export const CSRF_HEADER = { name: 'x-requested-with', value: 'm365-provisioner-console' } as const;

export const canWrite = (roles: readonly string[]) => roles.includes(APP_ROLES.admin);
export const canRead = (roles: readonly string[]) => canWrite(roles) || roles.includes(APP_ROLES.reader);

/** What the caller may do, as GET /api/me answers it. */
export const accessOf = (caller: Caller) => ({
  actor: caller.actor,
  roles: caller.roles,
  canWrite: canWrite(caller.roles),
});
