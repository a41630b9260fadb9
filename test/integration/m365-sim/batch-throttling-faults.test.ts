// JSON batching, the throttling model, fault injection, eventual consistency, reset and scale.
import type { Client } from '@microsoft/microsoft-graph-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_SEED, startTestTenant, type TestTenant } from '../../support/simulated-tenant.js';
import { accessToken, graphFailure, type JsonBody, newUserBody, rawGraph } from './helpers.js';

const c = DEFAULT_SEED.contoso;
let sim: TestTenant;
let graph: Client;
let token: string;

beforeAll(async () => {
  sim = await startTestTenant();
  graph = sim.graphClientFor(sim.credentialFor(c.tenantId, c.fullApp.clientId, c.fullApp.secret));
  token = await accessToken(sim, c.tenantId, c.fullApp.clientId, c.fullApp.secret);
});
afterAll(async () => sim?.close());
beforeEach(async () => sim.controls.reset());

describe('JSON batching (json-batching)', () => {
  it('runs sub-requests, answers a failed dependency with 424, inside one 200', async () => {
    const res = await graph.api('/$batch').post({
      requests: [
        { id: '1', method: 'GET', url: `/users/${c.users.adele}?$select=id` },
        { id: '2', method: 'GET', url: '/users/00000000-0000-4000-8000-00000000dead' },
        {
          id: '3',
          method: 'PATCH',
          url: `/users/${c.users.alex}`,
          dependsOn: ['2'],
          headers: { 'Content-Type': 'application/json' },
          body: { jobTitle: 'x' },
        },
      ],
    });
    const byId = Object.fromEntries(res.responses.map((r: { id: string }) => [r.id, r]));
    expect(byId['1']).toMatchObject({ status: 200, body: { id: c.users.adele } });
    expect(byId['2'].status).toBe(404);
    expect(byId['3'].status).toBe(424);
  });

  it('rejects a malformed batch with 400: duplicate ids, missing url, body without Content-Type, more than 20 requests', async () => {
    const bad = [
      [
        { id: '1', method: 'GET', url: '/users' },
        { id: '1', method: 'GET', url: '/users' },
      ],
      [{ id: '1', method: 'GET' }],
      [{ id: '1', method: 'POST', url: '/users', body: {} }],
      Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: 'GET', url: '/organization' })),
    ];
    for (const requests of bad) expect((await rawGraph(sim, token, 'POST', '/$batch', { requests })).status).toBe(400);
  });

  it('throttles sub-requests individually: a 429 with its own Retry-After inside a 200 batch', async () => {
    await sim.controls.settings({ throttling: true });
    await sim.controls.addFault({
      match: { path: '/organization$' },
      fault: { kind: 'status', status: 429, retryAfterSeconds: 7 },
      count: 1,
    });
    const res = await rawGraph(sim, token, 'POST', '/$batch', {
      requests: [
        { id: 'a', method: 'GET', url: '/organization' },
        { id: 'b', method: 'GET', url: '/subscribedSkus' },
      ],
    });
    expect(res.status).toBe(200);
    const [a, b] = res.body!.responses;
    expect(a).toMatchObject({ id: 'a', status: 429, headers: { 'retry-after': '7' } });
    expect(b).toMatchObject({ id: 'b', status: 200, headers: { 'x-ms-resource-unit': '3' } });
  });
});

describe('throttling (throttling-limits, identity and access service limits)', () => {
  it('reports x-ms-resource-unit per request with the documented costs', async () => {
    await sim.controls.settings({ throttling: true });
    const units = async (path: string) => (await rawGraph(sim, token, 'GET', path)).headers.get('x-ms-resource-unit');
    expect(await units('/users')).toBe('2');
    expect(await units('/users?$select=id')).toBe('1');
    expect(await units(`/users/${c.users.adele}`)).toBe('1');
    expect(await units('/subscribedSkus')).toBe('3');
    expect(await units(`/groups/${c.groups.licensedStaff}/members?$top=5`)).toBe('2');
  });

  /** Sends `count` copies of a request as $batch calls of 20; returns every item response in order. */
  async function burst(count: number, item: Record<string, unknown>) {
    const out: Array<{ status: number; headers: Record<string, string>; body?: JsonBody }> = [];
    for (let sent = 0; sent < count; sent += 20) {
      const requests = Array.from({ length: Math.min(20, count - sent) }, (_, i) => ({ id: String(i), ...item }));
      out.push(...(await rawGraph(sim, token, 'POST', '/$batch', { requests })).body!.responses);
    }
    return out;
  }

  it('warns above 80 % with x-ms-throttle-limit-percentage, then answers 429 with Retry-After, scope and information', async () => {
    // timeScale < 1 stretches the windows so real time spent sending does not drain the bucket.
    await sim.controls.settings({ throttling: true, timeScale: 0.01 });
    // Small tenant: 3,500 RU per 10 s per app + tenant; GET subscribedSkus costs 3 RU.
    const responses = await burst(1200, { method: 'GET', url: '/subscribedSkus' });
    expect(responses.some((r) => r.status === 200 && r.headers['x-ms-throttle-limit-percentage'])).toBe(true);
    const throttled = responses.find((r) => r.status === 429)!;
    // The bucket still drains a little in real time, so the first 429 comes at (or just after) 3,500 RU.
    const first = responses.findIndex((r) => r.status === 429);
    expect(first).toBeGreaterThanOrEqual(Math.floor(3500 / 3));
    expect(first).toBeLessThan(Math.floor(3500 / 3) + 20);
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(throttled.headers['x-ms-throttle-scope']).toBe(
      `Tenant_Application/ReadWrite/${c.fullApp.clientId}/${c.tenantId}`,
    );
    expect(throttled.headers['x-ms-throttle-information']).toBe('ResourceUnitLimitExceeded');
    expect(throttled.body!.error.code).toBe('TooManyRequests');
    await sim.controls.advanceClock({ hours: 1 });
    const fresh = await accessToken(sim, c.tenantId, c.fullApp.clientId, c.fullApp.secret);
    expect((await rawGraph(sim, fresh, 'GET', '/subscribedSkus')).status).toBe(200);
  });

  it('enforces the write quota of 3,000 per 150 s per app + tenant (WriteLimitExceeded)', async () => {
    await sim.controls.settings({ throttling: true, timeScale: 0.01 });
    const responses = await burst(3020, {
      method: 'PATCH',
      url: `/users/${c.users.alex}`,
      headers: { 'content-type': 'application/json' },
      body: { jobTitle: 'x' },
    });
    const first = responses.findIndex((r) => r.status === 429);
    expect(first).toBeGreaterThanOrEqual(3000);
    const throttled = responses[first]!;
    expect(throttled.headers['x-ms-throttle-information']).toBe('WriteLimitExceeded');
    expect(throttled.headers['x-ms-throttle-scope']).toBe(
      `Tenant_Application/Write/${c.fullApp.clientId}/${c.tenantId}`,
    );
  });

  it('shrinks windows with the time scale', async () => {
    await sim.controls.settings({ throttling: true, timeScale: 1000 });
    // The 10 s window is now 10 ms of simulated time: advancing 1 s fully drains any usage.
    const requests = Array.from({ length: 20 }, (_, i) => ({ id: String(i), method: 'GET', url: '/subscribedSkus' }));
    for (let i = 0; i < 60; i++) await rawGraph(sim, token, 'POST', '/$batch', { requests });
    await sim.controls.advanceClock({ seconds: 1 });
    expect(
      (await rawGraph(sim, token, 'GET', '/subscribedSkus')).headers.get('x-ms-throttle-limit-percentage'),
    ).toBeNull();
  });
});

describe('fault injection (/_sim/faults)', () => {
  it('injects 503 for the next N matching requests only, scoped by method and path', async () => {
    await sim.controls.addFault({
      match: { method: 'GET', path: '^/v1.0/organization$' },
      fault: { kind: 'status', status: 503 },
      count: 1,
    });
    expect((await rawGraph(sim, token, 'GET', '/users')).status).toBe(200);
    const failed = await rawGraph(sim, token, 'GET', '/organization');
    expect(failed.status).toBe(503);
    expect(failed.body!.error.code).toBe('ServiceUnavailable');
    expect((await rawGraph(sim, token, 'GET', '/organization')).status).toBe(200);
  });

  it('drops the connection', async () => {
    await sim.controls.addFault({ match: { path: '/users' }, fault: { kind: 'drop' }, count: 1 });
    await expect(rawGraph(sim, token, 'GET', '/users')).rejects.toThrow();
  });

  it('is retried transparently by the Graph client for a 429 with Retry-After 0 (RetryHandler)', async () => {
    await sim.controls.addFault({
      match: { path: '/organization' },
      fault: { kind: 'status', status: 429, retryAfterSeconds: 0 },
      count: 1,
    });
    expect((await graph.api('/organization').get()).value).toHaveLength(1);
    const log = await sim.controls.requests({ surface: 'graph' });
    expect(log.filter((r) => r.path === '/v1.0/organization').map((r) => r.status)).toEqual([429, 200]);
  });

  it('fails the token endpoint too (identity surface)', async () => {
    await sim.controls.addFault({
      match: { surface: 'identity', path: '/token$' },
      fault: { kind: 'status', status: 400 },
      count: 1,
    });
    await expect(
      sim
        .credentialFor(c.tenantId, c.readOnlyApp.clientId, c.readOnlyApp.secret)
        .getToken('https://graph.microsoft.com/.default'),
    ).rejects.toThrow();
  });
});

describe('eventual consistency (Entra blog, "designing for eventual consistency")', () => {
  it('keeps a fresh user out of lists and filters for the replication delay, while reads by id see it at once', async () => {
    await sim.controls.settings({ replicationDelayMs: 60_000 });
    const created = await graph.api('/users').post(newUserBody(`fresh@${c.domain}`));
    expect((await graph.api(`/users/${created.id}`).get()).id).toBe(created.id);
    expect((await graph.api('/users').filter(`userPrincipalName eq 'fresh@${c.domain}'`).get()).value).toEqual([]);
    await sim.controls.advanceClock({ seconds: 61 });
    const later = sim.graphClientFor(sim.credentialFor(c.tenantId, c.fullApp.clientId, c.fullApp.secret));
    expect((await later.api('/users').filter(`userPrincipalName eq 'fresh@${c.domain}'`).get()).value).toHaveLength(1);
  });
});

describe('controls', () => {
  it('records requests and resets the world to the seed', async () => {
    await graph.api('/users').post(newUserBody(`tmp@${c.domain}`));
    const log = await sim.controls.requests({ tenantId: c.tenantId, surface: 'graph' });
    expect(log.some((r) => r.method === 'POST' && r.path === '/v1.0/users' && r.status === 201)).toBe(true);
    await sim.controls.reset();
    expect((await graph.api('/users').get()).value).toHaveLength(3);
    expect(await sim.controls.requests({ surface: 'graph' })).toHaveLength(1);
  });

  it('holds 100,000 generated users and serves indexed filters and $top=999 pages (no timing asserted)', async () => {
    const generated = await sim.controls.generateUsers(c.tenantId, 100_000);
    expect(generated.total).toBe(100_003);
    const page = await graph.api('/users').top(999).select('id,userPrincipalName').get();
    expect(page.value).toHaveLength(999);
    expect(page['@odata.nextLink']).toBeTruthy();
    const hit = await graph.api('/users').filter(`employeeId eq 'G99999'`).select('id,userPrincipalName').get();
    expect(hit.value).toHaveLength(1);
    expect((await graph.api(`/users/${hit.value[0].userPrincipalName}`).get()).id).toBe(hit.value[0].id);
  });

  it('rejects an invalid seed with a readable error', async () => {
    await expect(sim.controls.reset({ tenants: [{ id: 'not-a-guid' }] } as never)).rejects.toThrow(
      /InvalidSeed|tenants/,
    );
  });
});

describe('Graph client errors are GraphError with the documented code', () => {
  it('404 Request_ResourceNotFound', async () => {
    const err = await graphFailure(graph.api('/users/nobody@contoso.example').get());
    expect(err.statusCode).toBe(404);
    expect(err.code).toBe('Request_ResourceNotFound');
  });
});
