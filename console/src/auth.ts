// The one place that says who the console is: the headers every API call carries.
//  - Sign-in off (GET /api/auth/config answers signIn: null): the function key, asked for once and kept in this tab's
//    sessionStorage only (gone when the tab closes, never in a URL or cookie).
//  - Sign-in on: Microsoft Entra ID, authorization code + PKCE (a single-page-application client, no secret), with
//    oauth4webapi: the browser goes to the authority's authorize endpoint and comes back to /api/console/ with a code,
//    redeemed cross-origin at the token endpoint for an access token for this API, sent as `Authorization: Bearer`.
//    The state and the PKCE verifier live in sessionStorage for the round trip only and are checked on return; the
//    code and state are removed from the address bar before the code is redeemed. The access token is kept in
//    sessionStorage until it expires (no refresh token is asked for): then the console signs in again.
import * as oauth from 'oauth4webapi';

export interface SignInConfig {
  authority: string;
  tenantId: string;
  clientId: string;
  scopes: string[];
}

export type AuthMode = { kind: 'function-key' } | { kind: 'entra-id'; config: SignInConfig };

const KEY_ITEM = 'm365prov.functionKey';
const TOKEN_ITEM = 'm365prov.accessToken';
const PENDING_ITEM = 'm365prov.signIn';
/** A token this close to its expiry is not used any more (a request would arrive with it expired). */
const EXPIRY_MARGIN_MS = 60_000;
/** Where Entra ID sends the browser back: registered as a single-page-application redirect URI. */
const redirectUri = () => new URL('/api/console/', location.origin).href;

const listeners = new Set<() => void>();
const changed = () => listeners.forEach((l) => l());
let mode: AuthMode = { kind: 'function-key' };
let expiryTimer: ReturnType<typeof setTimeout> | undefined;

interface StoredToken {
  accessToken: string;
  expiresAt: number;
}
interface PendingSignIn {
  state: string;
  verifier: string;
  returnTo: string;
}

function readJson<T>(item: string): T | undefined {
  try {
    const raw = sessionStorage.getItem(item);
    return raw ? (JSON.parse(raw) as T) : undefined;
  } catch {
    return undefined;
  }
}

function storedToken(): StoredToken | undefined {
  const token = readJson<StoredToken>(TOKEN_ITEM);
  return token && token.expiresAt - EXPIRY_MARGIN_MS > Date.now() ? token : undefined;
}

export function authHeaders(): Record<string, string> {
  if (mode.kind === 'entra-id') {
    const token = storedToken();
    return token ? { authorization: `Bearer ${token.accessToken}` } : {};
  }
  const key = sessionStorage.getItem(KEY_ITEM);
  return key ? { 'x-functions-key': key } : {};
}

export const authMode = (): AuthMode => mode;

export const isSignedIn = (): boolean =>
  mode.kind === 'entra-id' ? storedToken() !== undefined : sessionStorage.getItem(KEY_ITEM) !== null;

/** Sign-in off: remembers the function key for this tab. */
export function signInWithKey(functionKey: string): void {
  sessionStorage.setItem(KEY_ITEM, functionKey);
  changed();
}

/** Forgets the credential (also when the API answered 401: the key was wrong or rotated, the token expired). */
export function signOut(): void {
  sessionStorage.removeItem(KEY_ITEM);
  sessionStorage.removeItem(TOKEN_ITEM);
  clearTimeout(expiryTimer);
  changed();
}

export function onAuthChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

async function authorizationServer(config: SignInConfig): Promise<oauth.AuthorizationServer> {
  // Entra ID's v2 metadata names the issuer https://<authority host>/<tenant id>/v2.0.
  const issuer = new URL(`${config.authority.replace(/\/+$/, '')}/v2.0`);
  return oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oidc' }));
}

/** Sign-in on: goes to Entra ID's sign-in page; the browser comes back to the console (finishSignIn). */
export async function signInWithEntraId(): Promise<void> {
  if (mode.kind !== 'entra-id') return;
  const as = await authorizationServer(mode.config);
  const pending: PendingSignIn = {
    state: oauth.generateRandomState(),
    verifier: oauth.generateRandomCodeVerifier(),
    returnTo: location.hash,
  };
  sessionStorage.setItem(PENDING_ITEM, JSON.stringify(pending));
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({
    client_id: mode.config.clientId,
    response_type: 'code',
    redirect_uri: redirectUri(),
    scope: mode.config.scopes.join(' '),
    state: pending.state,
    code_challenge: await oauth.calculatePKCECodeChallenge(pending.verifier),
    code_challenge_method: 'S256',
    // An admin console: let the person choose the account (also after signing out, to change roles).
    prompt: 'select_account',
  }).toString();
  location.assign(url.href);
}

/** The message of a sign-in that came back refused (shown on the sign-in screen). */
export class SignInError extends Error {}

/**
 * Reads the sign-in configuration and, when the browser is coming back from Entra ID, redeems the code. Throws
 * SignInError when that round trip failed (state mismatch, refused sign-in, refused code).
 */
export async function initAuth(): Promise<AuthMode> {
  const response = await fetch('/api/auth/config', { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`GET /api/auth/config answered ${response.status}`);
  const body = (await response.json()) as { signIn: SignInConfig | null };
  mode = body.signIn ? { kind: 'entra-id', config: body.signIn } : { kind: 'function-key' };
  if (mode.kind === 'entra-id') {
    sessionStorage.removeItem(KEY_ITEM);
    await finishSignIn(mode.config);
    watchExpiry();
  } else sessionStorage.removeItem(TOKEN_ITEM);
  return mode;
}

async function finishSignIn(config: SignInConfig): Promise<void> {
  const here = new URL(location.href);
  if (!here.searchParams.has('code') && !here.searchParams.has('error')) return;
  const pending = readJson<PendingSignIn>(PENDING_ITEM);
  sessionStorage.removeItem(PENDING_ITEM);
  // The code and state leave the address bar (and the history) before anything else happens.
  history.replaceState(null, '', `${here.pathname}${pending?.returnTo ?? ''}`);
  if (!pending) throw new SignInError('The sign-in answer did not belong to a sign-in started in this tab');
  const as = await authorizationServer(config);
  const client: oauth.Client = { client_id: config.clientId };
  try {
    const params = oauth.validateAuthResponse(as, client, here.searchParams, pending.state);
    const tokenResponse = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      oauth.None(),
      params,
      redirectUri(),
      pending.verifier,
    );
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, tokenResponse);
    const stored: StoredToken = {
      accessToken: tokens.access_token,
      expiresAt: Date.now() + (tokens.expires_in ?? 3600) * 1000,
    };
    sessionStorage.setItem(TOKEN_ITEM, JSON.stringify(stored));
  } catch (error) {
    throw new SignInError(describeSignInFailure(error));
  }
}

function describeSignInFailure(error: unknown): string {
  if (error instanceof oauth.AuthorizationResponseError || error instanceof oauth.ResponseBodyError)
    return error.error_description ?? error.error;
  return error instanceof Error ? error.message : String(error);
}

/** When the token expires the console is signed out (and shows the sign-in screen). */
function watchExpiry(): void {
  clearTimeout(expiryTimer);
  const token = storedToken();
  if (!token) return;
  // setTimeout's delay is a 32-bit number of milliseconds; tokens live about an hour.
  const delay = Math.min(token.expiresAt - EXPIRY_MARGIN_MS - Date.now(), 2 ** 31 - 1);
  expiryTimer = setTimeout(signOut, Math.max(delay, 0));
}
