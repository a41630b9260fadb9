// Scope strings of the v2 endpoint (https://learn.microsoft.com/entra/identity-platform/scopes-oidc):
// OIDC scopes (openid, profile, email, offline_access), Graph permissions written short (`User.Read`) or with
// the resource (`https://graph.microsoft.com/User.Read`), and `{resource}/.default` = what was consented.
import { IdentityError } from './errors.js';
import { GRAPH_RESOURCES } from './signing.js';

export const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

/** Graph delegated permissions the simulator knows (enough for a provisioning connector and its tests). */
const KNOWN_GRAPH_SCOPES = new Set(
  [
    'User.Read',
    'User.ReadBasic.All',
    'User.Read.All',
    'User.ReadWrite',
    'User.ReadWrite.All',
    'Group.Read.All',
    'Group.ReadWrite.All',
    'GroupMember.Read.All',
    'GroupMember.ReadWrite.All',
    'Directory.Read.All',
    'Directory.ReadWrite.All',
    'Organization.Read.All',
    'Organization.ReadWrite.All',
    'Application.Read.All',
    'Application.ReadWrite.All',
    'LicenseAssignment.Read.All',
    'LicenseAssignment.ReadWrite.All',
  ].map((s) => s.toLowerCase()),
);

export interface RequestedScopes {
  oidc: string[];
  /** Graph permission names, canonical casing as requested. */
  graph: string[];
  /** `{graph}/.default` was requested. */
  graphDefault: boolean;
  /** The Graph resource the token is for (its `aud`). */
  resource: string;
}

function splitResource(scope: string): { resource?: string; name: string } {
  const m = /^(https:\/\/[^/]+|[0-9a-f-]{36})\/(.+)$/i.exec(scope);
  return m ? { resource: m[1]!.toLowerCase(), name: m[2]! } : { name: scope };
}

export function parseDelegatedScopes(raw: string | null): RequestedScopes {
  const result: RequestedScopes = { oidc: [], graph: [], graphDefault: false, resource: 'https://graph.microsoft.com' };
  for (const scope of (raw ?? '').split(/\s+/).filter(Boolean)) {
    if (OIDC_SCOPES.has(scope.toLowerCase())) {
      result.oidc.push(scope.toLowerCase());
      continue;
    }
    const { resource, name } = splitResource(scope);
    if (resource && !GRAPH_RESOURCES.includes(resource)) throw unknownResource(resource);
    if (resource) result.resource = resource;
    if (name === '.default') result.graphDefault = true;
    else if (KNOWN_GRAPH_SCOPES.has(name.toLowerCase())) result.graph.push(name);
    else
      throw new IdentityError(
        400,
        'invalid_scope',
        70011,
        `The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid.`,
      );
  }
  if (result.graph.length === 0 && !result.graphDefault && result.oidc.length === 0) {
    throw new IdentityError(
      400,
      'invalid_request',
      900144,
      "The request body must contain the following parameter: 'scope'.",
    );
  }
  return result;
}

/** Client credentials accept exactly one `{resource}/.default` (v2-oauth2-client-creds-grant-flow). */
export function parseClientCredentialsScope(raw: string | null): string {
  const scopes = (raw ?? '').split(/\s+/).filter(Boolean);
  if (scopes.length === 0)
    throw new IdentityError(
      400,
      'invalid_request',
      900144,
      "The request body must contain the following parameter: 'scope'.",
    );
  const [scope] = scopes;
  const { resource, name } = splitResource(scope!);
  if (scopes.length !== 1 || !resource || name !== '.default') {
    throw new IdentityError(
      400,
      'invalid_scope',
      1002012,
      `The provided value for scope ${scopes.join(' ')} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    );
  }
  if (!GRAPH_RESOURCES.includes(resource)) throw unknownResource(resource);
  return resource;
}

function unknownResource(resource: string): IdentityError {
  return new IdentityError(
    400,
    'invalid_resource',
    500011,
    `The resource principal named ${resource} was not found in the tenant. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
  );
}
