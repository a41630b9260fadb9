// What an admin needs to see (issue 15, point 5): the users of a connection listed with filters, paging and counts
// per status; every error as problem+json (401, 404, 405 included); the log's outcome filter named like the record's
// field. Through the exit doors: HTTP answers of the real local host, against the simulated tenant.
import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { ProvisioningLogRecord } from '../../shared/domain/user-state.js';
import { useAppWithTenant } from '../support/app-host.js';
import { person, provisioningApi } from '../support/provisioning-api.js';
import { uniqueName } from '../support/unique.js';

const ctx = useAppWithTenant();
const { readyConnection, submit, logOf } = provisioningApi(ctx, 'views');

interface UserView {
  externalId: string;
  status: string;
  inSync: boolean;
  blockedBy: unknown[] | null;
  link: { objectId: string; userPrincipalName: string | null } | null;
}
interface UserList {
  value: UserView[];
  continuation: string | null;
  counts: Record<string, number>;
}
interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  errors?: { field: string; message: string }[];
}

const list = (connectionId: string, query = '') =>
  ctx.app.api<UserList>('GET', `/api/connections/${connectionId}/users${query ? `?${query}` : ''}`);

/** Five users on one connection: three applied, one blocked by policy, one failed (Graph refused its create). */
async function fiveUsers() {
  const conn = await readyConnection();
  const tag = uniqueName('lv').slice(3);
  const ids = { a: `a-${tag}`, b: `b-${tag}`, c: `c-${tag}`, blocked: `d-${tag}`, failed: `e-${tag}` };
  const names: Record<string, string> = {};
  for (const key of Object.keys(ids)) names[key] = `lv${key}.${tag}`;
  for (const key of ['a', 'b', 'c', 'blocked'] as const) {
    const externalId = ids[key];
    await logOf(
      conn,
      externalId,
      await submit(conn, {
        type: 'upsert',
        externalId,
        version: 1,
        attributes: person(names[key]!, { jobTitle: 'Engineer' }, key === 'b' ? 'Quentin' : 'Test'),
      }),
      'applied',
    );
  }
  // Graph refuses the next create: that user fails.
  await ctx.sim.controls.addFault({
    match: { surface: 'graph', method: 'POST', path: '^/v1.0/users$' },
    fault: { kind: 'status', status: 400 },
    count: 1,
  });
  await logOf(
    conn,
    ids.failed,
    await submit(conn, { type: 'upsert', externalId: ids.failed, version: 1, attributes: person(names.failed!) }),
    'failed',
  );
  // allowUpdate off: a profile change is blocked.
  expect((await ctx.app.api('PUT', `/api/connections/${conn}/settings`, { allowUpdate: false })).status).toBe(200);
  await logOf(
    conn,
    ids.blocked,
    await submit(conn, {
      type: 'upsert',
      externalId: ids.blocked,
      version: 2,
      attributes: person(names.blocked!, { jobTitle: 'Manager' }),
    }),
    'blocked',
  );
  return { conn, ids, names, tag };
}

describe('GET /api/connections/{id}/users', () => {
  it('lists every user as the single-user view does, with counts per status, filters and paging', async () => {
    const { conn, ids, names } = await fiveUsers();

    const all = await list(conn);
    expect(all.status, all.text).toBe(200);
    expect(all.body.value.map((u) => u.externalId)).toEqual(Object.values(ids).sort());
    expect(all.body.continuation).toBeNull();
    expect(all.body.counts).toMatchObject({ applied: 3, blocked: 1, failed: 1, pending: 0, held: 0, total: 5 });
    // Each item is exactly what GET …/users/{externalId} answers.
    for (const item of all.body.value) {
      const one = await ctx.app.api<UserView>('GET', `/api/connections/${conn}/users/${item.externalId}`);
      expect(item).toEqual(one.body);
    }

    const ext = (r: { body: UserList }) => r.body.value.map((u) => u.externalId);
    expect(ext(await list(conn, 'status=failed'))).toEqual([ids.failed]);
    expect(ext(await list(conn, 'status=applied'))).toEqual([ids.a, ids.b, ids.c]);
    expect(ext(await list(conn, 'inSync=false'))).toEqual([ids.blocked, ids.failed]);
    expect(ext(await list(conn, 'inSync=true'))).toEqual([ids.a, ids.b, ids.c]);
    expect(ext(await list(conn, 'blocked=true'))).toEqual([ids.blocked]);
    expect(ext(await list(conn, 'blocked=false'))).toHaveLength(4);
    expect(ext(await list(conn, 'status=applied&inSync=false'))).toEqual([]);
    // q: a case-insensitive substring of the externalId, the userPrincipalName or the displayName.
    expect(ext(await list(conn, `q=${ids.c.toUpperCase()}`))).toEqual([ids.c]);
    expect(ext(await list(conn, `q=${encodeURIComponent(`${names.a}@`)}`))).toEqual([ids.a]);
    expect(ext(await list(conn, 'q=quentin'))).toEqual([ids.b]);
    // The counts are the connection's, whatever the filter.
    expect((await list(conn, 'status=failed')).body.counts).toMatchObject({ applied: 3, total: 5 });

    // Paging: two at a time, in externalId order, each user once.
    const seen: string[] = [];
    let continuation: string | null = null;
    let pages = 0;
    do {
      const page: Awaited<ReturnType<typeof list>> = await list(
        conn,
        `limit=2${continuation ? `&continuation=${encodeURIComponent(continuation)}` : ''}`,
      );
      expect(page.status, page.text).toBe(200);
      expect(page.body.value.length).toBeLessThanOrEqual(2);
      seen.push(...ext(page));
      continuation = page.body.continuation;
      pages++;
    } while (continuation && pages < 10);
    expect(seen).toEqual(Object.values(ids).sort());
    expect(pages).toBe(3);
    // Paging with a filter applied while streaming.
    const first = await list(conn, 'inSync=true&limit=2');
    expect(ext(first)).toEqual([ids.a, ids.b]);
    const second = await list(conn, `inSync=true&limit=2&continuation=${encodeURIComponent(first.body.continuation!)}`);
    expect(ext(second)).toEqual([ids.c]);
  });

  it.each([
    ['status=weird', 'status'],
    ['inSync=maybe', 'inSync'],
    ['blocked=1', 'blocked'],
    ['limit=0', 'limit'],
    ['limit=501', 'limit'],
    ['q=', 'q'],
    ['colour=blue', 'colour'],
  ])('refuses %s with 400 problem+json naming %s', async (query, field) => {
    const conn = await readyConnection();
    const res = await ctx.app.api<Problem>('GET', `/api/connections/${conn}/users?${query}`);
    expect(res.status, res.text).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.body.code).toBe('validation-failed');
    expect(res.body.errors!.map((e) => e.field)).toContain(field);
  });

  it('refuses a continuation token it did not give out, and answers 404 for an unknown connection', async () => {
    const conn = await readyConnection();
    for (const token of ['garbage', Buffer.from('{"after":1}').toString('base64url'), 'eyJ']) {
      const res = await ctx.app.api<Problem>('GET', `/api/connections/${conn}/users?continuation=${token}`);
      expect(res.status, res.text).toBe(400);
      expect(res.body.code).toBe('invalid-continuation');
    }
    const unknown = await ctx.app.api<Problem>('GET', '/api/connections/00000000-0000-4000-8000-000000000000/users');
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('connection-not-found');
  });
});

describe('every error is problem+json', () => {
  const expectProblem = (res: { status: number; headers: Headers; text: string }, status: number, code: string) => {
    expect(res.status, res.text).toBe(status);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(JSON.parse(res.text)).toMatchObject({ status, code, type: `urn:m365-provisioner:problem:${code}` });
  };

  it('401 without the function key or with a wrong one, never saying which', async () => {
    const missing = await ctx.app.api('GET', '/api/connections', undefined, { key: false });
    expectProblem(missing, 401, 'function-key-required');
    const wrong = await ctx.app.api('GET', '/api/connections', undefined, {
      key: false,
      headers: { 'x-functions-key': 'not-the-key' },
    });
    expectProblem(wrong, 401, 'function-key-required');
    expect(wrong.text).toBe(missing.text);
    expect(wrong.text).not.toContain(ctx.app.host.functionKey);
    const query = await ctx.app.api('GET', '/api/connections?code=nope', undefined, { key: false });
    expectProblem(query, 401, 'function-key-required');
  });

  it('404 for an unknown route, under /api or outside it', async () => {
    expectProblem(await ctx.app.api('GET', '/api/no-such-thing'), 404, 'route-not-found');
    expectProblem(await ctx.app.api('GET', '/elsewhere'), 404, 'route-not-found');
  });

  it('405 with Allow for a method no function serves', async () => {
    const res = await new Promise<{ status: number; headers: Headers; text: string }>((resolve, reject) => {
      const req = httpRequest(`${ctx.app.url}/api/health`, { method: 'PROPFIND' }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () =>
          resolve({
            status: r.statusCode!,
            headers: new Headers(r.headers as Record<string, string>),
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      });
      req.on('error', reject);
      req.end();
    });
    expectProblem(res, 405, 'method-not-allowed');
    expect(res.headers.get('allow')).toContain('GET');
  });
});

describe('?code= is the function key, never a filter', () => {
  it('is accepted by every route that validates its query', async () => {
    const conn = await readyConnection();
    const code = `code=${ctx.app.host.functionKey}`;
    for (const [method, path] of [
      ['GET', `/api/connections/${conn}/users?${code}`],
      ['GET', `/api/connections/${conn}/logs?${code}`],
      ['GET', `/api/connections/${conn}/runs?${code}`],
      ['GET', `/api/connections/${conn}/audit?${code}`],
      ['POST', `/api/connections/${conn}/reconcile?dryRun=true&${code}`],
      ['DELETE', `/api/connections/${conn}?${code}`],
    ] as const) {
      const res = await ctx.app.api(method, path, undefined, { key: false });
      expect(res.status, `${method} ${path}: ${res.text}`).toBeLessThan(300);
    }
  });
});

describe('the log filter is named like the record field', () => {
  it('filters by result (status stays an alias); both at once must agree; ?code= is not a filter', async () => {
    const conn = await readyConnection();
    const ext = uniqueName('emp');
    const objectId = await (async () => {
      await logOf(
        conn,
        ext,
        await submit(conn, { type: 'upsert', externalId: ext, version: 1, attributes: person(`lg.${ext.slice(4)}`) }),
        'applied',
      );
      return (await ctx.app.api<UserView>('GET', `/api/connections/${conn}/users/${ext}`)).body.link!.objectId;
    })();
    // Graph refuses the deactivation: that operation fails.
    await ctx.sim.controls.addFault({
      match: { surface: 'graph', method: 'PATCH', path: `^/v1.0/users/${objectId}$` },
      fault: { kind: 'status', status: 400 },
      count: 1,
    });
    await logOf(conn, ext, await submit(conn, { type: 'deactivate', externalId: ext, version: 2 }), 'failed');
    const logs = (query: string) =>
      ctx.app.api<{ value: ProvisioningLogRecord[] }>(
        'GET',
        `/api/connections/${conn}/logs?externalId=${ext}&${query}`,
      );

    const byResult = await logs('result=failed');
    expect(byResult.status, byResult.text).toBe(200);
    expect(byResult.body.value.map((r) => r.result)).toEqual(['failed']);
    expect((await logs('status=failed')).body.value.map((r) => r.result)).toEqual(['failed']);
    expect((await logs('result=applied&status=applied')).body.value.map((r) => r.result)).toEqual(['applied']);
    const conflicting = await ctx.app.api<Problem>(
      'GET',
      `/api/connections/${conn}/logs?externalId=${ext}&result=applied&status=failed`,
    );
    expect(conflicting.status).toBe(400);
    expect(conflicting.body.errors!.map((e) => e.field)).toContain('status');
    const withCode = await ctx.app.api<{ value: ProvisioningLogRecord[] }>(
      'GET',
      `/api/connections/${conn}/logs?externalId=${ext}&result=applied&code=${ctx.app.host.functionKey}`,
      undefined,
      { key: false },
    );
    expect(withCode.status, withCode.text).toBe(200);
    expect(withCode.body.value).toHaveLength(1);
  });
});
