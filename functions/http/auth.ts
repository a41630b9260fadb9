// Sign-in routes: who am I (GET /api/me), what a browser needs to start Entra ID sign-in (GET /api/auth/config), and
// the function the app asks whether the Functions host accepts a key (GET /api/auth/key-check).
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import { signInSettings } from '../../shared/config.js';
import { accessOf, APP_ROLES, CSRF_HEADER } from '../../shared/domain/access.js';
import { httpFunction, type HttpFunctionDefinition } from '../define.js';
import { KEY_CHECK_ROUTE } from '../http-auth.js';
import { callerOf } from '../http-caller.js';
import { withProblems } from '../http-support.js';
import { services } from '../services.js';

const actorSchema = z.union([
  z.object({
    type: z.literal('principal'),
    name: z.string(),
    id: z.string().optional(),
    identityProvider: z.string().optional(),
  }),
  z.object({ type: z.literal('function-key'), keyId: z.string().optional() }),
]);

const meSchema = z.object({
  actor: actorSchema.describe('Who is calling, as the audit log names it'),
  roles: z.array(z.string()).describe(`App roles: ${APP_ROLES.admin} (everything), ${APP_ROLES.reader} (reads only)`),
  canWrite: z.boolean(),
});

/** GET /api/me: the caller, its roles and whether it may change anything (a function key is Provisioning.Admin). */
export async function me(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = callerOf(request)!;
  return { status: 200, headers: { 'cache-control': 'no-store' }, jsonBody: accessOf(caller) };
}

export const meFunction = httpFunction({
  name: 'me',
  route: 'me',
  methods: ['GET'],
  authLevel: 'function',
  handler: withProblems(me),
  openapi: {
    summary: 'Who is calling: the principal (or function key), its app roles and whether it may write',
    responses: { 200: { description: 'The caller', schema: meSchema } },
  },
});

const authConfigSchema = z.object({
  signIn: z
    .object({
      authority: z.string().describe('https://<authority host>/<tenant id> (MSAL `authority`)'),
      tenantId: z.string(),
      clientId: z.string().describe('The app registration (a single-page-application client of its own API)'),
      scopes: z.array(z.string()).describe('What to ask a token for'),
    })
    .nullable()
    .describe('null: Entra ID sign-in is off; use a function key'),
  csrfHeader: z
    .object({ name: z.string(), value: z.string() })
    .describe('The console sends it on every change; no credential the API accepts is ambient, so none requires it'),
});

/** GET /api/auth/config (anonymous): what a browser needs to start Entra ID sign-in; nothing secret. */
export async function authConfig(): Promise<HttpResponseInit> {
  const signIn = signInSettings(services().config);
  return {
    status: 200,
    headers: { 'cache-control': 'no-cache' },
    jsonBody: {
      signIn: signIn
        ? {
            authority: `${signIn.authorityHost}/${signIn.tenantId}`,
            tenantId: signIn.tenantId,
            clientId: signIn.clientId,
            scopes: [signIn.scope],
          }
        : null,
      csrfHeader: CSRF_HEADER,
    },
  };
}

export const authConfigFunction = httpFunction({
  name: 'auth-config',
  route: 'auth/config',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: withProblems(authConfig),
  openapi: {
    summary: 'How to sign in: authority, client id and scope for Entra ID (null when sign-in is off)',
    responses: { 200: { description: 'Sign-in configuration', schema: authConfigSchema } },
  },
});

/**
 * GET /api/auth/key-check: 204. Registered authLevel `function` in every mode (not through httpFunction's admin-route
 * handling), so the host answers 401 for a key it does not accept: the app asks this to check a key it was sent.
 */
export const keyCheckFunction: HttpFunctionDefinition = {
  kind: 'http',
  name: 'auth-key-check',
  route: KEY_CHECK_ROUTE,
  methods: ['GET'],
  authLevel: 'function',
  handler: async () => ({ status: 204, headers: { 'cache-control': 'no-store' } }),
  openapi: {
    summary: 'Whether the Functions host accepts the function key sent (204; the host answers 401 otherwise)',
    responses: { 204: { description: 'The key is accepted' } },
  },
};
