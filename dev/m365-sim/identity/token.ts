// POST {authority}/{tenant}/oauth2/v2.0/token — client_credentials (v2-oauth2-client-creds-grant-flow),
// authorization_code with PKCE and refresh_token (v2-oauth2-auth-code-flow).
import { createHash, randomBytes } from 'node:crypto';
import { DAY_MS, MINUTE_MS } from '../clock.js';
import type { ApiGrant, AuthCodeGrant, RefreshGrant, SimContext } from '../context.js';
import { jsonResponse, type SimResponse } from '../http.js';
import type { AppRegistration, TenantState, UserRecord } from '../state.js';
import { signApiAccessToken } from './api-tokens.js';
import { authenticateClient } from './clients.js';
import { IdentityError } from './errors.js';
import { resolveTenantOrThrow } from './metadata.js';
import { redirectUriRegistered } from './redirect-uri.js';
import { parseClientCredentialsScope, parseDelegatedScopes } from './scopes.js';
import { ACCESS_TOKEN_LIFETIME_S, signAccessToken, signIdToken } from './signing.js';

/** Authorization codes live about ten minutes (v2-oauth2-auth-code-flow, "Redeem a code"). */
export const AUTH_CODE_LIFETIME_MS = 10 * MINUTE_MS;
/** Refresh tokens expire after 90 days of inactivity (refresh-tokens, "Token lifetime"). */
export const REFRESH_TOKEN_INACTIVITY_MS = 90 * DAY_MS;

export function servicePrincipalId(tenantId: string, appId: string): string {
  const h = createHash('sha256').update(`sp|${tenantId}|${appId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function randomToken(bytes = 48): string {
  return randomBytes(bytes).toString('base64url');
}

export async function tokenEndpoint(
  ctx: SimContext,
  segment: string,
  params: URLSearchParams,
  authorization: string | undefined,
  origin?: string,
): Promise<SimResponse> {
  const grantType = params.get('grant_type');
  const now = ctx.clock.now();
  switch (grantType) {
    case 'client_credentials': {
      const tenant = resolveTenantOrThrow(ctx, segment, 'invalid_request');
      const resource = parseClientCredentialsScope(params.get('scope'));
      const app = authenticateClient(tenant, params, authorization, now);
      const accessToken = await signAccessToken(
        ctx.keys,
        {
          tid: tenant.id,
          appid: app.appId,
          aud: resource,
          roles: app.applicationPermissions,
          oid: servicePrincipalId(tenant.id, app.appId),
          idtyp: 'app',
        },
        now,
      );
      return tokenResponse({
        token_type: 'Bearer',
        expires_in: ACCESS_TOKEN_LIFETIME_S,
        ext_expires_in: ACCESS_TOKEN_LIFETIME_S,
        access_token: accessToken,
      });
    }
    case 'authorization_code':
      return redeemCode(ctx, segment, params, authorization, now, origin);
    case 'refresh_token':
      return redeemRefreshToken(ctx, segment, params, authorization, now);
    case null:
      throw new IdentityError(
        400,
        'invalid_request',
        900144,
        "The request body must contain the following parameter: 'grant_type'.",
      );
    default:
      throw new IdentityError(
        400,
        'unsupported_grant_type',
        70003,
        `The app requested an unsupported grant type '${grantType}'.`,
      );
  }
}

function tokenResponse(body: Record<string, unknown>): SimResponse {
  return jsonResponse(200, body, { 'cache-control': 'no-store, no-cache', pragma: 'no-cache' });
}

function pkceMatches(challenge: string, method: 'S256' | 'plain', verifier: string): boolean {
  const computed = method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
  return computed === challenge;
}

async function redeemCode(
  ctx: SimContext,
  segment: string,
  params: URLSearchParams,
  authorization: string | undefined,
  now: number,
  origin: string | undefined,
): Promise<SimResponse> {
  const code = params.get('code');
  if (!code)
    throw new IdentityError(
      400,
      'invalid_request',
      900144,
      "The request body must contain the following parameter: 'code'.",
    );
  const grant = ctx.authCodes.get(code);
  const tenant = grant ? ctx.directory.tenant(grant.tenantId) : undefined;
  if (segment.toLowerCase() !== 'common' && segment.toLowerCase() !== 'organizations')
    resolveTenantOrThrow(ctx, segment, 'invalid_request');
  if (!grant || !tenant)
    throw new IdentityError(
      400,
      'invalid_grant',
      9002313,
      'Invalid request. Request is malformed or invalid. (The provided authorization code is not valid.)',
    );
  const app = spaClient(tenant, grant, params, origin) ?? authenticateClient(tenant, params, authorization, now);
  if (app.appId !== grant.clientId)
    throw new IdentityError(
      400,
      'invalid_grant',
      70000,
      'The provided authorization code was issued to a different client.',
    );
  if (grant.redeemed) {
    throw new IdentityError(
      400,
      'invalid_grant',
      54005,
      'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.',
    );
  }
  if (now - grant.issuedAt > AUTH_CODE_LIFETIME_MS)
    throw new IdentityError(
      400,
      'invalid_grant',
      70008,
      'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
    );
  if (params.get('redirect_uri') !== grant.redirectUri) {
    throw new IdentityError(
      400,
      'invalid_grant',
      70000,
      "The request is not valid: the 'redirect_uri' does not match the redirect URI used to obtain the authorization code.",
    );
  }
  if (grant.codeChallenge) {
    const verifier = params.get('code_verifier');
    if (!verifier || !pkceMatches(grant.codeChallenge, grant.codeChallengeMethod ?? 'plain', verifier)) {
      throw new IdentityError(
        400,
        'invalid_grant',
        501481,
        'The Code_Verifier does not match the code_challenge supplied in the authorization request.',
      );
    }
  }
  grant.redeemed = true;
  const user = tenant.users.get(grant.userId);
  if (!user) throw new IdentityError(400, 'invalid_grant', 50034, 'The user account does not exist in the directory.');
  return delegatedTokens(ctx, tenant, app, user, grant, params.get('client_info') === '1', grant.nonce, now);
}

/**
 * A code sent to a single-page-application redirect URI is redeemed by a public client: no secret, PKCE required,
 * and only cross-origin (the browser's `Origin` header), as v2-oauth2-auth-code-flow describes for SPAs
 * (AADSTS9002327 / AADSTS9002325). Undefined for a code of a confidential (web) redirect URI.
 */
function spaClient(
  tenant: TenantState,
  grant: AuthCodeGrant,
  params: URLSearchParams,
  origin: string | undefined,
): AppRegistration | undefined {
  const app = tenant.apps.get(grant.clientId);
  if (!app || !redirectUriRegistered(app.spaRedirectUris, grant.redirectUri)) return undefined;
  if (params.get('client_id')?.toLowerCase() !== app.appId)
    throw new IdentityError(
      400,
      'invalid_grant',
      70000,
      'The provided authorization code was issued to a different client.',
    );
  if (!origin)
    throw new IdentityError(
      400,
      'invalid_request',
      9002327,
      "Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests.",
    );
  if (!grant.codeChallenge)
    throw new IdentityError(
      400,
      'invalid_request',
      9002325,
      'Proof Key for Code Exchange is required for cross-origin authorization code redemption.',
    );
  return app;
}

async function redeemRefreshToken(
  ctx: SimContext,
  segment: string,
  params: URLSearchParams,
  authorization: string | undefined,
  now: number,
): Promise<SimResponse> {
  const token = params.get('refresh_token');
  if (!token)
    throw new IdentityError(
      400,
      'invalid_request',
      900144,
      "The request body must contain the following parameter: 'refresh_token'.",
    );
  const grant = ctx.refreshTokens.get(token);
  const tenant = grant ? ctx.directory.tenant(grant.tenantId) : resolveTenantOrThrow(ctx, segment, 'invalid_request');
  if (!grant || !tenant)
    throw new IdentityError(
      400,
      'invalid_grant',
      9002313,
      'Invalid request. Request is malformed or invalid. (The provided refresh token is not valid.)',
    );
  const app = authenticateClient(tenant, params, authorization, now);
  if (app.appId !== grant.clientId)
    throw new IdentityError(400, 'invalid_grant', 700003, 'The refresh token was issued to a different client.');
  if (now - grant.lastUsedAt > REFRESH_TOKEN_INACTIVITY_MS) {
    throw new IdentityError(
      400,
      'invalid_grant',
      700082,
      'The refresh token has expired due to inactivity. The token was issued on a date more than 90 days ago.',
    );
  }
  const user = tenant.users.get(grant.userId);
  if (!user || user.data.accountEnabled === false)
    throw new IdentityError(400, 'invalid_grant', 50057, 'The user account is disabled.');
  // A narrower scope may be asked for; anything beyond what was granted needs a new authorization.
  let scopes = grant.scopes;
  if (params.get('scope') && !grant.api) {
    const asked = parseDelegatedScopes(params.get('scope'));
    const wanted = asked.graphDefault ? grant.scopes : [...asked.graph, ...asked.oidc];
    const granted = new Set(grant.scopes.map((s) => s.toLowerCase()));
    const missing = wanted.filter(
      (s) => !granted.has(s.toLowerCase()) && s !== 'offline_access' && s !== 'openid' && s !== 'profile',
    );
    if (missing.length)
      throw new IdentityError(
        400,
        'invalid_grant',
        65001,
        `The user or administrator has not consented to use the application with ID '${app.appId}'. Send an interactive authorization request for this user and resource.`,
      );
    scopes = grant.scopes;
  }
  grant.lastUsedAt = now;
  return delegatedTokens(
    ctx,
    tenant,
    app,
    user,
    { scopes, ...(grant.api ? { api: grant.api } : {}) },
    params.get('client_info') === '1',
    undefined,
    now,
  );
}

async function delegatedTokens(
  ctx: SimContext,
  tenant: TenantState,
  app: AppRegistration,
  user: UserRecord,
  granted: { scopes: string[]; api?: ApiGrant },
  wantClientInfo: boolean,
  nonce: string | undefined,
  now: number,
): Promise<SimResponse> {
  const { scopes, api } = granted;
  const graphScopes = scopes.filter((s) => !['openid', 'profile', 'email', 'offline_access'].includes(s));
  const upn = String(user.data.userPrincipalName);
  const accessToken = api
    ? await signApiAccessToken(ctx, tenant, app, user, api, now)
    : await signAccessToken(
        ctx.keys,
        {
          tid: tenant.id,
          appid: app.appId,
          aud: 'https://graph.microsoft.com',
          scp: graphScopes.join(' '),
          oid: user.id,
          upn,
          idtyp: 'user',
        },
        now,
      );
  const body: Record<string, unknown> = {
    token_type: 'Bearer',
    scope: [...(api ? api.scopes.map((s) => `${api.resource}/${s}`) : []), ...scopes].join(' '),
    expires_in: ACCESS_TOKEN_LIFETIME_S,
    ext_expires_in: ACCESS_TOKEN_LIFETIME_S,
    access_token: accessToken,
  };
  if (scopes.includes('offline_access')) {
    const refreshToken = randomToken();
    const grant: RefreshGrant = {
      tenantId: tenant.id,
      clientId: app.appId,
      userId: user.id,
      scopes,
      lastUsedAt: now,
      ...(api ? { api } : {}),
    };
    ctx.refreshTokens.set(refreshToken, grant);
    body.refresh_token = refreshToken;
  }
  if (scopes.includes('openid')) {
    body.id_token = await signIdToken(
      ctx.keys,
      `${ctx.baseUrl}/${tenant.id}/v2.0`,
      {
        aud: app.appId,
        tid: tenant.id,
        oid: user.id,
        sub: user.id,
        name: user.data.displayName,
        preferred_username: upn,
        ...(nonce ? { nonce } : {}),
      },
      now,
    );
  }
  if (wantClientInfo)
    body.client_info = Buffer.from(JSON.stringify({ uid: user.id, utid: tenant.id })).toString('base64url');
  return tokenResponse(body);
}
