// Issue 16: reconciliation covers groups, through the exit doors — runs started over HTTP (POST …/reconcile) and
// executed by the queue function against Azurite and the simulated tenant; the run record (its `groups` counts) and
// items (objectType group), staged operations, and what the simulated tenant holds afterwards. Hand edits in
// Microsoft 365 are made with the real Graph client, as an admin's tool would.
import { describe, expect, it } from 'vitest';
import type { ReconciliationRun, RunItem } from '../../shared/domain/reconciliation.js';
import type { ProvisioningLogRecord } from '../../shared/domain/user-state.js';
import { useAppWithTenant } from '../support/app-host.js';
import { provisioningApi } from '../support/provisioning-api.js';
import { DEFAULT_SEED } from '../support/simulated-tenant.js';
import { uniqueName } from '../support/unique.js';
import { waitFor } from '../support/wait-for.js';

const contoso = DEFAULT_SEED.contoso;
const ctx = useAppWithTenant();
const api = provisioningApi(ctx, 'grec');

type RunView = ReconciliationRun & { itemsPage: { value: RunItem[]; continuation: string | null } };

const graph = () =>
  ctx.sim.graphClientFor(ctx.sim.credentialFor(contoso.tenantId, contoso.fullApp.clientId, contoso.fullApp.secret));
const lastSeq = async () => (await ctx.sim.controls.requests()).at(-1)?.seq ?? 0;
const graphRequestsSince = async (seq: number) => ctx.sim.controls.requests({ since: seq, surface: 'graph' });
const membersOf = async (groupId: string) =>
  ((await graph().api(`/groups/${groupId}/members`).select('id').top(999).get()) as { value: { id: string }[] }).value
    .map((m) => m.id)
    .sort();
const groupNamed = async (groupId: string) =>
  (await graph().api(`/groups/${groupId}`).select('id,displayName').get()) as { id: string; displayName: string };
const ref = (id: string) => ({ '@odata.id': `${ctx.sim.graphBaseUrl}/v1.0/directoryObjects/${id}` });

/** Creates users (one batch) and answers their [externalId, object id] pairs once all are linked. */
const users = async (conn: string, count: number): Promise<[string, string][]> => [
  ...(await api.linkedUsers(conn, count, 'GroupRec')),
];

/** Submits a group change, waits for its log record, and answers the linked group's object id. */
async function group(
  conn: string,
  externalId: string,
  attributes: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const op = await api.submit(conn, {
    objectType: 'group',
    type: 'upsert',
    externalId,
    version: 1,
    attributes,
    ...extra,
  });
  const record = await api.logOf(conn, externalId, op);
  expect(record, JSON.stringify(record)).toMatchObject({ result: 'applied', action: 'create' });
  return waitFor(
    async () =>
      (
        await ctx.app.api<{ inSync: boolean; link: { objectId: string } | null }>(
          'GET',
          `/api/connections/${conn}/groups/${encodeURIComponent(externalId)}`,
        )
      ).body.link?.objectId,
    { what: `group ${externalId} linked` },
  );
}

/** A Microsoft 365 user made by hand (no directory user). */
async function userByHand(): Promise<string> {
  const name = uniqueName('hand').toLowerCase();
  const created = (await graph()
    .api('/users')
    .post({
      accountEnabled: true,
      displayName: `By hand ${name}`,
      mailNickname: name.replace(/[^a-z0-9]/g, ''),
      userPrincipalName: `${name}@${contoso.domain}`,
      passwordProfile: { password: 'Initial-Pa55word!' },
    })) as { id: string };
  return created.id;
}

/** Starts a run over HTTP and waits for it to end. */
async function reconcile(conn: string, query = ''): Promise<RunView> {
  const started = await ctx.app.api<ReconciliationRun>('POST', `/api/connections/${conn}/reconcile${query}`);
  expect(started.status, started.text).toBe(202);
  return waitFor(
    async () => {
      const run = (await ctx.app.api<RunView>('GET', `/api/connections/${conn}/runs/${started.body.runId}`)).body;
      return ['completed', 'failed', 'skipped'].includes(run.status) ? run : undefined;
    },
    { what: `run ${started.body.runId}`, timeoutMs: 90_000, intervalMs: 150 },
  );
}

/** Every item of a run, page by page. */
async function itemsOf(conn: string, runId: string): Promise<RunItem[]> {
  const items: RunItem[] = [];
  let continuation: string | null = null;
  do {
    const page: RunView['itemsPage'] = (
      await ctx.app.api<RunView>(
        'GET',
        `/api/connections/${conn}/runs/${runId}?limit=500${continuation ? `&continuation=${encodeURIComponent(continuation)}` : ''}`,
      )
    ).body.itemsPage;
    items.push(...page.value);
    continuation = page.continuation;
  } while (continuation);
  return items;
}
const groupItems = async (conn: string, run: RunView) =>
  (await itemsOf(conn, run.runId)).filter((i) => i.objectType === 'group');

const logsOf = async (conn: string, externalId: string) =>
  (
    await ctx.app.api<{ value: ProvisioningLogRecord[] }>(
      'GET',
      `/api/connections/${conn}/logs?externalId=${encodeURIComponent(externalId)}&limit=100`,
    )
  ).body.value;

describe('group reconciliation (issue 16)', () => {
  it('a member removed by hand is found by the groups delta round and put back', async () => {
    const conn = await api.readyConnection();
    const m = await users(conn, 2);
    const ext = uniqueName('grm');
    const groupId = await group(conn, ext, { displayName: `Rec ${ext}`, members: m.map(([e]) => e) });

    let since = await lastSeq();
    const baseline = await reconcile(conn);
    expect(baseline).toMatchObject({
      status: 'completed',
      groups: { deltaRound: { kind: 'full' }, examined: { directory: 1 } },
    });
    expect(Object.values(baseline.groups!.drift).every((n) => n === 0)).toBe(true);
    expect(baseline.groups!.examined.microsoft365).toBeGreaterThanOrEqual(1);
    const firstRound = (await graphRequestsSince(since)).filter((r) => r.path.startsWith('/v1.0/groups/delta'));
    expect(firstRound.length).toBeGreaterThan(0);
    expect(decodeURIComponent(firstRound[0]!.path)).toMatch(/\$select=.*members/);

    await graph().api(`/groups/${groupId}/members/${m[1]![1]}/$ref`).delete();
    expect(await membersOf(groupId)).toEqual([m[0]![1]]);

    since = await lastSeq();
    const run = await reconcile(conn);
    expect(run).toMatchObject({
      status: 'completed',
      groups: { deltaRound: { kind: 'incremental' }, drift: { missingMembers: 1 } },
      enqueued: 1,
    });
    const delta = (await graphRequestsSince(since)).filter((r) => r.path.startsWith('/v1.0/groups/delta'));
    expect(delta.map((r) => r.path)).toEqual([expect.stringMatching(/deltatoken/i)]);
    expect(await groupItems(conn, run)).toEqual([
      expect.objectContaining({
        objectType: 'group',
        kind: 'missingMembers',
        externalId: ext,
        objectId: groupId,
        disposition: 'enqueued',
        operation: 'reconcile',
        detail: expect.stringContaining(m[1]![1]),
      }),
    ]);
    await waitFor(async () => ((await membersOf(groupId)).length === 2 ? true : undefined), {
      what: 'the member put back',
      timeoutMs: 20_000,
    });
    expect(await membersOf(groupId)).toEqual(m.map(([, id]) => id).sort());

    // Corrected: the next run finds nothing on this group.
    const after = await reconcile(conn);
    expect(after.groups!.drift.missingMembers).toBe(0);
  }, 180_000);

  it("a licence of the group's removed by hand is found (kind licenses) and assigned again; one added by hand is not drift", async () => {
    const conn = await api.readyConnection();
    const ext = uniqueName('glic');
    const E3 = contoso.skus.enterprisePack;
    const groupId = await group(conn, ext, { displayName: `Licensed ${ext}` }, { licenses: ['ENTERPRISEPACK'] });
    const licencesOf = async () =>
      (
        (await graph().api(`/groups/${groupId}`).select('assignedLicenses').get()) as {
          assignedLicenses: { skuId: string }[];
        }
      ).assignedLicenses
        .map((l) => l.skuId)
        .sort();
    expect(await licencesOf()).toEqual([E3]);
    const baseline = await reconcile(conn);
    expect(baseline.groups!.drift.licenses).toBe(0);

    await graph()
      .api(`/groups/${groupId}/assignLicense`)
      .post({ addLicenses: [{ skuId: contoso.skus.spe_e3, disabledPlans: [] }], removeLicenses: [E3] });
    const run = await reconcile(conn);
    expect(run).toMatchObject({ status: 'completed', groups: { drift: { licenses: 1 } }, enqueued: 1 });
    expect(await groupItems(conn, run)).toEqual([
      expect.objectContaining({
        objectType: 'group',
        kind: 'licenses',
        externalId: ext,
        disposition: 'enqueued',
        detail: expect.stringContaining(`licences: missing ${E3}, not wanted none`),
      }),
    ]);
    await waitFor(async () => ((await licencesOf()).includes(E3) ? true : undefined), {
      what: 'the licence assigned again',
      timeoutMs: 20_000,
    });
    expect(await licencesOf()).toEqual([E3, contoso.skus.spe_e3].sort());
    expect((await reconcile(conn)).groups!.drift.licenses).toBe(0);
  }, 180_000);

  it('an extra member added by hand is removed in authoritative mode and left in additive mode', async () => {
    for (const mode of ['authoritative', 'additive'] as const) {
      const conn = await api.readyConnection({ groupMembership: mode });
      const m = await users(conn, 1);
      const ext = uniqueName(`gx-${mode}`);
      const groupId = await group(conn, ext, { displayName: `Extra ${ext}`, members: [m[0]![0]] });
      await reconcile(conn);
      const byHand = await userByHand();
      await graph().api(`/groups/${groupId}/members/$ref`).post(ref(byHand));

      const run = await reconcile(conn);
      expect(run.status).toBe('completed');
      if (mode === 'authoritative') {
        expect(run.groups).toMatchObject({ drift: { extraMembers: 1 }, memberRemovals: 1 });
        expect(await groupItems(conn, run)).toEqual([
          expect.objectContaining({
            kind: 'extraMembers',
            externalId: ext,
            disposition: 'enqueued',
            operation: 'removeMembers',
            detail: expect.stringContaining(byHand),
          }),
        ]);
        await waitFor(async () => ((await membersOf(groupId)).join() === m[0]![1] ? true : undefined), {
          what: 'the extra member removed',
          timeoutMs: 20_000,
        });
      } else {
        expect(run.groups).toMatchObject({ drift: { extraMembers: 0 }, memberRemovals: 0 });
        expect(await groupItems(conn, run)).toEqual([]);
        expect(run.enqueued).toBe(0);
        expect(await membersOf(groupId)).toEqual([m[0]![1], byHand].sort());
      }
    }
  }, 120_000);

  it('a group renamed by hand is renamed back (a full round)', async () => {
    const conn = await api.readyConnection();
    const ext = uniqueName('gren');
    const groupId = await group(conn, ext, { displayName: `Named ${ext}`, description: 'As the directory says' });
    await reconcile(conn);
    await graph()
      .api(`/groups/${groupId}`)
      .patch({ displayName: `Renamed by hand ${ext}` });

    const run = await reconcile(conn, '?full=true');
    expect(run).toMatchObject({
      status: 'completed',
      groups: { deltaRound: { kind: 'full', why: 'requested' }, drift: { properties: 1 } },
    });
    expect(await groupItems(conn, run)).toEqual([
      expect.objectContaining({
        kind: 'properties',
        externalId: ext,
        disposition: 'enqueued',
        differences: [{ property: 'displayName', expected: `Named ${ext}`, actual: `Renamed by hand ${ext}` }],
      }),
    ]);
    await waitFor(async () => ((await groupNamed(groupId)).displayName === `Named ${ext}` ? true : undefined), {
      what: 'renamed back',
      timeoutMs: 20_000,
    });
  }, 60_000);

  it('compares with what the group mapping makes of the directory group', async () => {
    const conn = await api.readyConnection();
    const put = await ctx.app.api('PUT', `/api/connections/${conn}/group-mapping`, {
      properties: {
        displayName: { expression: 'concat("Team ", name)' },
        mailNickname: { expression: 'lower(mailNicknameSafe(concat("team-", name)))' },
      },
    });
    expect(put.status, put.text).toBe(200);
    const ext = uniqueName('gmap');
    const groupId = await group(conn, ext, { name: `Mapped ${ext}` });
    // As the mapping made it: no drift.
    const first = await reconcile(conn, '?full=true');
    expect(Object.values(first.groups!.drift).every((n) => n === 0)).toBe(true);

    await graph()
      .api(`/groups/${groupId}`)
      .patch({ displayName: `Renamed ${ext}` });
    const run = await reconcile(conn);
    expect(await groupItems(conn, run)).toEqual([
      expect.objectContaining({
        kind: 'properties',
        differences: [{ property: 'displayName', expected: `Team Mapped ${ext}`, actual: `Renamed ${ext}` }],
      }),
    ]);
    await waitFor(async () => ((await groupNamed(groupId)).displayName === `Team Mapped ${ext}` ? true : undefined), {
      what: 'renamed back to the mapped name',
      timeoutMs: 20_000,
    });
  }, 60_000);

  it('a deleted Microsoft 365 group still wanted is restored from deleted items, members and all', async () => {
    const conn = await api.readyConnection();
    const m = await users(conn, 2);
    const ext = uniqueName('gdel');
    const groupId = await group(conn, ext, {
      displayName: `Team ${ext}`,
      kind: 'microsoft365',
      members: m.map(([e]) => e),
    });
    await reconcile(conn);
    await graph().api(`/groups/${groupId}`).delete();

    const run = await reconcile(conn);
    expect(run).toMatchObject({ status: 'completed', groups: { drift: { deleted: 1 } } });
    expect(await groupItems(conn, run)).toEqual([
      expect.objectContaining({ kind: 'deleted', externalId: ext, objectId: groupId, disposition: 'enqueued' }),
    ]);
    const restored = await waitFor(
      async () =>
        (await graph()
          .api(`/groups/${groupId}`)
          .select('id,displayName')
          .get()
          .catch(() => undefined)) as { id: string; displayName: string } | undefined,
      { what: 'the group restored', timeoutMs: 20_000 },
    );
    // The same group (same id) back, not a new one.
    expect(restored).toMatchObject({ id: groupId, displayName: `Team ${ext}` });
    expect(await membersOf(groupId)).toEqual(m.map(([, id]) => id).sort());
    // The log record is written once the whole operation ends (after the members), a moment after the restore shows.
    const logged = await waitFor(async () => (await logsOf(conn, ext)).find((r) => r.action === 'restore'), {
      what: 'the restore log record',
      timeoutMs: 20_000,
    });
    expect(logged).toMatchObject({ result: 'applied' });
  }, 90_000);

  it('a dry run plans group corrections and writes nothing', async () => {
    const conn = await api.readyConnection({ groupMembership: 'authoritative' });
    const m = await users(conn, 2);
    const ext = uniqueName('gdry');
    const groupId = await group(conn, ext, { displayName: `Dry ${ext}`, members: m.map(([e]) => e) });
    await reconcile(conn);
    await graph().api(`/groups/${groupId}/members/${m[0]![1]}/$ref`).delete();
    const logCount = (await logsOf(conn, ext)).length;

    const since = await lastSeq();
    const plan = await reconcile(conn, '?dryRun=true');
    expect(plan).toMatchObject({
      status: 'completed',
      dryRun: true,
      enqueued: 0,
      groups: { drift: { missingMembers: 1 } },
    });
    expect(await groupItems(conn, plan)).toEqual([
      expect.objectContaining({
        kind: 'missingMembers',
        externalId: ext,
        disposition: 'planned',
        operation: 'reconcile',
      }),
    ]);
    expect((await graphRequestsSince(since)).filter((r) => r.method !== 'GET')).toEqual([]);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await logsOf(conn, ext)).length).toBe(logCount);
    expect(await membersOf(groupId)).toEqual([m[1]![1]]);

    // The dry run left the groups delta link where it was: the real run still sees the change.
    const real = await reconcile(conn);
    expect(await groupItems(conn, real)).toEqual([
      expect.objectContaining({ kind: 'missingMembers', externalId: ext, disposition: 'enqueued' }),
    ]);
  }, 90_000);

  it('mass member removals count against the accidental-deletion threshold: staged, then applied when approved', async () => {
    const conn = await api.readyConnection({ groupMembership: 'authoritative', accidentalDeletionThreshold: 2 });
    const m = await users(conn, 1);
    const ext = uniqueName('gthr');
    const groupId = await group(conn, ext, { displayName: `Threshold ${ext}`, members: [m[0]![0]] });
    await reconcile(conn);
    const byHand = [await userByHand(), await userByHand(), await userByHand()];
    for (const id of byHand) await graph().api(`/groups/${groupId}/members/$ref`).post(ref(id));

    const run = await reconcile(conn);
    expect(run).toMatchObject({
      status: 'completed',
      groups: { drift: { extraMembers: 1 }, memberRemovals: 3 },
      enqueued: 0,
      staged: 1,
    });
    expect(run.errors).toEqual([
      expect.stringMatching(/3 member removal\(s\).*exceed the accidental-deletion threshold \(2\)/),
    ]);
    expect(await groupItems(conn, run)).toEqual([
      expect.objectContaining({ kind: 'extraMembers', disposition: 'staged', operation: 'removeMembers' }),
    ]);
    const staged = (
      await ctx.app.api<{ value: { externalId: string; objectType?: string; operation: string }[] }>(
        'GET',
        `/api/connections/${conn}/staged`,
      )
    ).body.value;
    expect(staged).toEqual([
      expect.objectContaining({ externalId: ext, objectType: 'group', operation: 'removeMembers' }),
    ]);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await membersOf(groupId)).toHaveLength(4);

    const approved = await ctx.app.api<{ operations: { externalId: string; result: string }[] }>(
      'POST',
      `/api/connections/${conn}/staged/approve`,
    );
    expect(approved.body.operations).toEqual([expect.objectContaining({ externalId: ext, result: 'enqueued' })]);
    await waitFor(async () => ((await membersOf(groupId)).join() === m[0]![1] ? true : undefined), {
      what: 'the approved removals applied',
      timeoutMs: 20_000,
    });
  }, 90_000);

  it('a throttled groups round pauses the run, which continues with the groups round only: one run, the same findings', async () => {
    const conn = await api.readyConnection();
    const m = await users(conn, 2);
    const ext = uniqueName('gthrottle');
    const groupId = await group(conn, ext, { displayName: `Throttled ${ext}`, members: m.map(([e]) => e) });
    await reconcile(conn);
    await graph().api(`/groups/${groupId}/members/${m[0]![1]}/$ref`).delete();

    const since = await lastSeq();
    const groupsDelta = { surface: 'graph', method: 'GET', path: '^/v1\\.0/groups/delta$' } as const;
    await ctx.sim.controls.addFault({
      match: groupsDelta,
      fault: { kind: 'status', status: 429, retryAfterSeconds: 1 },
      count: 1,
    });
    try {
      const run = await reconcile(conn);
      expect(run).toMatchObject({
        status: 'completed',
        errors: [],
        groups: { deltaRound: { kind: 'incremental' }, drift: { missingMembers: 1 }, examined: { microsoft365: 1 } },
        enqueued: 1,
      });
      expect(await groupItems(conn, run)).toEqual([
        expect.objectContaining({ kind: 'missingMembers', externalId: ext, disposition: 'enqueued' }),
      ]);
      const requests = await graphRequestsSince(since);
      // The users round was read once; the groups round's page twice (429, then after Retry-After 200).
      expect(requests.filter((r) => r.path.startsWith('/v1.0/users/delta'))).toHaveLength(1);
      const pages = requests.filter((r) => r.path.startsWith('/v1.0/groups/delta'));
      expect(pages.map((r) => r.status)).toEqual([429, 200]);
      expect(pages[0]!.path).toBe(pages[1]!.path);
      expect(Date.parse(pages[1]!.at) - Date.parse(pages[0]!.at)).toBeGreaterThanOrEqual(900);
      const runs = (await ctx.app.api<{ value: ReconciliationRun[] }>('GET', `/api/connections/${conn}/runs`)).body
        .value;
      expect(runs.filter((r) => r.runId === run.runId)).toHaveLength(1);
      await waitFor(async () => ((await membersOf(groupId)).length === 2 ? true : undefined), {
        what: 'the member put back',
        timeoutMs: 20_000,
      });
    } finally {
      await ctx.sim.controls.clearFaults();
    }
  }, 90_000);

  it('a connection without groups skips the group round (no groups delta read)', async () => {
    const conn = await api.readyConnection();
    const since = await lastSeq();
    const run = await reconcile(conn);
    expect(run).toMatchObject({ status: 'completed', groups: { skipped: expect.stringMatching(/no groups/) } });
    expect((await graphRequestsSince(since)).filter((r) => r.path.startsWith('/v1.0/groups'))).toEqual([]);
  });
});
