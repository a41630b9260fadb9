// Access tokens for an API that an app registration of the tenant exposes (howto-add-app-roles-in-apps,
// quickstart-configure-app-expose-web-apis, access-token-claims-reference):
//  - a client names the API's scopes by its application ID URI (`api://<appId>/access_as_user`) or appId;
//    one token is for one resource, so asking for the API's scopes and Graph's at once is AADSTS28000;
//  - the token's version is the API's `api.requestedAccessTokenVersion` (null or 1: v1, 2: v2): v2 tokens are
//    issued by `{authority}/{tid}/v2.0` with `aud` = the API's appId and `azp` = the client; v1 ones by
//    `https://sts.windows.net/{tid}/` with `aud` = the ID URI the client used and `appid` = the client;
//  - `roles` = the values of the API's app roles assigned to the signed-in user (appRoleAssignedTo), `scp` = the
//    granted scopes.
import { randomUUID } from 'node:crypto';
import type { JWTPayload } from 'jose';
import { SignJWT } from 'jose';
import type { ApiGrant, SimContext } from '../context.js';
import type { AppRegistration, TenantState, UserRecord } from '../state.js';
import { IdentityError } from './errors.js';
import { OIDC_SCOPES } from './scopes.js';
import { ACCESS_TOKEN_LIFETIME_S, GRAPH_RESOURCES } from './signing.js';

const RESOURCE_SCOPE = /^(.+)\/([^/]+)$/;

/** The app of the tenant whose API `resource` names (an application ID URI or an appId), if any. */
function apiApp(tenant: TenantState, resource: string): AppRegistration | undefined {
  const wanted = resource.toLowerCase();
  return [...tenant.apps.values()].find(
    (a) => a.appId === wanted || a.identifierUris.some((u) => u.toLowerCase() === wanted),
  );
}

/**
 * Splits a requested scope string into the scopes of an API this tenant's apps expose (if any) and the rest
 * (OIDC and Graph scopes, left to parseDelegatedScopes). Unknown resources and unknown scopes of a known API are
 * refused as the identity platform does.
 */
export function splitApiScopes(tenant: TenantState, raw: string | null): { api?: ApiGrant; rest: string[] } {
  const rest: string[] = [];
  let api: ApiGrant | undefined;
  for (const scope of (raw ?? '').split(/\s+/).filter(Boolean)) {
    const m = RESOURCE_SCOPE.exec(scope);
    if (OIDC_SCOPES.has(scope.toLowerCase()) || !m || GRAPH_RESOURCES.includes(m[1]!.toLowerCase())) {
      rest.push(scope);
      continue;
    }
    const [, resource, name] = m as unknown as [string, string, string];
    const app = apiApp(tenant, resource);
    if (!app)
      throw new IdentityError(
        400,
        'invalid_resource',
        500011,
        `The resource principal named ${resource} was not found in the tenant named ${tenant.displayName}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
      );
    if (api && api.appId !== app.appId) throw moreThanOneResource(raw ?? '');
    const exposed = app.api.oauth2PermissionScopes.map((s) => s.value);
    const granted = name === '.default' ? exposed : exposed.filter((v) => v === name);
    if (granted.length === 0)
      throw new IdentityError(
        400,
        'invalid_scope',
        70011,
        `The provided value for the input parameter 'scope' is not valid. The scope ${scope} does not exist.`,
      );
    api = { appId: app.appId, resource, scopes: [...new Set([...(api?.scopes ?? []), ...granted])] };
  }
  if (api && rest.some((s) => !OIDC_SCOPES.has(s.toLowerCase()))) throw moreThanOneResource(raw ?? '');
  return api ? { api, rest } : { rest };
}

const moreThanOneResource = (raw: string) =>
  new IdentityError(
    400,
    'invalid_request',
    28000,
    `Provided value for the input parameter scope is not valid because it contains more than one resource. Scope ${raw} is not valid.`,
  );

/** The access token a signed-in user gets for an app's API (v1 or v2, as the API asks). */
export async function signApiAccessToken(
  ctx: SimContext,
  tenant: TenantState,
  client: AppRegistration,
  user: UserRecord,
  grant: ApiGrant,
  nowMs: number,
): Promise<string> {
  const api = tenant.apps.get(grant.appId);
  if (!api) throw new IdentityError(400, 'invalid_grant', 500011, `The resource ${grant.resource} no longer exists.`);
  const assigned = new Set(
    api.appRoleAssignedTo
      .filter((a) => {
        const p = a.principal.toLowerCase();
        return p === user.id || p === String(user.data.userPrincipalName).toLowerCase();
      })
      .map((a) => a.appRole),
  );
  const roles = api.appRoles
    .filter((r) => assigned.has(r.value) && r.allowedMemberTypes.includes('User'))
    .map((r) => r.value);
  const upn = String(user.data.userPrincipalName);
  const v2 = api.api.requestedAccessTokenVersion === 2;
  const payload: JWTPayload = {
    aud: v2 ? api.appId : grant.resource,
    tid: tenant.id,
    oid: user.id,
    sub: user.id,
    name: String(user.data.displayName),
    scp: grant.scopes.join(' '),
    uti: randomUUID(),
    ver: v2 ? '2.0' : '1.0',
    ...(roles.length ? { roles } : {}),
    ...(v2
      ? { azp: client.appId, azpacr: '0', preferred_username: upn }
      : { appid: client.appId, appidacr: '0', upn, unique_name: upn }),
  };
  const iat = Math.floor(nowMs / 1000) - ctx.settings.apiTokenBackdateSeconds;
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: ctx.keys.kid })
    .setIssuer(v2 ? `${ctx.baseUrl}/${tenant.id}/v2.0` : `https://sts.windows.net/${tenant.id}/`)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + ACCESS_TOKEN_LIFETIME_S)
    .sign(ctx.keys.privateKey);
}
