// Reconciliation through its exit doors: runs started over HTTP (and by the timer function), executed by the
// queue-triggered function on the local host against Azurite and the simulated tenant; what the tenant
// received and holds, run records and items, staged operations, the connection's flags. Hand edits in
// Microsoft 365 are made with the real Graph client, as an admin's tool would.
import { TableClient } from '@azure/data-tables';
import { describe, expect, inject, it } from 'vitest';
import type { ConnectionView } from '../../shared/domain/connection.js';
import type { ReconciliationRun, RunItem } from '../../shared/domain/reconciliation.js';
import type { ProvisioningLogRecord } from '../../shared/domain/user-state.js';
import { encodeKey } from '../../shared/storage/table-keys.js';
import { useAppWithTenant } from '../support/app-host.js';
import { DEFAULT_SEED } from '../support/simulated-tenant.js';
import { uniqueName } from '../support/unique.js';
import { waitFor } from '../support/wait-for.js';

const contoso = DEFAULT_SEED.contoso;
const ctx = useAppWithTenant();

type RunView = ReconciliationRun & { itemsPage: { value: RunItem[]; continuation: string | null } };

async function readyConnection(settings: Record<string, unknown> = {}): Promise<string> {
  const created = await ctx.app.api<ConnectionView>('POST', '/api/connections', {
    name: uniqueName('recon'), tenantId: contoso.tenantId, domain: contoso.domain, clientId: contoso.fullApp.clientId, clientSecret: contoso.fullApp.secret,
    authorityHost: ctx.sim.authorityHost, graphEndpoint: ctx.sim.graphBaseUrl,
  });
  const id = created.body.id;
  expect((await ctx.app.api('PUT', `/api/connections/${id}/settings`, { usageLocation: 'US', ...settings })).status).toBe(200);
  expect((await ctx.app.api<{ status: string }>('POST', `/api/connections/${id}/test`)).body.status).toBe('ready');
  return id;
}

const person = (userName: string, extra: Record<string, unknown> = {}) => ({
  userName, givenName: 'Rec', familyName: userName.replace(/[^a-z]/gi, ''), displayName: `Rec ${userName}`, active: true, password: 'Initial-Pa55word!', ...extra,
});

/** Submits a change and waits until the executor has logged it; answers the linked object id. */
async function provision(connectionId: string, externalId: string, change: Record<string, unknown>): Promise<string | undefined> {
  const res = await ctx.app.api<{ operations: { operationId: string }[] }>('POST', `/api/connections/${connectionId}/changes`, { externalId, ...change });
  expect(res.status, res.text).toBe(202);
  const operationId = res.body.operations[0]!.operationId;
  await waitFor(async () => (await logs(connectionId, externalId)).find((r) => r.operationId === operationId), { what: `operation ${operationId}`, timeoutMs: 20_000, intervalMs: 100 });
  return (await ctx.app.api<{ link: { objectId: string } | null }>('GET', `/api/connections/${connectionId}/users/${encodeURIComponent(externalId)}`)).body.link?.objectId;
}

const logs = async (connectionId: string, externalId: string) =>
  (await ctx.app.api<{ value: ProvisioningLogRecord[] }>('GET', `/api/connections/${connectionId}/logs?externalId=${encodeURIComponent(externalId)}&limit=100`)).body.value;

/** Starts a run over HTTP and waits for it to end; answers the run with its first page of items. */
async function reconcile(connectionId: string, query = ''): Promise<RunView> {
  const started = await ctx.app.api<ReconciliationRun & { location: string }>('POST', `/api/connections/${connectionId}/reconcile${query}`);
  expect(started.status, started.text).toBe(202);
  expect(started.headers.get('location')).toBe(`/api/connections/${connectionId}/runs/${started.body.runId}`);
  return waitRun(connectionId, started.body.runId);
}

const waitRun = (connectionId: string, runId: string) =>
  waitFor(async () => {
    const run = (await ctx.app.api<RunView>('GET', `/api/connections/${connectionId}/runs/${runId}?limit=500`)).body;
    return ['completed', 'failed', 'skipped'].includes(run.status) ? run : undefined;
  }, { what: `run ${runId}`, timeoutMs: 30_000, intervalMs: 150 });

const graph = () => ctx.sim.graphClientFor(ctx.sim.credentialFor(contoso.tenantId, contoso.fullApp.clientId, contoso.fullApp.secret));
const simUser = (id: string) => ctx.sim.controls.user(contoso.tenantId, id);
const lastSeq = async () => (await ctx.sim.controls.requests()).at(-1)?.seq ?? 0;
const graphRequestsSince = async (seq: number) => ctx.sim.controls.requests({ since: seq, surface: 'graph' });
const itemFor = (run: RunView, externalId: string) => run.itemsPage.value.find((i) => i.externalId === externalId);
const table = (name: string) => TableClient.fromConnectionString(inject('storageConnectionString'), name, { allowInsecureConnection: true });

describe('delta rounds', () => {
  it('starts with a full round, then reads only changes from the stored delta link; a lost token means a full resync', async () => {
    const conn = await readyConnection();
    const ext = uniqueName('emp');
    await provision(conn, ext, { type: 'upsert', version: 1, attributes: person(uniqueName('delta.user')) });

    let since = await lastSeq();
    const first = await reconcile(conn);
    expect(first).toMatchObject({ status: 'completed', trigger: 'manual', dryRun: false, deltaRound: { kind: 'full', why: expect.stringMatching(/first run/) } });
    expect(Object.values(first.drift).every((n) => n === 0)).toBe(true);
    // The seeded accounts (admin, Adele, Alex…) have no directory user: reported, never touched.
    expect(first.unmatched).toBeGreaterThanOrEqual(3);
    expect(first.itemsPage.value).toContainEqual(expect.objectContaining({ kind: 'unmatched', objectId: contoso.users.adele, disposition: 'reported' }));
    const firstDelta = (await graphRequestsSince(since)).filter((r) => r.path.startsWith('/v1.0/users/delta'));
    expect(firstDelta.length).toBeGreaterThan(0);
    expect(firstDelta[0]!.path).not.toMatch(/deltatoken/i);
    expect((await graphRequestsSince(since)).filter((r) => r.method !== 'GET')).toEqual([]);

    since = await lastSeq();
    const second = await reconcile(conn);
    expect(second).toMatchObject({ status: 'completed', deltaRound: { kind: 'incremental' } });
    const secondDelta = (await graphRequestsSince(since)).filter((r) => r.path.startsWith('/v1.0/users/delta'));
    expect(secondDelta.map((r) => r.path)).toEqual([expect.stringMatching(/deltatoken/i)]);
    // Nothing changed in Microsoft 365 since the first round: nothing examined on the tenant side.
    expect(second.examined.microsoft365).toBe(0);

    await ctx.sim.controls.deltaReset(contoso.tenantId);
    const third = await reconcile(conn);
    expect(third).toMatchObject({ status: 'completed', deltaRound: { kind: 'full', why: expect.stringMatching(/expired or was reset/) } });
    expect(third.examined.microsoft365).toBeGreaterThanOrEqual(first.examined.microsoft365);
  });
});

describe('drift', () => {
  it('finds profile, enabled, license and deleted drift and never-linked users, and the queued corrections fix each', async () => {
    const conn = await readyConnection();
    const names = { profile: uniqueName('p.drift'), enabled: uniqueName('e.drift'), license: uniqueName('l.drift'), deleted: uniqueName('d.drift'), never: uniqueName('n.drift') };
    const ext = Object.fromEntries(Object.keys(names).map((k) => [k, uniqueName(`emp-${k}`)])) as Record<keyof typeof names, string>;
    const ids: Record<string, string> = {};
    for (const k of ['profile', 'enabled', 'license', 'deleted'] as const) {
      ids[k] = (await provision(conn, ext[k], { type: 'upsert', version: 1, attributes: person(names[k], { jobTitle: 'Engineer' }), ...(k === 'license' ? { licenses: ['SPE_E3'] } : {}) }))!;
    }
    expect((await simUser(ids.license!)).assignedLicenses).toEqual([expect.objectContaining({ skuId: contoso.skus.spe_e3 })]);
    const baseline = await reconcile(conn);
    expect(baseline.status).toBe('completed');
    // Never linked: assigned while creating was off, so it was skipped without an account; now it is allowed.
    expect((await ctx.app.api('PUT', `/api/connections/${conn}/settings`, { usageLocation: 'US', allowCreate: false })).status).toBe(200);
    await provision(conn, ext.never, { type: 'upsert', version: 1, attributes: person(names.never) });
    expect((await ctx.app.api('PUT', `/api/connections/${conn}/settings`, { usageLocation: 'US', allowCreate: true })).status).toBe(200);

    // An admin edits Microsoft 365 by hand.
    await graph().api(`/users/${ids.profile}`).patch({ jobTitle: 'Edited by hand' });
    await graph().api(`/users/${ids.enabled}`).patch({ accountEnabled: false });
    await graph().api(`/users/${ids.license}/assignLicense`).post({ addLicenses: [], removeLicenses: [contoso.skus.spe_e3] });
    await graph().api(`/users/${ids.deleted}`).delete();

    const run = await reconcile(conn);
    expect(run).toMatchObject({ status: 'completed', deltaRound: { kind: 'incremental' }, drift: { profile: 1, enabled: 1, license: 1, deleted: 1, neverLinked: 1 }, enqueued: 5, staged: 0 });
    expect(itemFor(run, ext.profile)).toMatchObject({ kind: 'profile', disposition: 'enqueued', differences: [{ property: 'jobTitle', expected: 'Engineer', actual: 'Edited by hand' }] });
    expect(itemFor(run, ext.enabled)).toMatchObject({ kind: 'enabled', detail: expect.stringMatching(/accountEnabled is false, should be true/) });
    expect(itemFor(run, ext.license)).toMatchObject({ kind: 'license', detail: expect.stringContaining(contoso.skus.spe_e3) });
    expect(itemFor(run, ext.deleted)).toMatchObject({ kind: 'deleted', objectId: ids.deleted });
    expect(itemFor(run, ext.never)).toMatchObject({ kind: 'neverLinked', disposition: 'enqueued' });

    await waitFor(async () => {
      const [p, e, l, d] = await Promise.all([simUser(ids.profile!), simUser(ids.enabled!), simUser(ids.license!), simUser(ids.deleted!)]);
      return p.jobTitle === 'Engineer' && e.accountEnabled === true && JSON.stringify(l.assignedLicenses).includes(contoso.skus.spe_e3) && d.deleted === false;
    }, { what: 'corrections applied', timeoutMs: 30_000, intervalMs: 200 });
    // The deleted account came back from deleted items (same object id), not as a new account.
    expect((await logs(conn, ext.deleted)).some((r) => r.action === 'restore' && r.result === 'applied')).toBe(true);
    const never = await waitFor(async () => (await ctx.app.api<{ link: { objectId: string } | null }>('GET', `/api/connections/${conn}/users/${ext.never}`)).body.link ?? undefined, { what: 'never-linked user created', timeoutMs: 20_000 });
    expect((await simUser(never.objectId)).userPrincipalName).toBe(`${names.never}@${contoso.domain}`);

    // Corrected: the next run finds nothing to do for these users.
    const after = await reconcile(conn);
    for (const e of Object.values(ext)) expect(itemFor(after, e)).toBeUndefined();
  }, 90_000);

  it('a full round finds a linked account deleted in Microsoft 365 because the round no longer returns it', async () => {
    const conn = await readyConnection();
    const ext = uniqueName('emp');
    const id = (await provision(conn, ext, { type: 'upsert', version: 1, attributes: person(uniqueName('full.gone')) }))!;
    await reconcile(conn);
    await graph().api(`/users/${id}`).delete();
    const run = await reconcile(conn, '?full=true');
    expect(run).toMatchObject({ status: 'completed', deltaRound: { kind: 'full', why: 'requested' } });
    expect(itemFor(run, ext)).toMatchObject({ kind: 'deleted', objectId: id, disposition: 'enqueued' });
    await waitFor(async () => (await simUser(id)).deleted === false, { what: 'restored', timeoutMs: 20_000 });
  });

  it('re-enqueues a change whose operation was lost (received long ago, never reconciled)', async () => {
    const conn = await readyConnection();
    const ext = uniqueName('emp');
    const userName = uniqueName('lost.msg');
    const longAgo = new Date(Date.now() - 3600_000).toISOString();
    const message = { type: 'upsert', connectionId: conn, externalId: ext, version: 1, operationId: crypto.randomUUID(), attributes: person(userName) };
    // The row an operation leaves when its host died after merging the change and before acting on it.
    await table('users').createEntity({
      partitionKey: conn, rowKey: encodeKey(ext), connectionId: conn, externalId: ext, appliedVersion: 0, status: 'pending', ownedLicenses: '[]', attention: true,
      desired: JSON.stringify({ profile: { version: 1, attributes: message.attributes }, lifecycle: { version: 1, state: 'active', explicit: true } }),
      lastChange: JSON.stringify(message), createdAt: longAgo, updatedAt: longAgo,
    });
    const run = await reconcile(conn);
    expect(itemFor(run, ext)).toMatchObject({ kind: 'stuck', disposition: 'enqueued' });
    await waitFor(async () => (await logs(conn, ext)).find((r) => r.action === 'create' && r.result === 'applied'), { what: 'lost change applied', timeoutMs: 20_000 });
  });
});

describe('dry run', () => {
  it('plans the corrections without enqueueing or writing anything, and leaves the delta link for the next real run', async () => {
    const conn = await readyConnection();
    const ext = uniqueName('emp');
    const id = (await provision(conn, ext, { type: 'upsert', version: 1, attributes: person(uniqueName('dry.run'), { jobTitle: 'Engineer' }) }))!;
    await reconcile(conn);
    await graph().api(`/users/${id}`).patch({ jobTitle: 'Edited by hand' });
    const logCount = (await logs(conn, ext)).length;

    const since = await lastSeq();
    const plan = await reconcile(conn, '?dryRun=true');
    expect(plan).toMatchObject({ status: 'completed', dryRun: true, enqueued: 0, drift: { profile: 1 } });
    expect(itemFor(plan, ext)).toMatchObject({ kind: 'profile', disposition: 'planned', operation: 'reconcile' });
    expect((await graphRequestsSince(since)).filter((r) => r.method !== 'GET')).toEqual([]);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await logs(conn, ext)).length).toBe(logCount);
    expect((await simUser(id)).jobTitle).toBe('Edited by hand');

    const real = await reconcile(conn);
    expect(itemFor(real, ext)).toMatchObject({ kind: 'profile', disposition: 'enqueued' });
  });
});

describe('one run at a time', () => {
  it('refuses to start while another run holds the lease, and a queued run that meets a live lease says so and does nothing', async () => {
    const conn = await readyConnection();
    await reconcile(conn);
    const reconciliation = table('reconciliation');
    const state = await reconciliation.getEntity<{ data: string }>(conn, 'state');
    const until = new Date(Date.now() + 120_000).toISOString();
    await reconciliation.updateEntity({ partitionKey: conn, rowKey: 'state', data: JSON.stringify({ ...JSON.parse(state.data), lease: { runId: 'other-instance-run', until } }) }, 'Replace');

    const refused = await ctx.app.api<{ code: string; runId: string }>('POST', `/api/connections/${conn}/reconcile`);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'run-in-progress', runId: 'other-instance-run' });

    // A request that was already queued (the timer's, say) meets the lease when it runs.
    const { services } = await import('../../functions/services.js');
    const runId = `manual-${crypto.randomUUID().slice(0, 8)}`;
    await services().runs.enqueue({ connectionId: conn, runId, trigger: 'manual', dryRun: false, full: false, requestedAt: new Date().toISOString() });
    const skipped = await waitRun(conn, runId);
    expect(skipped).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/other-instance-run\) holds this connection/) });
    expect(skipped.examined).toEqual({ microsoft365: 0, directory: 0 });
  });
});
