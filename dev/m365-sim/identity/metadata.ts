// OpenID Connect discovery and signing keys, as MSAL reads them: MSAL fetches
// {authority}/v2.0/.well-known/openid-configuration and needs authorization_endpoint, token_endpoint,
// issuer and jwks_uri (msal-common Authority.ts). `{tenant}`-style multi-tenant authorities resolve here too.
import type { SimContext } from '../context.js';
import { jsonResponse, type SimResponse } from '../http.js';
import { IdentityError } from './errors.js';

/** Tenant path segments the identity platform accepts in place of a tenant id or domain. */
export const MULTI_TENANT_SEGMENTS = new Set(['common', 'organizations', 'consumers']);

/**
 * An unknown tenant is AADSTS90002 (reference-error-codes: InvalidTenantName) with 400. The `error` differs by
 * endpoint, as the service answers today: `invalid_tenant` from OpenID discovery (and the browser endpoints),
 * `invalid_request` from the token endpoint.
 */
export function resolveTenantOrThrow(
  ctx: SimContext,
  segment: string,
  error: 'invalid_tenant' | 'invalid_request' = 'invalid_tenant',
) {
  const tenant = ctx.directory.tenant(segment);
  if (!tenant) {
    throw new IdentityError(
      400,
      error,
      90002,
      `Tenant '${segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
    );
  }
  return tenant;
}

export function openIdConfiguration(ctx: SimContext, segment: string): SimResponse {
  // Multi-tenant authorities publish a templated issuer, like the real service does.
  const tenantId = MULTI_TENANT_SEGMENTS.has(segment.toLowerCase())
    ? '{tenantid}'
    : resolveTenantOrThrow(ctx, segment).id;
  const base = `${ctx.baseUrl}/${MULTI_TENANT_SEGMENTS.has(segment.toLowerCase()) ? segment : tenantId}`;
  const host = new URL(ctx.baseUrl).host;
  return jsonResponse(200, {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${ctx.baseUrl}/${tenantId === '{tenantid}' ? segment : tenantId}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${ctx.baseUrl}/${tenantId}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${ctx.baseUrl}/oidc/userinfo`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    claims_supported: [
      'sub',
      'iss',
      'aud',
      'exp',
      'iat',
      'auth_time',
      'acr',
      'nonce',
      'preferred_username',
      'name',
      'tid',
      'ver',
      'at_hash',
      'c_hash',
      'email',
    ],
    kerberos_endpoint: `${base}/kerberos`,
    tenant_region_scope: 'WW',
    cloud_instance_name: host,
    cloud_graph_host_name: host,
    msgraph_host: host,
    rbac_url: 'https://pas.windows.net',
  });
}

export function jwks(ctx: SimContext): SimResponse {
  return jsonResponse(200, { keys: [ctx.keys.jwk] });
}

/** Instance discovery (skipped by clients with disableInstanceDiscovery, answered for those without). */
export function instanceDiscovery(ctx: SimContext, query: URLSearchParams): SimResponse {
  const host = new URL(ctx.baseUrl).host;
  const authority = query.get('authorization_endpoint') ?? '';
  const tenant = /\/\/[^/]+\/([^/]+)\//.exec(authority)?.[1] ?? 'common';
  return jsonResponse(200, {
    tenant_discovery_endpoint: `${ctx.baseUrl}/${tenant}/v2.0/.well-known/openid-configuration`,
    'api-version': '1.1',
    metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
  });
}
