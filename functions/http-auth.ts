// Who is calling the admin API, and whether they may. Every admin route runs its handler through `guarded`.
//
// Sign-in off (ENTRA_TENANT_ID / ENTRA_CLIENT_ID unset): the routes are registered with authLevel `function`, so the
// Functions host has checked the function key before this code runs; the caller is that key (everything allowed).
//
// Sign-in on: the routes are registered `anonymous` (Functions docs, "Secure an HTTP endpoint in production": with
// app-level authentication the authorization level is anonymous) and this code authenticates every request:
//  - `Authorization: Bearer <access token>`: an Entra ID v2 access token for this API, validated with jose against
//    the tenant's JWKS (shared/security/access-tokens.ts); the roles are its `roles` claim;
//  - a function key (`x-functions-key` or `?code=`): the host's own managed keys stay the truth. The app cannot read
//    them, so it asks the host: one request to its own `auth/key-check` function (authLevel `function`), answered
//    204 for a key the host accepts. What the host answered is remembered per instance by the key's SHA-256 (bounded):
//    an accepted key for five minutes, a refused one for 30 seconds; the same key asked concurrently is asked once;
//    and keys not remembered are checked at most 60 times a minute per instance (then 429 too-many-key-checks), so
//    wrong keys cannot make every request cost a self-call. A function key is Provisioning.Admin;
//  - never App Service authentication's `x-ms-client-principal*` headers, even with WEBSITE_AUTH_ENABLED: the app
//    validates tokens itself, and on Flex Consumption the platform's authentication is not documented to strip those
//    headers from outside requests, so a forged principal claiming Provisioning.Admin would be believed (README,
//    "Sign-in and roles"). As no credential the app accepts is sent by a browser by itself (no cookie session), no
//    change needs a CSRF header.
// Then: a write (any method but GET/HEAD/OPTIONS, or a route declared `write`) needs Provisioning.Admin, a read
// Provisioning.Admin or Provisioning.Reader; refused → 403 problem+json. Nothing authenticated → 401.
import { createHash } from 'node:crypto';
import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { appServiceAuthEnabled, publicOrigin, signInConfigured, signInSettings } from '../shared/config.js';
import { APP_ROLES, type Caller, canRead, canWrite } from '../shared/domain/access.js';
import { AppError } from '../shared/domain/errors.js';
import { AccessTokenVerifier, InvalidTokenError } from '../shared/security/access-tokens.js';
import { setCaller } from './http-caller.js';
import { problemFor } from './http-support.js';
import { actorOf, functionKeyOf, keyActor } from './http-writes.js';
import { services } from './services.js';

/** Whether a route reads or writes: `auto` decides by the request's method. */
export type RouteAccess = 'read' | 'write' | 'auto';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** The function the app asks whether the host accepts a key (functions/http/auth.ts). */
export const KEY_CHECK_ROUTE = 'auth/key-check';

/** Wraps an admin route's handler: authenticate, check the roles, then run it with the caller known. */
export function guarded(access: RouteAccess, handler: HttpHandler): HttpHandler {
  return async (request: HttpRequest, context: InvocationContext) => {
    let caller: Caller;
    try {
      caller = await authenticate(request);
      authorize(request, caller, access);
    } catch (error) {
      return withChallenge(problemFor(error, context), error);
    }
    setCaller(request, caller);
    return handler(request, context);
  };
}

async function authenticate(request: HttpRequest): Promise<Caller> {
  const key = functionKeyOf(request);
  if (!signInConfigured()) {
    // The host checked the key (authLevel function, as registered). Easy Auth, where it runs, may name the person.
    return { actor: actorOf(request, appServiceAuthEnabled()), roles: [APP_ROLES.admin], credential: 'function-key' };
  }
  const config = services().config;
  const signIn = signInSettings(config)!;
  const authorization = request.headers.get('authorization');
  if (authorization !== null) {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
    if (!token) throw invalidToken('the Authorization header must be "Bearer <access token>"');
    try {
      const verified = await verifier(signIn).verify(token);
      return { ...verified, credential: 'bearer-token' };
    } catch (error) {
      if (error instanceof InvalidTokenError) throw invalidToken(error.message);
      throw error;
    }
  }
  if (key) {
    if (await hostAcceptsKey(key))
      return { actor: keyActor(key), roles: [APP_ROLES.admin], credential: 'function-key' };
    throw new AppError('invalid', 'authentication-required', 'The function key is not valid');
  }
  throw new AppError(
    'invalid',
    'authentication-required',
    'Sign in: send an Entra ID access token for this API (Authorization: Bearer …) or a function key (x-functions-key)',
  );
}

function authorize(request: HttpRequest, caller: Caller, access: RouteAccess): void {
  const write = access === 'write' || (access === 'auto' && !SAFE_METHODS.has(request.method.toUpperCase()));
  if (write && !canWrite(caller.roles))
    throw new AppError(
      'invalid',
      'read-only-role',
      canRead(caller.roles)
        ? `${APP_ROLES.reader} can read but not change anything: ${APP_ROLES.admin} is needed`
        : `This needs the app role ${APP_ROLES.admin}`,
      { roles: caller.roles },
    );
  if (!write && !canRead(caller.roles))
    throw new AppError(
      'invalid',
      'role-required',
      `Signed in, but without an app role of this app: ${APP_ROLES.admin} or ${APP_ROLES.reader} is needed (assigned in Entra ID, Enterprise applications → Users and groups)`,
      { roles: caller.roles },
    );
}

const invalidToken = (why: string) =>
  new AppError('invalid', 'invalid-token', `The access token was refused: ${why}`, { reason: why });

/** RFC 6750 §3: a 401 says which scheme to use (and, for a refused token, `invalid_token`). */
function withChallenge(response: HttpResponseInit, error: unknown): HttpResponseInit {
  if (response.status !== 401) return response;
  const refused = error instanceof AppError && error.code === 'invalid-token';
  const challenge = refused ? 'Bearer error="invalid_token"' : 'Bearer';
  return { ...response, headers: { ...(response.headers as Record<string, string>), 'www-authenticate': challenge } };
}

let cachedVerifier: { key: string; verifier: AccessTokenVerifier } | undefined;
function verifier(signIn: NonNullable<ReturnType<typeof signInSettings>>): AccessTokenVerifier {
  const key = JSON.stringify(signIn);
  if (cachedVerifier?.key !== key) cachedVerifier = { key, verifier: new AccessTokenVerifier(signIn) };
  return cachedVerifier.verifier;
}

/** What a key check answered, remembered per instance by the key's SHA-256 (never the key). */
class RememberedKeys {
  private readonly until = new Map<string, number>();
  constructor(
    private readonly forMs: number,
    private readonly max: number,
  ) {}
  has(digest: string): boolean {
    const until = this.until.get(digest);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.until.delete(digest);
    return false;
  }
  add(digest: string): void {
    this.until.delete(digest);
    // Bounded: the oldest entry (a Map keeps insertion order) makes room.
    if (this.until.size >= this.max) this.until.delete(this.until.keys().next().value!);
    this.until.set(digest, Date.now() + this.forMs);
  }
}

const acceptedKeys = new RememberedKeys(5 * 60_000, 1_000);
/** A refused key is remembered briefly, so a wrong key sent again costs no self-call (a key just added waits 30 s). */
const refusedKeys = new RememberedKeys(30_000, 1_000);
/** The same key asked concurrently is asked once. */
const checksInFlight = new Map<string, Promise<boolean>>();
/** Keys not remembered are checked at most this many times a minute per instance (bounds the self-calls). */
const KEY_CHECKS_PER_MINUTE = 60;
const checkWindow = { startedAt: 0, count: 0 };

function hostAcceptsKey(key: string): Promise<boolean> {
  const digest = createHash('sha256').update(key, 'utf8').digest('hex');
  if (acceptedKeys.has(digest)) return Promise.resolve(true);
  if (refusedKeys.has(digest)) return Promise.resolve(false);
  const inFlight = checksInFlight.get(digest);
  if (inFlight) return inFlight;
  const now = Date.now();
  if (now - checkWindow.startedAt >= 60_000) Object.assign(checkWindow, { startedAt: now, count: 0 });
  if (checkWindow.count >= KEY_CHECKS_PER_MINUTE)
    throw new AppError(
      'throttled',
      'too-many-key-checks',
      `More than ${KEY_CHECKS_PER_MINUTE} function keys this instance does not know were sent within a minute; try again later`,
      {},
      checkWindow.startedAt + 60_000 - now,
    );
  checkWindow.count++;
  const check = askHost(key)
    .then((accepted) => {
      (accepted ? acceptedKeys : refusedKeys).add(digest);
      return accepted;
    })
    .finally(() => checksInFlight.delete(digest));
  checksInFlight.set(digest, check);
  return check;
}

/** Asks the Functions host whether it accepts `key` (see the top of this file). */
async function askHost(key: string): Promise<boolean> {
  const origin = publicOrigin(services().config);
  if (!origin)
    throw new AppError(
      'transient',
      'dependency-unavailable',
      'A function key cannot be checked: neither PUBLIC_BASE_URL nor WEBSITE_HOSTNAME is set',
    );
  let status: number;
  try {
    const res = await fetch(`${origin}/api/${KEY_CHECK_ROUTE}`, {
      headers: { 'x-functions-key': key },
      signal: AbortSignal.timeout(10_000),
    });
    await res.body?.cancel();
    status = res.status;
  } catch (error) {
    throw new AppError(
      'transient',
      'dependency-unavailable',
      `The Functions host could not be asked to check the function key: ${(error as Error).message}`,
    );
  }
  if (status === 204 || status === 200) return true;
  if (status === 401 || status === 403) return false;
  throw new AppError(
    'transient',
    'dependency-unavailable',
    `The Functions host answered ${status} when asked to check the function key`,
  );
}
