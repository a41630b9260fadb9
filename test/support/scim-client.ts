// A SCIM client for component tests: a ready connection to the simulated Contoso tenant with a SCIM token, and
// requests sent as Entra ID and Okta send them (bearer token, application/scim+json, no function key).
import { expect } from 'vitest';
import type { AppHost } from './app-host.js';
import { provisioningApi } from './provisioning-api.js';
import { DEFAULT_SEED, type TestTenant } from './simulated-tenant.js';
import { waitFor } from './wait-for.js';

export interface ScimAnswer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface ScimEndpoint {
  connectionId: string;
  token: string;
  /** The Tenant URL an admin pastes: …/api/scim/v2/<connection id>. */
  base: string;
  send<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    token?: string,
  ): Promise<ScimAnswer<T>>;
  /** The connection's view of the user or group whose externalId is this SCIM id, once it is linked. */
  linked(kind: 'users' | 'groups', scimId: string): Promise<{ objectId: string; userPrincipalName?: string }>;
}

export async function newScimToken(ctx: { app: AppHost }, connectionId: string): Promise<string> {
  const res = await ctx.app.api<{ token: string }>('POST', `/api/connections/${connectionId}/scim-token`, {});
  expect(res.status, res.text).toBe(201);
  return res.body.token;
}

/** A ready connection (with `mapping` merged into its mapping, if given) and a SCIM token for it. */
export async function scimEndpoint(
  ctx: { app: AppHost; sim: TestTenant },
  options: { mapping?: Record<string, unknown>; settings?: Record<string, unknown> } = {},
): Promise<ScimEndpoint> {
  const { readyConnection } = provisioningApi(ctx, 'scim');
  const connectionId = await readyConnection(options.settings);
  if (options.mapping) {
    const patched = await ctx.app.api('PATCH', `/api/connections/${connectionId}/mapping`, options.mapping);
    expect(patched.status, patched.text).toBe(200);
  }
  const token = await newScimToken(ctx, connectionId);
  const base = `${ctx.app.url}/api/scim/v2/${connectionId}`;
  return {
    connectionId,
    token,
    base,
    async send<T>(method: string, path: string, body?: unknown, as = token) {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: {
          ...(as ? { authorization: `Bearer ${as}` } : {}),
          accept: 'application/scim+json',
          ...(body === undefined ? {} : { 'content-type': 'application/scim+json; charset=utf-8' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      ctx.app.transcripts.push(`${res.status}\n${text}`);
      return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as T, text };
    },
    linked: (kind, scimId) =>
      waitFor(
        async () => {
          const view = await ctx.app.api<{ link: { objectId: string; userPrincipalName?: string } | null }>(
            'GET',
            `/api/connections/${connectionId}/${kind}/${scimId}`,
          );
          return view.status === 200 && view.body.link ? view.body.link : undefined;
        },
        { what: `${kind} ${scimId} linked`, timeoutMs: 30_000, intervalMs: 100 },
      ),
  };
}

/** A SCIM error answer: status as a string, the Error schema, application/scim+json. */
export function expectScimError(res: ScimAnswer, status: number, scimType?: string): void {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/scim\+json/);
  expect(res.body).toMatchObject({
    schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
    status: String(status),
    ...(scimType ? { scimType } : {}),
  });
}

export const contosoTenant = DEFAULT_SEED.contoso.tenantId;

/** The simulated Contoso tenant's account `upn` once `probe` holds for it. */
export const accountWhen = (
  ctx: { sim: TestTenant },
  upn: string,
  probe: (a: Record<string, unknown>) => boolean,
  what: string,
) =>
  waitFor(
    async () => {
      const a = await ctx.sim.controls.user(contosoTenant, upn).catch(() => undefined);
      return a && probe(a) ? a : undefined;
    },
    { what, timeoutMs: 30_000, intervalMs: 150 },
  );
