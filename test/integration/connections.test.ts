// Connections through the HTTP API, with the real local host, Azurite, @azure/identity (MSAL) and the Graph
// client, against the simulated tenant. Nothing of ours is mocked.
import { TableClient } from '@azure/data-tables';
import { describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { type ConnectionView, connectionViewSchema, testResultSchema } from '../../shared/domain/connection.js';
import { useAppWithTenant } from '../support/app-host.js';
import { person, provisioningApi } from '../support/provisioning-api.js';
import { DEFAULT_SEED } from '../support/simulated-tenant.js';
import { uniqueName } from '../support/unique.js';
import { waitFor } from '../support/wait-for.js';

const contoso = DEFAULT_SEED.contoso;
const ctx = useAppWithTenant();

const body = (overrides: Record<string, unknown> = {}) => ({
  name: 'Contoso',
  tenantId: contoso.tenantId,
  domain: contoso.domain,
  clientId: contoso.fullApp.clientId,
  clientSecret: contoso.fullApp.secret,
  authorityHost: ctx.sim.authorityHost,
  graphEndpoint: ctx.sim.graphBaseUrl,
  ...overrides,
});

async function create(overrides: Record<string, unknown> = {}): Promise<ConnectionView> {
  const res = await ctx.app.api<ConnectionView>('POST', '/api/connections', body(overrides));
  expect(res.status, res.text).toBe(201);
  return connectionViewSchema.parse(res.body);
}

async function runTest(id: string) {
  const res = await ctx.app.api('POST', `/api/connections/${id}/test`);
  expect(res.status, res.text).toBe(200);
  return testResultSchema.parse(res.body);
}

const check = (result: { checks: { name: string; ok: boolean; detail: string; warning?: boolean }[] }, name: string) =>
  result.checks.find((c) => c.name === name);

describe('creating and reading connections', () => {
  it('creates a draft connection, answers 201 with Location, and lists and reads it without the secret', async () => {
    const res = await ctx.app.api<ConnectionView>('POST', '/api/connections', body({ description: 'HR feed' }));
    expect(res.status).toBe(201);
    const created = connectionViewSchema.parse(res.body);
    expect(res.headers.get('location')).toBe(`/api/connections/${created.id}`);
    expect(created).toMatchObject({
      status: 'draft',
      authMode: 'client_credentials',
      cloud: 'global',
      clientSecret: { set: true },
      authorization: { status: 'not-required' },
    });
    expect(created.endpoints).toEqual({
      authorityHost: ctx.sim.authorityHost,
      authority: `${ctx.sim.authorityHost}/${contoso.tenantId}`,
      authorizationEndpoint: `${ctx.sim.authorityHost}/${contoso.tenantId}/oauth2/v2.0/authorize`,
      tokenEndpoint: `${ctx.sim.authorityHost}/${contoso.tenantId}/oauth2/v2.0/token`,
      graphEndpoint: ctx.sim.graphBaseUrl,
    });
    const read = await ctx.app.api<ConnectionView>('GET', `/api/connections/${created.id}`);
    expect(read.body).toEqual(created);
    const list = await ctx.app.api<{ value: ConnectionView[] }>('GET', '/api/connections');
    expect(list.body.value.map((c) => c.id)).toContain(created.id);
  });

  it("uses each cloud's login and Graph hosts unless overridden", async () => {
    const gov = await create({ cloud: 'usgov', authorityHost: undefined, graphEndpoint: undefined });
    expect(gov.endpoints.authorityHost).toBe('https://login.microsoftonline.us');
    expect(gov.endpoints.graphEndpoint).toBe('https://graph.microsoft.us');
    const china = await create({ cloud: 'china', authorityHost: undefined, graphEndpoint: undefined });
    expect(china.endpoints.graphEndpoint).toBe('https://microsoftgraph.chinacloudapi.cn');
  });

  it('accepts Zoho-style authorization and token endpoints and derives the authority from them', async () => {
    const c = await create({
      authMode: 'authorization_code',
      authorityHost: undefined,
      authorizationEndpoint: `https://login.microsoftonline.com/${contoso.tenantId}/oauth2/v2.0/authorize`,
      tokenEndpoint: `https://login.microsoftonline.com/${contoso.tenantId}/oauth2/v2.0/token`,
    });
    expect(c.endpoints.authority).toBe(`https://login.microsoftonline.com/${contoso.tenantId}`);
    expect(c.authorization).toEqual({ status: 'not-authorized' });
  });

  it.each([
    [{ tenantId: 'not-a-guid' }, 'tenantId', /GUID/],
    [{ clientId: '123' }, 'clientId', /GUID/],
    [{ domain: 'contoso' }, 'domain', /domain name/],
    [{ name: '' }, 'name', /required/],
    [{ clientSecret: undefined }, 'clientSecret', /required/],
    [{ authMode: 'password' }, 'authMode', /client_credentials|authorization_code/],
    [{ cloud: 'mars' }, 'cloud', /global|usgov|china/],
    [{ authorityHost: 'http://login.example.com' }, 'authorityHost', /https/],
    [{ graphEndpoint: 'https://graph.example.com/v1.0' }, 'graphEndpoint', /origin only/],
    [{ tokenEndpoint: 'https://login.microsoftonline.com/oauth2/token' }, 'tokenEndpoint', /oauth2\/v2\.0\/token/],
    [
      { authorizationEndpoint: `https://login.microsoftonline.com/${contoso.tenantId}/oauth2/v2.0/token` },
      'authorizationEndpoint',
      /authorize/,
    ],
    [
      {
        authorizationEndpoint: 'https://a.example/t1/oauth2/v2.0/authorize',
        tokenEndpoint: 'https://b.example/t1/oauth2/v2.0/token',
      },
      'tokenEndpoint',
      /same host and tenant/,
    ],
    [{ surprise: true }, 'surprise', /not a known field/],
  ])('rejects %j with 400 problem+json naming %s', async (overrides, field, message) => {
    const res = await ctx.app.api<{ code: string; errors: { field: string; message: string }[] }>(
      'POST',
      '/api/connections',
      body(overrides),
    );
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.body.code).toBe('validation-failed');
    expect(res.body.errors).toContainEqual({ field, message: expect.stringMatching(message) });
  });

  it('rejects a body that is not JSON, and requires the function key', async () => {
    const bad = await ctx.app.api<{ code: string }>('POST', '/api/connections', '{"name":');
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('validation-failed');
    expect((await ctx.app.api('GET', '/api/connections', undefined, { key: false })).status).toBe(401);
  });

  it('answers 404 problem+json for an unknown connection', async () => {
    const res = await ctx.app.api<{ code: string }>('GET', '/api/connections/00000000-0000-4000-8000-000000000000');
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('connection-not-found');
  });
});

describe('testing a connection (client credentials)', () => {
  it('create → test → ready: token with the four permissions, verified domain, users readable, secret expiry', async () => {
    const c = await create();
    const result = await runTest(c.id);
    expect(result.ok).toBe(true);
    expect(result.status).toBe('ready');
    expect(result.checks.map((x) => [x.name, x.ok])).toEqual([
      ['token', true],
      ['permissions', true],
      ['verifiedDomain', true],
      ['readUsers', true],
      ['clientSecretExpiry', true],
    ]);
    expect(check(result, 'token')!.detail).toMatch(/app-only/);
    expect(check(result, 'clientSecretExpiry')!.warning).toBeUndefined();
    const stored = connectionViewSchema.parse((await ctx.app.api('GET', `/api/connections/${c.id}`)).body);
    expect(stored.status).toBe('ready');
    expect(stored.lastTest?.checks).toEqual(result.checks);
  });

  it('warns, but stays ready, when the client secret expires within 30 days', async () => {
    const c = await create({ clientSecret: contoso.fullApp.soonExpiringSecret });
    const result = await runTest(c.id);
    expect(result.status).toBe('ready');
    expect(check(result, 'clientSecretExpiry')).toMatchObject({
      ok: true,
      warning: true,
      detail: expect.stringMatching(/"rotating soon" expires in 1\d days/),
    });
  });

  it('names each missing application permission and marks the connection invalid', async () => {
    const readOnly = await runTest(
      (await create({ clientId: contoso.readOnlyApp.clientId, clientSecret: contoso.readOnlyApp.secret })).id,
    );
    expect(readOnly.status).toBe('invalid');
    expect(check(readOnly, 'permissions')).toMatchObject({ ok: false });
    expect(check(readOnly, 'permissions')!.detail).toBe(
      'Missing application permissions (roles): Application.ReadWrite.All, Group.ReadWrite.All, User.ReadWrite.All. Add them to the app registration and grant admin consent.',
    );
    const none = await runTest(
      (await create({ clientId: contoso.noPermissionApp.clientId, clientSecret: contoso.noPermissionApp.secret })).id,
    );
    expect(check(none, 'permissions')!.detail).toMatch(
      /Missing application permissions \(roles\): Application\.ReadWrite\.All, Group\.ReadWrite\.All, Organization\.Read\.All, User\.ReadWrite\.All\./,
    );
  });

  it('catches a domain that is not verified in the tenant', async () => {
    const result = await runTest((await create({ domain: 'not-ours.example' })).id);
    expect(result.status).toBe('invalid');
    expect(check(result, 'verifiedDomain')).toEqual({
      name: 'verifiedDomain',
      ok: false,
      detail: `not-ours.example is not a verified domain of the tenant (verified: ${contoso.initialDomain}, ${contoso.domain})`,
    });
  });

  it('reports a wrong secret as invalid_client (AADSTS7000215) and stops there', async () => {
    const c = await create({ clientSecret: 'definitely-wrong' });
    const result = await runTest(c.id);
    expect(result.status).toBe('invalid');
    expect(result.checks).toHaveLength(1);
    expect(check(result, 'token')).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/invalid_client.*AADSTS7000215/),
    });
    const stored = connectionViewSchema.parse((await ctx.app.api('GET', `/api/connections/${c.id}`)).body);
    expect(stored.statusReason).toMatch(/^Test failed: token: .*invalid_client/);
  });

  it('goes back to draft when the secret changes, keeps its status when only the name changes', async () => {
    const c = await create();
    await runTest(c.id);
    const renamed = await ctx.app.api<ConnectionView>('PATCH', `/api/connections/${c.id}`, { name: 'Contoso EU' });
    expect(renamed.body).toMatchObject({ name: 'Contoso EU', status: 'ready' });
    const rotated = await ctx.app.api<ConnectionView>('PATCH', `/api/connections/${c.id}`, {
      clientSecret: contoso.fullApp.soonExpiringSecret,
    });
    expect(rotated.body.status).toBe('draft');
    expect(rotated.body.clientSecret.updatedAt > c.clientSecret.updatedAt).toBe(true);
    expect((await runTest(c.id)).status).toBe('ready');
    const invalidPatch = await ctx.app.api<{ errors: { field: string }[] }>('PATCH', `/api/connections/${c.id}`, {
      tenantId: 'x',
      bogus: 1,
    });
    expect(invalidPatch.status).toBe(400);
    expect(invalidPatch.body.errors.map((e) => e.field).sort()).toEqual(['bogus', 'tenantId']);
  });

  it('deletes a connection', async () => {
    const c = await create();
    expect((await ctx.app.api('DELETE', `/api/connections/${c.id}`)).body).toEqual({
      deleted: true,
      id: c.id,
      provisionedUsers: { count: 0, action: 'none' },
    });
    expect((await ctx.app.api('GET', `/api/connections/${c.id}`)).status).toBe(404);
    expect((await ctx.app.api('DELETE', `/api/connections/${c.id}`)).status).toBe(404);
  });
});

describe('secrets', () => {
  it('stores client secrets encrypted and never returns or logs them', async () => {
    const secrets = [
      contoso.fullApp.secret,
      contoso.fullApp.soonExpiringSecret,
      contoso.readOnlyApp.secret,
      contoso.noPermissionApp.secret,
      'definitely-wrong',
    ];
    const c = await create();
    await runTest(c.id);
    const stored = await TableClient.fromConnectionString(inject('storageConnectionString'), 'connections', {
      allowInsecureConnection: true,
    }).getEntity<Record<string, unknown>>('connections', c.id);
    expect(String(stored.clientSecretCipher)).toMatch(/^v1\.test\./);
    expect(JSON.stringify(stored)).not.toContain(contoso.fullApp.secret);
    // Every response and log line this suite produced so far (this file runs its tests in order).
    const everything = [...ctx.app.transcripts, ...ctx.app.logs.map((l) => l.message)].join('\n');
    expect(everything.length).toBeGreaterThan(1000);
    for (const secret of secrets) expect(everything).not.toContain(secret);
  });
});

type OpenApiOperation = {
  operationId: string;
  requestBody?: {
    content: {
      'application/json': { schema: { properties: Record<string, unknown>; additionalProperties?: boolean } };
    };
  };
  responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
};

describe('OpenAPI', () => {
  it('serves an OpenAPI 3.1 document with every HTTP route, a unique operationId each and the request schema generated from zod', async () => {
    const res = await ctx.app.api<{ openapi: string; paths: Record<string, Record<string, OpenApiOperation>> }>(
      'GET',
      '/api/openapi.json',
      undefined,
      { key: false },
    );
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    const operations = Object.entries(res.body.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([m, op]) => `${m.toUpperCase()} ${path} ${op.operationId}`),
    );
    // The function's name, with the method when one function serves several.
    const served = ctx.app.host.functions.flatMap((f) =>
      f.trigger === 'http'
        ? f.methods.map(
            (m) =>
              `${m} /api/${f.route.replace(/:[a-z]+\}/g, '}').replace('{*', '{')} ${f.methods.length === 1 ? f.name : `${f.name}-${m.toLowerCase()}`}`,
          )
        : [],
    );
    expect(operations.sort()).toEqual(served.sort());
    const operationIds = operations.map((o) => o.split(' ')[2]);
    expect(new Set(operationIds).size).toBe(operationIds.length);
    const createSchema = res.body.paths['/api/connections']!.post!.requestBody!.content['application/json'].schema;
    expect(Object.keys(createSchema.properties).sort()).toEqual(
      [
        'authMode',
        'authorityHost',
        'authorizationEndpoint',
        'clientId',
        'clientSecret',
        'cloud',
        'description',
        'domain',
        'graphEndpoint',
        'name',
        'tenantId',
        'tokenEndpoint',
      ].sort(),
    );
    expect(createSchema.additionalProperties).toBe(false);

    // Real answers parse with the response schema the document declares for them (strict: no field undeclared).
    const declared = (path: string, method: string, status: number) => {
      const schema = res.body.paths[path]?.[method]?.responses[status]?.content?.['application/json']?.schema;
      expect(schema, `${method.toUpperCase()} ${path} ${status} declares a JSON schema`).toBeDefined();
      return z.fromJSONSchema(schema!);
    };
    const conforms = (path: string, method: string, answer: { status: number; body: unknown; text: string }) => {
      const parsed = declared(path, method, answer.status).safeParse(answer.body);
      expect(
        parsed.success,
        `${method.toUpperCase()} ${path} ${answer.status}: ${parsed.error?.message}\n${answer.text}`,
      ).toBe(true);
    };
    const api = provisioningApi(ctx, 'openapi');
    const connectionId = await api.readyConnection();
    const ext = uniqueName('oa');
    const provisioned = await ctx.app.api<{ result: string }>(
      'POST',
      `/api/connections/${connectionId}/users/${ext}/provision`,
      { type: 'upsert', version: 1, attributes: person(`oa.${ext.slice(3)}`) },
    );
    expect(provisioned.body.result, provisioned.text).toBe('applied');
    const user = await ctx.app.api('GET', `/api/connections/${connectionId}/users/${ext}`);
    expect(user.status, user.text).toBe(200);
    conforms('/api/connections/{id}/users/{externalId}', 'get', user);

    const started = await ctx.app.api<{ runId: string }>(
      'POST',
      `/api/connections/${connectionId}/reconcile?dryRun=true`,
    );
    expect(started.status, started.text).toBe(202);
    conforms('/api/connections/{id}/reconcile', 'post', started);
    const queued = await ctx.app.api('GET', `/api/connections/${connectionId}/runs`);
    expect(queued.status, queued.text).toBe(200);
    conforms('/api/connections/{id}/runs', 'get', queued);
    const run = await waitFor(
      async () => {
        const r = await ctx.app.api<{ status: string }>(
          'GET',
          `/api/connections/${connectionId}/runs/${started.body.runId}`,
        );
        return ['completed', 'failed', 'skipped'].includes(r.body.status) ? r : undefined;
      },
      { what: `run ${started.body.runId}`, timeoutMs: 30_000, intervalMs: 150 },
    );
    expect(run.body.status, run.text).toBe('completed');
    conforms('/api/connections/{id}/runs/{runId}', 'get', run);
    const ended = await ctx.app.api<{ value: { runId: string; status: string }[] }>(
      'GET',
      `/api/connections/${connectionId}/runs`,
    );
    expect(ended.body.value[0]).toMatchObject({ runId: started.body.runId, status: 'completed' });
    conforms('/api/connections/{id}/runs', 'get', ended);
  });
});
