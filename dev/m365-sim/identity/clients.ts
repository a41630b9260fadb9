// Client lookup and authentication at the token endpoint, with the AADSTS codes the identity platform
// documents (reference-error-codes; troubleshooting ClientSecretCredential: 7000215 wrong secret,
// 7000222 expired secret, 700016 application not found in the directory).
import { timingSafeEqual } from 'node:crypto';
import type { AppRegistration, TenantState } from '../state.js';
import { IdentityError } from './errors.js';

export function findApp(tenant: TenantState, clientId: string | null): AppRegistration {
  if (!clientId)
    throw new IdentityError(
      400,
      'invalid_request',
      900144,
      "The request body must contain the following parameter: 'client_id'.",
    );
  const app = tenant.apps.get(clientId.toLowerCase());
  if (!app) {
    throw new IdentityError(
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${tenant.displayName}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
    );
  }
  return app;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** client_secret_post or client_secret_basic. */
export function clientCredentialsFrom(
  params: URLSearchParams,
  authorization: string | undefined,
): { clientId: string | null; secret: string | null } {
  if (authorization?.toLowerCase().startsWith('basic ')) {
    const decoded = Buffer.from(authorization.slice(6), 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    return { clientId: decodeURIComponent(decoded.slice(0, i)), secret: decodeURIComponent(decoded.slice(i + 1)) };
  }
  return { clientId: params.get('client_id'), secret: params.get('client_secret') };
}

export function authenticateClient(
  tenant: TenantState,
  params: URLSearchParams,
  authorization: string | undefined,
  now: number,
): AppRegistration {
  const { clientId, secret } = clientCredentialsFrom(params, authorization);
  const app = findApp(tenant, clientId);
  if (params.has('client_assertion')) {
    throw new IdentityError(
      401,
      'invalid_client',
      700027,
      'Client assertion contains an invalid signature. The simulated tenant supports client secrets only.',
    );
  }
  if (!secret)
    throw new IdentityError(
      401,
      'invalid_client',
      7000218,
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    );
  const match = app.secrets.find((s) => sameSecret(s.value, secret));
  if (!match) {
    throw new IdentityError(
      401,
      'invalid_client',
      7000215,
      `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.appId}'.`,
    );
  }
  if (match.endDateTime <= now) {
    throw new IdentityError(
      401,
      'invalid_client',
      7000222,
      `The provided client secret keys for app '${app.appId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
    );
  }
  return app;
}
