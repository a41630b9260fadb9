// The browser-facing endpoints. Without `prompt` the simulated user (the tenant admin, login_hint or the
// /_sim/interactive choice) approves or declines at once and the endpoint redirects like the real one; with
// prompt=login or prompt=select_account it shows a sign-in page (sign-in-page.ts) and the user posted there signs in.
//  - authorize: v2-oauth2-auth-code-flow ("Request an authorization code"); PKCE per RFC 7636.
//  - adminconsent: v2-admin-consent ("Request the permissions from a directory admin").
// Errors that make the redirect URI untrustworthy (unknown client, unregistered redirect URI) are shown as
// a page, never redirected — as the identity platform does.
import type { SimContext } from '../context.js';
import { escapeHtml, htmlResponse, redirectResponse, type SimResponse } from '../http.js';
import type { AppRegistration, TenantState } from '../state.js';
import { splitApiScopes } from './api-tokens.js';
import { findApp } from './clients.js';
import { IdentityError } from './errors.js';
import { MULTI_TENANT_SEGMENTS, resolveTenantOrThrow } from './metadata.js';
import { redirectUriRegistered } from './redirect-uri.js';
import { parseDelegatedScopes } from './scopes.js';
import { INTERACTIVE_PROMPTS, signInPage, USERNAME_FIELD } from './sign-in-page.js';
import { randomToken } from './token.js';

function errorPage(err: IdentityError): SimResponse {
  return htmlResponse(err.status, `<!doctype html><title>Sign in error</title><p>${escapeHtml(err.message)}</p>`);
}

function withParams(base: string, params: Record<string, string | undefined>): string {
  const url = new URL(base);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}

/** Which tenant a browser request lands in: the path's tenant, or for common/organizations the login_hint's or the first tenant with the app. */
function landingTenant(
  ctx: SimContext,
  segment: string,
  clientId: string | null,
  loginHint: string | null,
): TenantState {
  if (!MULTI_TENANT_SEGMENTS.has(segment.toLowerCase())) return resolveTenantOrThrow(ctx, segment);
  const hinted = loginHint ? ctx.directory.tenant(loginHint.split('@')[1] ?? '') : undefined;
  if (hinted) return hinted;
  for (const t of ctx.directory.tenants.values()) if (clientId && t.apps.has(clientId.toLowerCase())) return t;
  return [...ctx.directory.tenants.values()][0]!;
}

/** Client and redirect URI checks shared by both endpoints; failures render a page. */
function trustedClient(
  ctx: SimContext,
  tenant: TenantState,
  q: URLSearchParams,
): { app: AppRegistration; redirectUri: string } | SimResponse {
  try {
    const app = findApp(tenant, q.get('client_id'));
    const registered = [...app.redirectUris, ...app.spaRedirectUris];
    const redirectUri = q.get('redirect_uri') ?? registered[0];
    if (!redirectUri || !redirectUriRegistered(registered, redirectUri)) {
      throw new IdentityError(
        400,
        'invalid_request',
        50011,
        `The redirect URI '${redirectUri ?? ''}' specified in the request does not match the redirect URIs configured for the application '${app.appId}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal.`,
      );
    }
    return { app, redirectUri };
  } catch (e) {
    if (e instanceof IdentityError) return errorPage(e);
    throw e;
  }
}

function signedInUser(ctx: SimContext, tenant: TenantState, loginHint: string | null) {
  const upn = ctx.interactive.userPrincipalName ?? loginHint ?? tenant.adminUserPrincipalName;
  return (
    tenant.users.findBy('userPrincipalName', upn)[0] ??
    tenant.users.findBy('userPrincipalName', tenant.adminUserPrincipalName)[0]
  );
}

/** The tenant a sign-in lands in and the app it is for; an error page when either is unacceptable. */
function landAndTrust(
  ctx: SimContext,
  segment: string,
  q: URLSearchParams,
  loginHint: string | null,
): { tenant: TenantState; client: { app: AppRegistration; redirectUri: string } } | SimResponse {
  let tenant: TenantState;
  try {
    tenant = landingTenant(ctx, segment, q.get('client_id'), loginHint);
  } catch (e) {
    if (e instanceof IdentityError) return errorPage(e);
    throw e;
  }
  const client = trustedClient(ctx, tenant, q);
  return 'status' in client ? client : { tenant, client };
}

/**
 * GET: the request of the app. POST (`posted`): the sign-in page's form, the same parameters and the username; the
 * user it names signs in.
 */
export function authorize(ctx: SimContext, segment: string, q: URLSearchParams, posted = false): SimResponse {
  const username = posted ? (q.get(USERNAME_FIELD) ?? '') : undefined;
  const landed = landAndTrust(ctx, segment, q, username ?? q.get('login_hint'));
  if ('status' in landed) return landed;
  const { tenant, client } = landed;
  const state = q.get('state') ?? undefined;
  const fail = (error: string, aadsts: number, description: string) =>
    redirectResponse(
      withParams(client.redirectUri, { error, error_description: `AADSTS${aadsts}: ${description}`, state }),
    );

  if (q.get('response_type') !== 'code')
    return fail(
      'unsupported_response_type',
      70005,
      "The provided value for the input parameter 'response_type' is not allowed for this request. Expected value: 'code'.",
    );
  let scopes;
  let api;
  try {
    const split = splitApiScopes(tenant, q.get('scope'));
    api = split.api;
    scopes = api
      ? { oidc: split.rest.map((s) => s.toLowerCase()), graph: [], graphDefault: false }
      : parseDelegatedScopes(q.get('scope'));
  } catch (e) {
    if (e instanceof IdentityError) return fail(e.error, e.aadsts, e.description);
    throw e;
  }
  const challenge = q.get('code_challenge') ?? undefined;
  const method = q.get('code_challenge_method') ?? (challenge ? 'plain' : undefined);
  if (method !== undefined && method !== 'S256' && method !== 'plain')
    return fail('invalid_request', 501491, `Invalid code_challenge_method '${method}'.`);
  const action = `${ctx.baseUrl}/${encodeURIComponent(segment)}/oauth2/v2.0/authorize`;
  if (username === undefined && INTERACTIVE_PROMPTS.has(q.get('prompt') ?? '')) return signInPage(action, q);
  if (ctx.interactive.decision === 'deny')
    return fail('access_denied', 65004, 'User declined to consent to access the app.');
  const user =
    username === undefined
      ? signedInUser(ctx, tenant, q.get('login_hint'))
      : tenant.users.findBy('userPrincipalName', username.trim())[0];
  if (!user && username === undefined) return fail('access_denied', 50057, 'The user account is disabled.');
  if (!user)
    return signInPage(
      action,
      q,
      "We couldn't find an account with that username. Try another, or get a new Microsoft account.",
    );
  if (user.data.accountEnabled === false) return fail('access_denied', 50057, 'The user account is disabled.');

  // The signed-in admin consents to what is asked; `.default` means what the tenant already consented.
  const graph = scopes.graphDefault
    ? client.app.delegatedScopes.filter((s) => !['openid', 'profile', 'email', 'offline_access'].includes(s))
    : scopes.graph;
  const code = randomToken();
  ctx.authCodes.set(code, {
    tenantId: tenant.id,
    clientId: client.app.appId,
    redirectUri: q.get('redirect_uri') ?? client.redirectUri,
    scopes: [...new Set([...graph, ...scopes.oidc])],
    userId: user.id,
    codeChallenge: challenge,
    codeChallengeMethod: method,
    nonce: q.get('nonce') ?? undefined,
    issuedAt: ctx.clock.now(),
    redeemed: false,
    ...(api ? { api } : {}),
  });
  return redirectResponse(withParams(client.redirectUri, { code, state, session_state: randomToken(16) }));
}

export function adminConsent(ctx: SimContext, segment: string, q: URLSearchParams): SimResponse {
  const landed = landAndTrust(ctx, segment, q, null);
  if ('status' in landed) return landed;
  const { tenant, client } = landed;
  const state = q.get('state') ?? undefined;
  if (ctx.interactive.decision === 'deny') {
    return redirectResponse(
      withParams(client.redirectUri, {
        error: 'access_denied',
        error_subcode: 'cancel',
        error_description: 'AADSTS65004: User declined to consent to access the app.',
        state,
      }),
    );
  }
  // Granted = the application permissions configured for the app in this tenant (v2-admin-consent, "Successful response").
  const scope = client.app.applicationPermissions.map((p) => `https://graph.microsoft.com/${p}`).join(' ');
  return redirectResponse(withParams(client.redirectUri, { admin_consent: 'True', tenant: tenant.id, state, scope }));
}
