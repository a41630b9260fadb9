// Reconciliation through its exit doors: runs started over HTTP (and by the timer function), executed by the
// queue-triggered function on the local host against Azurite and the simulated tenant; what the tenant
// received and holds, run records and items, staged operations, the connection's flags. Hand edits in
// Microsoft 365 are made with the real Graph client, as an admin's tool would.
import { TableClient } from '@azure/data-tables';
import { describe, expect, inject, it } from 'vitest';
import type { ConnectionView } from '../../shared/domain/connection.js';
import {
  newRunId,
  type ReconciliationRun,
  type ReconciliationState,
  type RunItem,
} from '../../shared/domain/reconciliation.js';
import type { ProvisioningLogRecord } from '../../shared/domain/user-state.js';
import { encodeKey, readJsonColumn } from '../../shared/storage/table-keys.js';
import { useAppWithTenant } from '../support/app-host.js';
import { person as personOf, provisioningApi } from '../support/provisioning-api.js';
import { DEFAULT_SEED } from '../support/simulated-tenant.js';
import { uniqueName } from '../support/unique.js';
import { waitFor } from '../support/wait-for.js';

const contoso = DEFAULT_SEED.contoso;
const ctx = useAppWithTenant();

type RunView = ReconciliationRun & { itemsPage: { value: RunItem[]; continuation: string | null } };

const api = provisioningApi(ctx, 'recon');
/** Reconciliation's connections all have a usage location, so licences can be assigned. */
const readyConnection = (settings: Record<string, unknown> = {}) =>
  api.readyConnection({ usageLocation: 'US', ...settings });
const person = (userName: string, extra: Record<string, unknown> = {}) => personOf(userName, extra, 'Rec');

/** Submits a change and waits until the executor has logged it; answers the linked object id. */
async function provision(
  connectionId: string,
  externalId: string,
  change: Record<string, unknown>,
): Promise<string | undefined> {
  const res = await ctx.app.api<{ operations: { operationId: string }[] }>(
    'POST',
    `/api/connections/${connectionId}/changes`,
    { externalId, ...change },
  );
  expect(res.status, res.text).toBe(202);
  const operationId = res.body.operations[0]!.operationId;
  await waitFor(async () => (await logs(connectionId, externalId)).find((r) => r.operationId === operationId), {
    what: `operation ${operationId}`,
    timeoutMs: 20_000,
    intervalMs: 100,
  });
  return (
    await ctx.app.api<{ link: { objectId: string } | null }>(
      'GET',
      `/api/connections/${connectionId}/users/${encodeURIComponent(externalId)}`,
    )
  ).body.link?.objectId;
}

const logs = async (connectionId: string, externalId: string) =>
  (
    await ctx.app.api<{ value: ProvisioningLogRecord[] }>(
      'GET',
      `/api/connections/${connectionId}/logs?externalId=${encodeURIComponent(externalId)}&limit=100`,
    )
  ).body.value;

/** Starts a run over HTTP and waits for it to end; answers the run with its first page of items. */
async function reconcile(connectionId: string, query = ''): Promise<RunView> {
  const started = await ctx.app.api<ReconciliationRun & { location: string }>(
    'POST',
    `/api/connections/${connectionId}/reconcile${query}`,
  );
  expect(started.status, started.text).toBe(202);
  expect(started.headers.get('location')).toBe(`/api/connections/${connectionId}/runs/${started.body.runId}`);
  return waitRun(connectionId, started.body.runId);
}

const waitRun = (connectionId: string, runId: string) =>
  waitFor(
    async () => {
      const run = (await ctx.app.api<RunView>('GET', `/api/connections/${connectionId}/runs/${runId}?limit=500`)).body;
      return ['completed', 'failed', 'skipped'].includes(run.status) ? run : undefined;
    },
    { what: `run ${runId}`, timeoutMs: 30_000, intervalMs: 150 },
  );

const graph = () =>
  ctx.sim.graphClientFor(ctx.sim.credentialFor(contoso.tenantId, contoso.fullApp.clientId, contoso.fullApp.secret));
const simUser = (id: string) => ctx.sim.controls.user(contoso.tenantId, id);
const lastSeq = async () => (await ctx.sim.controls.requests()).at(-1)?.seq ?? 0;
const graphRequestsSince = async (seq: number) => ctx.sim.controls.requests({ since: seq, surface: 'graph' });
const itemFor = (run: RunView, externalId: string) => run.itemsPage.value.find((i) => i.externalId === externalId);
const table = (name: string) =>
  TableClient.fromConnectionString(inject('storageConnectionString'), name, { allowInsecureConnection: true });

describe('delta rounds', () => {
  it('starts with a full round, then reads only changes from the stored delta link; a lost token means a full resync', async () => {
    const conn = await readyConnection();
    const ext = uniqueName('emp');
    await provision(conn, ext, { type: 'upsert', version: 1, attributes: person(uniqueName('delta.user')) });

    let since = await lastSeq();
    const first = await reconcile(conn);
    expect(first).toMatchObject({
      status: 'completed',
      trigger: 'manual',
      dryRun: false,
      deltaRound: { kind: 'full', why: expect.stringMatching(/first run/) },
    });
    expect(Object.values(first.drift).every((n) => n === 0)).toBe(true);
    // The seeded accounts (admin, Adele, Alex…) have no directory user: reported, never touched.
    expect(first.unmatched).toBeGreaterThanOrEqual(3);
    expect(first.itemsPage.value).toContainEqual(
      expect.objectContaining({ kind: 'unmatched', objectId: contoso.users.adele, disposition: 'reported' }),
    );
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
    expect(third).toMatchObject({
      status: 'completed',
      deltaRound: { kind: 'full', why: expect.stringMatching(/expired or was reset/) },
    });
    expect(third.examined.microsoft365).toBeGreaterThanOrEqual(first.examined.microsoft365);
  });
});

describe('drift', () => {
  it('finds profile, enabled, license and deleted drift and never-linked users, and the queued corrections fix each', async () => {
    const conn = await readyConnection();
    const names = {
      profile: uniqueName('p.drift'),
      enabled: uniqueName('e.drift'),
      license: uniqueName('l.drift'),
      deleted: uniqueName('d.drift'),
      never: uniqueName('n.drift'),
    };
    const ext = Object.fromEntries(Object.keys(names).map((k) => [k, uniqueName(`emp-${k}`)])) as Record<
      keyof typeof names,
      string
    >;
    const ids: Record<string, string> = {};
    for (const k of ['profile', 'enabled', 'license', 'deleted'] as const) {
      ids[k] = (await provision(conn, ext[k], {
        type: 'upsert',
        version: 1,
        attributes: person(names[k], { jobTitle: 'Engineer' }),
        ...(k === 'license' ? { licenses: ['SPE_E3'] } : {}),
      }))!;
    }
    expect((await simUser(ids.license!)).assignedLicenses).toEqual([
      expect.objectContaining({ skuId: contoso.skus.spe_e3 }),
    ]);
    const baseline = await reconcile(conn);
    expect(baseline.status).toBe('completed');
    // Never linked: assigned while creating was off, so it was skipped without an account; now it is allowed.
    expect(
      (await ctx.app.api('PUT', `/api/connections/${conn}/settings`, { usageLocation: 'US', allowCreate: false }))
        .status,
    ).toBe(200);
    await provision(conn, ext.never, { type: 'upsert', version: 1, attributes: person(names.never) });
    expect(
      (await ctx.app.api('PUT', `/api/connections/${conn}/settings`, { usageLocation: 'US', allowCreate: true }))
        .status,
    ).toBe(200);

    // An admin edits Microsoft 365 by hand.
    await graph().api(`/users/${ids.profile}`).patch({ jobTitle: 'Edited by hand' });
    await graph().api(`/users/${ids.enabled}`).patch({ accountEnabled: false });
    await graph()
      .api(`/users/${ids.license}/assignLicense`)
      .post({ addLicenses: [], removeLicenses: [contoso.skus.spe_e3] });
    await graph().api(`/users/${ids.deleted}`).delete();

    const run = await reconcile(conn);
    expect(run).toMatchObject({
      status: 'completed',
      deltaRound: { kind: 'incremental' },
      drift: { profile: 1, enabled: 1, license: 1, deleted: 1, neverLinked: 1 },
      enqueued: 5,
      staged: 0,
    });
    expect(itemFor(run, ext.profile)).toMatchObject({
      kind: 'profile',
      disposition: 'enqueued',
      differences: [{ property: 'jobTitle', expected: 'Engineer', actual: 'Edited by hand' }],
    });
    expect(itemFor(run, ext.enabled)).toMatchObject({
      kind: 'enabled',
      detail: expect.stringMatching(/accountEnabled is false, should be true/),
    });
    expect(itemFor(run, ext.license)).toMatchObject({
      kind: 'license',
      detail: expect.stringContaining(contoso.skus.spe_e3),
    });
    expect(itemFor(run, ext.deleted)).toMatchObject({ kind: 'deleted', objectId: ids.deleted });
    expect(itemFor(run, ext.never)).toMatchObject({ kind: 'neverLinked', disposition: 'enqueued' });

    await waitFor(
      async () => {
        const [p, e, l, d] = await Promise.all([
          simUser(ids.profile!),
          simUser(ids.enabled!),
          simUser(ids.license!),
          simUser(ids.deleted!),
        ]);
        return (
          p.jobTitle === 'Engineer' &&
          e.accountEnabled === true &&
          JSON.stringify(l.assignedLicenses).includes(contoso.skus.spe_e3) &&
          d.deleted === false
        );
      },
      { what: 'corrections applied', timeoutMs: 30_000, intervalMs: 200 },
    );
    // The deleted account came back from deleted items (same object id), not as a new account.
    expect((await logs(conn, ext.deleted)).some((r) => r.action === 'restore' && r.result === 'applied')).toBe(true);
    const never = await waitFor(
      async () =>
        (await ctx.app.api<{ link: { objectId: string } | null }>('GET', `/api/connections/${conn}/users/${ext.never}`))
          .body.link ?? undefined,
      { what: 'never-linked user created', timeoutMs: 20_000 },
    );
    expect((await simUser(never.objectId)).userPrincipalName).toBe(`${names.never}@${contoso.domain}`);

    // Corrected: the next run finds nothing to do for these users.
    const after = await reconcile(conn);
    for (const e of Object.values(ext)) expect(itemFor(after, e)).toBeUndefined();
  }, 90_000);

  it('a full round finds a linked account deleted in Microsoft 365 because the round no longer returns it', async () => {
    const conn = await readyConnection();
    const ext = uniqueName('emp');
    const id = (await provision(conn, ext, {
      type: 'upsert',
      version: 1,
      attributes: person(uniqueName('full.gone')),
    }))!;
    await reconcile(conn);
    await graph().api(`/users/${id}`).delete();
    const run = await reconcile(conn, '?full=true');
    expect(run).toMatchObject({ status: 'completed', deltaRound: { kind: 'full', why: 'requested' } });
    expect(itemFor(run, ext)).toMatchObject({ kind: 'deleted', objectId: id, disposition: 'enqueued' });
    await waitFor(async () => (await simUser(id)).deleted === false, { what: 'restored', timeoutMs: 20_000 });
  });

  it('only reports a deleted account when neither restoring nor creating accounts is allowed', async () => {
    const conn = await readyConnection();
    const ext = uniqueName('emp');
    const id = (await provision(conn, ext, {
      type: 'upsert',
      version: 1,
      attributes: person(uniqueName('gone.kept')),
    }))!;
    await reconcile(conn);
    expect(
      (
        await ctx.app.api('PUT', `/api/connections/${conn}/settings`, {
          usageLocation: 'US',
          allowCreate: false,
          restoreDeletedUsers: false,
        })
      ).status,
    ).toBe(200);
    await graph().api(`/users/${id}`).delete();
    const run = await reconcile(conn);
    expect(run).toMatchObject({ drift: { deleted: 1 }, enqueued: 0 });
    expect(itemFor(run, ext)).toMatchObject({
      kind: 'deleted',
      disposition: 'reported',
      detail: expect.stringMatching(/reported only/),
    });
    expect(itemFor(run, ext)).not.toHaveProperty('operation');
  });

  it('re-enqueues a change whose operation was lost (received long ago, never reconciled)', async () => {
    const conn = await readyConnection();
    const ext = uniqueName('emp');
    const userName = uniqueName('lost.msg');
    const longAgo = new Date(Date.now() - 3600_000).toISOString();
    const message = {
      type: 'upsert',
      connectionId: conn,
      externalId: ext,
      version: 1,
      operationId: crypto.randomUUID(),
      attributes: person(userName),
    };
    // The row an operation leaves when its host died after merging the change and before acting on it.
    await table('users').createEntity({
      partitionKey: conn,
      rowKey: encodeKey(ext),
      connectionId: conn,
      externalId: ext,
      appliedVersion: 0,
      status: 'pending',
      ownedLicenses: '[]',
      attention: true,
      desired: JSON.stringify({
        profile: { version: 1, attributes: message.attributes },
        lifecycle: { version: 1, state: 'active', explicit: true },
      }),
      lastChange: JSON.stringify(message),
      createdAt: longAgo,
      updatedAt: longAgo,
    });
    const run = await reconcile(conn);
    expect(itemFor(run, ext)).toMatchObject({ kind: 'stuck', disposition: 'enqueued' });
    await waitFor(async () => (await logs(conn, ext)).find((r) => r.action === 'create' && r.result === 'applied'), {
      what: 'lost change applied',
      timeoutMs: 20_000,
    });
  });
});

describe('dry run', () => {
  it('plans the corrections without enqueueing or writing anything, and leaves the delta link for the next real run', async () => {
    const conn = await readyConnection();
    const ext = uniqueName('emp');
    const id = (await provision(conn, ext, {
      type: 'upsert',
      version: 1,
      attributes: person(uniqueName('dry.run'), { jobTitle: 'Engineer' }),
    }))!;
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
    await reconciliation.updateEntity(
      {
        partitionKey: conn,
        rowKey: 'state',
        data: JSON.stringify({ ...JSON.parse(state.data), lease: { runId: 'other-instance-run', until } }),
      },
      'Replace',
    );

    const refused = await ctx.app.api<{ code: string; runId: string }>('POST', `/api/connections/${conn}/reconcile`);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'run-in-progress', runId: 'other-instance-run' });

    // A request that was already queued (the timer's, say) meets the lease when it runs.
    const { services } = await import('../../functions/services.js');
    const runId = newRunId(new Date());
    await services().runs.enqueue({
      connectionId: conn,
      runId,
      trigger: 'manual',
      dryRun: false,
      full: false,
      requestedAt: new Date().toISOString(),
    });
    const skipped = await waitRun(conn, runId);
    expect(skipped).toMatchObject({
      status: 'skipped',
      reason: expect.stringMatching(/other-instance-run\) holds this connection/),
    });
    expect(skipped.examined).toEqual({ microsoft365: 0, directory: 0 });
  });
});

describe('accidental-deletion threshold', () => {
  it('stages disables over the threshold, flags the connection, and applies exactly what an admin approves', async () => {
    const conn = await readyConnection({ accidentalDeletionThreshold: 1 });
    const ext = [uniqueName('emp'), uniqueName('emp'), uniqueName('emp')];
    const ids: string[] = [];
    // Inactive in the directory: created disabled.
    for (const e of ext)
      ids.push(
        (await provision(conn, e, {
          type: 'upsert',
          version: 1,
          attributes: person(uniqueName('thr.user'), { active: false }),
        }))!,
      );
    expect((await simUser(ids[0]!)).accountEnabled).toBe(false);
    await reconcile(conn);
    // Someone enables all three by hand: putting them back means three disables, over the threshold of 1.
    for (const id of ids) await graph().api(`/users/${id}`).patch({ accountEnabled: true });

    const run = await reconcile(conn);
    expect(run).toMatchObject({ status: 'completed', drift: { enabled: 3 }, enqueued: 0, staged: 3 });
    expect(run.errors).toEqual([
      expect.stringMatching(/3 disable\/delete operations exceed the accidental-deletion threshold \(1\)/),
    ]);
    expect(itemFor(run, ext[0]!)).toMatchObject({ kind: 'enabled', disposition: 'staged', operation: 'disable' });
    const view = (await ctx.app.api<ConnectionView>('GET', `/api/connections/${conn}`)).body;
    expect(view.stagedOperations).toMatchObject({ count: 3, runId: run.runId });
    const staged = (
      await ctx.app.api<{ count: number; value: { externalId: string; operation: string }[] }>(
        'GET',
        `/api/connections/${conn}/staged`,
      )
    ).body;
    expect(staged.count).toBe(3);
    expect(staged.value.map((s) => s.externalId).sort()).toEqual([...ext].sort());
    expect(staged.value.every((s) => s.operation === 'disable')).toBe(true);

    const approved = await ctx.app.api<{
      count: number;
      remaining: number;
      operations: { externalId: string; result: string }[];
    }>('POST', `/api/connections/${conn}/staged/approve`, { externalIds: [ext[0]] });
    expect(approved.status, approved.text).toBe(200);
    expect(approved.body).toMatchObject({
      count: 1,
      remaining: 2,
      operations: [{ externalId: ext[0], result: 'enqueued' }],
    });
    await waitFor(async () => (await simUser(ids[0]!)).accountEnabled === false, {
      what: 'approved disable applied',
      timeoutMs: 20_000,
    });
    expect((await ctx.app.api<ConnectionView>('GET', `/api/connections/${conn}`)).body.stagedOperations).toMatchObject({
      count: 2,
    });

    const rejected = await ctx.app.api<{ count: number; remaining: number }>(
      'POST',
      `/api/connections/${conn}/staged/reject`,
    );
    expect(rejected.body).toMatchObject({ count: 2, remaining: 0 });
    expect((await ctx.app.api<ConnectionView>('GET', `/api/connections/${conn}`)).body.stagedOperations).toBeNull();
    expect((await ctx.app.api<{ count: number }>('GET', `/api/connections/${conn}/staged`)).body.count).toBe(0);
    await new Promise((r) => setTimeout(r, 1000));
    expect([(await simUser(ids[1]!)).accountEnabled, (await simUser(ids[2]!)).accountEnabled]).toEqual([true, true]);
    expect((await ctx.app.api('POST', `/api/connections/${conn}/staged/maybe`)).status).toBe(404);
  }, 60_000);
});

describe('throttling', () => {
  const fabrikam = DEFAULT_SEED.fabrikam;
  const fabrikamGraph = () =>
    ctx.sim.graphClientFor(
      ctx.sim.credentialFor(fabrikam.tenantId, fabrikam.fullApp.clientId, fabrikam.fullApp.secret),
    );
  /** The connection's reconciliation state row, as stored. */
  const stateOf = async (connectionId: string) =>
    readJsonColumn<ReconciliationState>(
      await table('reconciliation').getEntity<Record<string, unknown>>(connectionId, 'state'),
      'data',
    )!;
  /** The simulated tenant's fault rules still armed. */
  const simFaults = async () =>
    ((await (await fetch(`${ctx.sim.url}/_sim/faults`)).json()) as { value: unknown[] }).value;
  /** Every item of a run, page by page. */
  async function allItems(connectionId: string, runId: string): Promise<RunItem[]> {
    const items: RunItem[] = [];
    let continuation: string | null = null;
    do {
      const page: RunView['itemsPage'] = (
        await ctx.app.api<RunView>(
          'GET',
          `/api/connections/${connectionId}/runs/${runId}?limit=500${continuation ? `&continuation=${encodeURIComponent(continuation)}` : ''}`,
        )
      ).body.itemsPage;
      items.push(...page.value);
      continuation = page.continuation;
    } while (continuation);
    return items;
  }

  it('pauses a throttled run instead of waiting: progress saved, lease held, request re-enqueued, and the same run continues from the stored page link to the same result', async () => {
    // Fabrikam, so that this test alone fills its tenant past one delta page (999 accounts).
    const conn = await api.createConnection({
      tenantId: fabrikam.tenantId,
      domain: fabrikam.domain,
      clientId: fabrikam.fullApp.clientId,
      clientSecret: fabrikam.fullApp.secret,
    });
    expect((await ctx.app.api('PUT', `/api/connections/${conn}/settings`, { usageLocation: 'US' })).status).toBe(200);
    expect((await ctx.app.api<{ status: string }>('POST', `/api/connections/${conn}/test`)).body.status).toBe('ready');
    const ext = { early: uniqueName('emp'), edited: uniqueName('emp'), deleted: uniqueName('emp') };
    // Linked before 1,100 more accounts: on a full round's first page; the other two come on its second.
    await provision(conn, ext.early, {
      type: 'upsert',
      version: 1,
      attributes: person(uniqueName('thr.early'), { jobTitle: 'Engineer' }),
    });
    await ctx.sim.controls.generateUsers(fabrikam.tenantId, 1100, 'thr');
    const edited = (await provision(conn, ext.edited, {
      type: 'upsert',
      version: 1,
      attributes: person(uniqueName('thr.edited'), { jobTitle: 'Engineer' }),
    }))!;
    const deleted = (await provision(conn, ext.deleted, {
      type: 'upsert',
      version: 1,
      attributes: person(uniqueName('thr.deleted'), { jobTitle: 'Engineer' }),
    }))!;
    expect((await reconcile(conn)).status).toBe('completed');
    await fabrikamGraph().api(`/users/${edited}`).patch({ jobTitle: 'Edited by hand' });
    await fabrikamGraph().api(`/users/${deleted}`).delete();

    // Without faults (a dry run: a plan, nothing enqueued), what a full round finds.
    const reference = await reconcile(conn, '?dryRun=true&full=true');
    expect(reference).toMatchObject({ status: 'completed', drift: { profile: 1, deleted: 1, enabled: 0 } });

    // Faults match the path only (not the query): the round's first page is answered slowly, and once it has been
    // asked for, the next two delta requests (its second page) are throttled.
    const since = await lastSeq();
    const delta = { surface: 'graph', method: 'GET', path: '^/v1\\.0/users/delta$' } as const;
    await ctx.sim.controls.addFault({ match: delta, fault: { kind: 'latency', ms: 2000 }, count: 1 });
    try {
      const started = await ctx.app.api<ReconciliationRun>('POST', `/api/connections/${conn}/reconcile?full=true`);
      expect(started.status, started.text).toBe(202);
      const runId = started.body.runId;
      await waitFor(async () => ((await simFaults()).length === 0 ? true : undefined), {
        what: 'the first page asked for',
        timeoutMs: 10_000,
        intervalMs: 10,
      });
      await ctx.sim.controls.addFault({
        match: delta,
        fault: { kind: 'status', status: 429, retryAfterSeconds: 2 },
        count: 2,
      });

      // Paused: its progress in the state row, the lease held past the pause, the record still running.
      const paused = await waitFor(
        async () => {
          const state = await stateOf(conn);
          return state.resume?.runId === runId ? state : undefined;
        },
        { what: 'the run paused', timeoutMs: 20_000, intervalMs: 50 },
      );
      expect(paused.resume).toMatchObject({
        round: 'full',
        link: expect.stringMatching(/skiptoken=/),
        attempts: expect.any(Number),
        held: [],
        why: expect.stringMatching(/throttled/),
      });
      expect(paused.lease).toMatchObject({ runId });
      expect(Date.parse(paused.lease!.until)).toBeGreaterThan(Date.parse(paused.resume!.until));
      expect((await ctx.app.api<RunView>('GET', `/api/connections/${conn}/runs/${runId}`)).body.status).toBe('running');
      const refused = await ctx.app.api<{ code: string; runId: string }>('POST', `/api/connections/${conn}/reconcile`);
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({ code: 'run-in-progress', runId });

      // One run, completed, with what the unthrottled round found (the account seen before the pause is not
      // taken for deleted).
      const run = await waitRun(conn, runId);
      expect(run).toMatchObject({ status: 'completed', deltaRound: { kind: 'full', why: 'requested' }, errors: [] });
      expect(run.drift).toEqual(reference.drift);
      expect(run.examined).toEqual(reference.examined);
      expect(run.unmatched).toBe(reference.unmatched);
      expect(run.enqueued).toBe(2);
      const items = await allItems(conn, runId);
      expect(items).toHaveLength(reference.items);
      expect(items.find((i) => i.externalId === ext.edited)).toMatchObject({
        kind: 'profile',
        disposition: 'enqueued',
      });
      expect(items.find((i) => i.externalId === ext.deleted)).toMatchObject({
        kind: 'deleted',
        objectId: deleted,
        disposition: 'enqueued',
      });
      expect(items.find((i) => i.externalId === ext.early)).toBeUndefined();
      const runs = (await ctx.app.api<{ value: ReconciliationRun[] }>('GET', `/api/connections/${conn}/runs`)).body
        .value;
      expect(runs.filter((r) => r.runId === runId)).toHaveLength(1);
      expect(runs).toHaveLength(3);

      // What the tenant received: one first page, then the same page link three times (429, 429, 200), each
      // again only after Retry-After — a new queue message, not a fresh round.
      const requested = (await graphRequestsSince(since)).filter((r) => r.path.startsWith('/v1.0/users/delta'));
      expect(requested.filter((r) => !/skiptoken=/.test(r.path) && r.tenantId === fabrikam.tenantId)).toHaveLength(1);
      const pages = requested.filter((r) => /skiptoken=/.test(r.path));
      expect(pages.map((r) => r.status)).toEqual([429, 429, 200]);
      expect(new Set(pages.map((r) => r.path)).size).toBe(1);
      const skiptoken = (link: string) => /skiptoken=([^&]+)/.exec(link)?.[1];
      expect(skiptoken(paused.resume!.link!)).toBe(skiptoken(pages[0]!.path));
      expect(Date.parse(pages[1]!.at) - Date.parse(pages[0]!.at)).toBeGreaterThanOrEqual(1900);
      expect(Date.parse(pages[2]!.at) - Date.parse(pages[1]!.at)).toBeGreaterThanOrEqual(1900);

      // Ended: the lease and the progress are gone.
      const after = await stateOf(conn);
      expect(after.lease).toBeUndefined();
      expect(after.resume).toBeUndefined();
    } finally {
      await ctx.sim.controls.clearFaults();
    }
  }, 90_000);
});

describe('quarantine and the timer', () => {
  it('the timer queues due runs; a connection whose operations keep failing is quarantined, skipped by the timer, and a successful test lifts it', async () => {
    const conn = await readyConnection({ quarantineMinimumOperations: 3, quarantineFailurePercent: 40 });
    for (let i = 0; i < 3; i++) {
      // A SKU the tenant does not have: each operation fails.
      await provision(conn, uniqueName('emp'), {
        type: 'upsert',
        version: 1,
        attributes: person(uniqueName('q.user')),
        licenses: ['NO_SUCH_SKU'],
      });
    }
    const { reconcileTimerFunction } = await import('../../functions/timer/reconcile-timer.js');
    const { InvocationContext } = await import('../../dev/host/azure-functions-classes.js');
    const fire = async () => {
      const lines: string[] = [];
      const context = new InvocationContext({
        functionName: 'reconcile-timer',
        logHandler: (_level: string, ...args: unknown[]) => lines.push(args.join(' ')),
      });
      await reconcileTimerFunction.handler(
        {
          isPastDue: false,
          schedule: { adjustForDST: false },
          scheduleStatus: { last: '', next: '', lastUpdated: '' },
        },
        context,
      );
      return lines.join('\n');
    };
    const runsOf = async () =>
      (await ctx.app.api<{ value: ReconciliationRun[] }>('GET', `/api/connections/${conn}/runs`)).body.value;

    // The suite's storage holds every test file's connections: the timer queues a run for each ready one.
    expect(await fire()).toMatch(/queued \d+ run/);
    const [timerRun] = await runsOf();
    expect(timerRun).toMatchObject({ trigger: 'timer' });
    // The host's queue consumer may already have picked the run up by the time the list is read.
    expect(['queued', 'running', 'completed']).toContain(timerRun!.status);
    await waitRun(conn, timerRun!.runId);
    const quarantined = (await ctx.app.api<ConnectionView>('GET', `/api/connections/${conn}`)).body;
    expect(quarantined.quarantine).toMatchObject({
      reason: expect.stringMatching(/3 of the last 3 operations failed/),
    });

    expect(await fire()).toContain(`${conn} (quarantined since`);
    await new Promise((r) => setTimeout(r, 500));
    expect(await runsOf()).toHaveLength(1);

    const tested = await ctx.app.api<{ status: string; quarantineLifted?: boolean }>(
      'POST',
      `/api/connections/${conn}/test`,
    );
    expect(tested.body).toMatchObject({ status: 'ready', quarantineLifted: true });
    expect((await ctx.app.api<ConnectionView>('GET', `/api/connections/${conn}`)).body.quarantine).toBeNull();
  }, 60_000);
});
