// deprovisionOnRuleDeletion (PingOne's setting; issue 15, point 5): deleting a connection with it on deprovisions
// every user per removeAction through the normal pipeline, shows `deleting` with progress, and removes the
// connection by itself once the last removal is applied. Through the exit doors: HTTP answers, what the simulated
// tenant received and holds, log records.
import { TableClient } from '@azure/data-tables';
import { describe, expect, inject, it } from 'vitest';
import { useAppWithTenant } from '../support/app-host.js';
import { person, provisioningApi } from '../support/provisioning-api.js';
import { DEFAULT_SEED } from '../support/simulated-tenant.js';
import { uniqueName } from '../support/unique.js';
import { waitFor } from '../support/wait-for.js';

const contoso = DEFAULT_SEED.contoso;
const ctx = useAppWithTenant();
const { readyConnection, submit, logOf, logsOf } = provisioningApi(ctx, 'deldep');

interface Deletion {
  requestedAt: string;
  removeAction: string;
  total: number;
  done?: number;
  failed?: number;
  pending?: number;
}
interface ConnectionAnswer {
  status: string;
  statusReason?: string;
  deletion: Deletion | null;
}

const usersTable = TableClient.fromConnectionString(inject('storageConnectionString'), 'users', {
  allowInsecureConnection: true,
});
/** Rows of the users table in the connection's partitions (its users, link index, pending removals). */
async function rowsOf(conn: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const e of usersTable.listEntities({
    queryOptions: { filter: `PartitionKey ge '${conn}' and PartitionKey lt '${conn}~~'`, select: ['PartitionKey'] },
  }))
    keys.push(e.partitionKey!);
  return keys;
}

const simUser = (idOrUpn: string) => ctx.sim.controls.user(contoso.tenantId, idOrUpn);
const getConnection = (id: string) => ctx.app.api<ConnectionAnswer>('GET', `/api/connections/${id}`);
const lastSeq = async () => (await ctx.sim.controls.requests()).at(-1)?.seq ?? 0;
const writesSince = async (seq: number) =>
  (await ctx.sim.controls.requests({ since: seq, surface: 'graph' })).filter((r) => r.method !== 'GET');

/** Creates a user's account (version 1) and answers its object id. */
async function provisioned(conn: string, who: string): Promise<{ externalId: string; objectId: string }> {
  const externalId = uniqueName('emp');
  await logOf(
    conn,
    externalId,
    await submit(conn, { type: 'upsert', externalId, version: 1, attributes: person(`${who}.${externalId.slice(4)}`) }),
    'applied',
  );
  const view = await ctx.app.api<{ link: { objectId: string } }>('GET', `/api/connections/${conn}/users/${externalId}`);
  return { externalId, objectId: view.body.link.objectId };
}

const failNextPatch = (objectId: string, count = 1) =>
  ctx.sim.controls.addFault({
    match: { surface: 'graph', method: 'PATCH', path: `^/v1.0/users/${objectId}$` },
    fault: { kind: 'status', status: 400 },
    count,
  });

const gone = (conn: string) =>
  waitFor(async () => (await getConnection(conn)).status === 404, {
    what: 'the connection to remove itself',
    timeoutMs: 30_000,
    intervalMs: 200,
  });

describe('deprovisionOnRuleDeletion on', () => {
  it('disables every user through the pipeline, shows deleting with progress (a failed removal too), and removes the connection by itself once the last is applied', async () => {
    const conn = await readyConnection({ deprovisionOnRuleDeletion: true });
    const a = await provisioned(conn, 'dda');
    const b = await provisioned(conn, 'ddb');
    // Graph refuses B's disable once: B's removal fails and the deletion waits for it.
    await failNextPatch(b.objectId);

    const started = await ctx.app.api<{ deleted: boolean; status: string; deletion: Deletion }>(
      'DELETE',
      `/api/connections/${conn}`,
    );
    expect(started.status, started.text).toBe(202);
    expect(started.body).toMatchObject({
      deleted: false,
      status: 'deleting',
      deletion: { total: 2, removeAction: 'disable' },
    });

    const stuck = await waitFor(
      async () => {
        const c = (await getConnection(conn)).body;
        return c.deletion?.done === 1 && c.deletion.failed === 1 ? c : undefined;
      },
      { what: 'progress: one done, one failed', timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(stuck).toMatchObject({ status: 'deleting', deletion: { total: 2, done: 1, failed: 1, pending: 0 } });
    expect(stuck.statusReason).toMatch(/retry|provisionedUsers=keep/);
    expect(await rowsOf(conn)).toContain(`${conn}~removing`);
    expect((await simUser(a.objectId)).accountEnabled).toBe(false);
    expect((await simUser(b.objectId)).accountEnabled).toBe(true);
    const failedUsers = await ctx.app.api<{ value: { externalId: string }[] }>(
      'GET',
      `/api/connections/${conn}/users?status=failed`,
    );
    expect(failedUsers.body.value.map((u) => u.externalId)).toEqual([b.externalId]);

    // While it is being deleted, any other change is skipped without a Graph request.
    const since = await lastSeq();
    const newcomer = uniqueName('emp');
    const skipped = await logOf(
      conn,
      newcomer,
      await submit(conn, { type: 'upsert', externalId: newcomer, version: 1, attributes: person('dd.newcomer') }),
    );
    expect(skipped).toMatchObject({ result: 'skipped', reason: expect.stringMatching(/being deleted/) });
    expect(await writesSince(since)).toEqual([]);
    const reconcile = await ctx.app.api<{ code: string }>('POST', `/api/connections/${conn}/reconcile`);
    expect(reconcile.status).toBe(409);
    expect(reconcile.body.code).toBe('connection-not-ready');
    // Deleting again reports the progress; it enqueues nothing new.
    const again = await ctx.app.api<{ deleted: boolean; deletion: Deletion }>('DELETE', `/api/connections/${conn}`);
    expect(again.status).toBe(202);
    expect(again.body.deletion).toMatchObject({ total: 2, done: 1, failed: 1 });

    // The admin retries the failed removal: once it is applied the connection goes by itself.
    expect((await ctx.app.api('POST', `/api/connections/${conn}/users/${b.externalId}/retry`)).status).toBe(202);
    await gone(conn);
    expect(await rowsOf(conn)).toEqual([]);
    expect((await simUser(b.objectId)).accountEnabled).toBe(false);
    expect((await ctx.app.api('GET', `/api/connections/${conn}/users/${a.externalId}`)).status).toBe(404);
    // The disables were the pipeline's: one PATCH accountEnabled=false per account that succeeded.
    const patches = (await ctx.sim.controls.requests({ surface: 'graph' })).filter(
      (r) => r.method === 'PATCH' && r.status < 300 && [a.objectId, b.objectId].some((id) => r.path.endsWith(id)),
    );
    expect(patches.map((r) => r.body)).toEqual([{ accountEnabled: false }, { accountEnabled: false }]);
  });

  it('removeAction delete: the accounts are deleted, then the connection', async () => {
    const conn = await readyConnection({ deprovisionOnRuleDeletion: true, removeAction: 'delete' });
    const a = await provisioned(conn, 'ddx');
    const b = await provisioned(conn, 'ddy');
    const res = await ctx.app.api<{ deletion: Deletion }>('DELETE', `/api/connections/${conn}`);
    expect(res.status, res.text).toBe(202);
    expect(res.body.deletion).toMatchObject({ total: 2, removeAction: 'delete' });
    await gone(conn);
    expect((await simUser(a.objectId)).deleted).toBe(true);
    expect((await simUser(b.objectId)).deleted).toBe(true);
  });

  it('a deletion held up by a failing removal can be forced with ?provisionedUsers=keep: gone at once, that account left as it is', async () => {
    const conn = await readyConnection({ deprovisionOnRuleDeletion: true });
    const a = await provisioned(conn, 'ddk');
    await failNextPatch(a.objectId, 50);
    expect((await ctx.app.api('DELETE', `/api/connections/${conn}`)).status).toBe(202);
    await waitFor(async () => (await getConnection(conn)).body.deletion?.failed === 1, {
      what: 'the removal to fail',
      timeoutMs: 20_000,
      intervalMs: 200,
    });
    const forced = await ctx.app.api<{ deleted: boolean; provisionedUsers: { count: number; action: string } }>(
      'DELETE',
      `/api/connections/${conn}?provisionedUsers=keep`,
    );
    expect(forced.status, forced.text).toBe(200);
    expect(forced.body).toMatchObject({ deleted: true, provisionedUsers: { count: 1, action: 'kept' } });
    expect((await getConnection(conn)).status).toBe(404);
    expect(await rowsOf(conn)).toEqual([]);
    expect((await simUser(a.objectId)).accountEnabled).toBe(true);
    await ctx.sim.controls.clearFaults();
  });

  it('a connection with no provisioned user is deleted at once', async () => {
    const conn = await readyConnection({ deprovisionOnRuleDeletion: true });
    const res = await ctx.app.api<{ deleted: boolean }>('DELETE', `/api/connections/${conn}`);
    expect(res.status).toBe(200);
    expect(res.body.deleted).toBe(true);
  });
});

describe('deprovisionOnRuleDeletion off', () => {
  it('keeps the keep/deprovision choice, and the connection never shows deleting', async () => {
    const conn = await readyConnection();
    const a = await provisioned(conn, 'ddo');
    const refused = await ctx.app.api<{ code: string }>('DELETE', `/api/connections/${conn}`);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('provisioned-users-choice-required');
    expect((await getConnection(conn)).body).toMatchObject({ status: 'ready', deletion: null });
    expect((await simUser(a.objectId)).accountEnabled).toBe(true);
    expect((await logsOf(conn, a.externalId)).length).toBe(1);
  });
});
