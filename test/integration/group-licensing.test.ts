// Issue 16: group-based licensing (licensingMode group) through the exit doors — POST …/changes and the queue, the
// group and user views, and what the simulated tenant received and holds (its group licences reach members in the
// background, with licenseAssignmentStates[].assignedByGroup). Real Azurite, @azure/identity, Graph client and
// simulated tenant; nothing mocked.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TableClient } from '@azure/data-tables';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { REPO_ROOT } from '../../dev/paths.js';
import { licenceGroupId } from '../../shared/domain/licenses.js';
import { useAppWithTenant } from '../support/app-host.js';
import { person, provisioningApi } from '../support/provisioning-api.js';
import { DEFAULT_SEED } from '../support/simulated-tenant.js';
import { uniqueName } from '../support/unique.js';
import { waitFor } from '../support/wait-for.js';

const contoso = DEFAULT_SEED.contoso;
const E3 = contoso.skus.enterprisePack;
const ctx = useAppWithTenant();
const { readyConnection, submit, logOf, linkedUsers } = provisioningApi(ctx, 'lic');

beforeAll(async () => {
  // Contoso with enough ENTERPRISEPACK seats for every user licensed here.
  const seed = JSON.parse(readFileSync(join(REPO_ROOT, 'dev', 'm365-sim', 'default-seed.json'), 'utf8')) as {
    tenants: { id: string; subscribedSkus: { skuId: string; prepaidUnits: { enabled: number } }[] }[];
  };
  const tenant = seed.tenants.find((t) => t.id === contoso.tenantId)!;
  tenant.subscribedSkus.find((s) => s.skuId === E3)!.prepaidUnits.enabled = 500;
  await ctx.sim.controls.reset(seed as never);
});

interface ObjectView {
  status: string;
  inSync: boolean;
  link: { objectId: string } | null;
}
interface LicenceState {
  skuId: string;
  assignedByGroup: string | null;
  state: string;
}

const graph = () =>
  ctx.sim.graphClientFor(ctx.sim.credentialFor(contoso.tenantId, contoso.fullApp.clientId, contoso.fullApp.secret));
const lastSeq = async () => (await ctx.sim.controls.requests()).at(-1)?.seq ?? 0;
const writesSince = async (seq: number) =>
  (await ctx.sim.controls.requests({ since: seq, surface: 'graph' })).filter((r) => r.method !== 'GET');
const shape = (r: { method: string; path: string }) => `${r.method} ${r.path.replace(/[0-9a-f-]{36}/g, '{id}')}`;
const view = async (conn: string, kind: 'users' | 'groups', externalId: string) =>
  (await ctx.app.api<ObjectView>('GET', `/api/connections/${conn}/${kind}/${encodeURIComponent(externalId)}`)).body;
const statesOf = async (objectId: string) =>
  (
    (await graph().api(`/users/${objectId}`).select('licenseAssignmentStates').get()) as {
      licenseAssignmentStates: LicenceState[];
    }
  ).licenseAssignmentStates;
const membersOf = async (groupId: string) =>
  (
    (await graph().api(`/groups/${groupId}/members`).select('id').top(999).get()) as { value: { id: string }[] }
  ).value.map((m) => m.id);
/** The licence group that carries ENTERPRISEPACK for a connection (its externalId: m365prov-lic-…). */
const e3Group = (conn: string) => licenceGroupId(conn, [{ skuId: E3, disabledPlans: [] }])!;

/** Licensed users (one POST), answered as externalId → object id once all are linked. */
const licensedUsers = (conn: string, count: number, licenses: unknown[] = ['ENTERPRISEPACK']) =>
  linkedUsers(conn, count, 'Licensed', { attributes: { usageLocation: 'US' }, licenses });

/** Waits until the account holds `skuId` from `groupId` (in effect), or — `held` false — no longer does. */
const inherits = (objectId: string, groupId: string, held = true) =>
  waitFor(
    async () => {
      const has = (await statesOf(objectId)).some(
        (s) => s.skuId === E3 && s.assignedByGroup === groupId && s.state === 'Active',
      );
      return has === held ? true : undefined;
    },
    {
      what: `${objectId} ${held ? 'inherits' : 'no longer inherits'} ENTERPRISEPACK from ${groupId}`,
      timeoutMs: 30_000,
      intervalMs: 200,
    },
  );

describe('group-based licensing (licensingMode group, issue 16)', () => {
  it('licenses N users through the licence group: ⌈N/20⌉ membership writes, one create, one assignLicense; members inherit it', async () => {
    const conn = await readyConnection({ licensingMode: 'group', usageLocation: 'US' });
    const tested = await ctx.app.api<{ checks: { name: string; ok: boolean; detail: string }[] }>(
      'POST',
      `/api/connections/${conn}/test`,
    );
    expect(tested.body.checks.find((c) => c.name === 'groupLicensing')).toMatchObject({
      ok: true,
      detail: expect.stringMatching(/ENTERPRISEPACK.*include group-based licensing/),
    });

    const since = await lastSeq();
    const users = await licensedUsers(conn, 45);
    const groupExt = e3Group(conn);
    const groupId = await waitFor(async () => (await view(conn, 'groups', groupExt)).link?.objectId, {
      what: 'the licence group linked',
      timeoutMs: 30_000,
    });
    await waitFor(async () => ((await membersOf(groupId)).length === users.size ? true : undefined), {
      what: 'every user a member',
      timeoutMs: 30_000,
      intervalMs: 250,
    });
    for (const objectId of users.values()) await inherits(objectId, groupId);

    const writes = await writesSince(since);
    const toGroups = writes.filter((r) => /^\/v1\.0\/groups/.test(r.path));
    // 45 members: 20 bound in the create, then 20 and 5 per PATCH — ⌈45/20⌉ = 3 membership writes.
    expect(toGroups.map(shape)).toEqual([
      'POST /v1.0/groups',
      'POST /v1.0/groups/{id}/assignLicense',
      'PATCH /v1.0/groups/{id}',
      'PATCH /v1.0/groups/{id}',
    ]);
    const bound = toGroups.map((r) => ((r.body as Record<string, string[]>)['members@odata.bind'] ?? []).length);
    expect(bound).toEqual([20, 0, 20, 5]);
    expect(toGroups[0]!.body).toMatchObject({ securityEnabled: true, mailEnabled: false, mailNickname: groupExt });
    expect(toGroups[1]!.body).toEqual({ addLicenses: [{ skuId: E3, disabledPlans: [] }], removeLicenses: [] });
    // No licence was assigned to a user directly: one write per user (its create) and the group's.
    expect(writes.filter((r) => /assignLicense/.test(r.path) && /\/users\//.test(r.path))).toEqual([]);
    expect(writes.filter((r) => r.method === 'POST' && r.path === '/v1.0/users')).toHaveLength(45);

    const group = await view(conn, 'groups', groupExt);
    expect(group).toMatchObject({ status: 'applied', link: { objectId: groupId } });
  });

  it("a user's own licence reconciliation never removes the licence it inherits from the licence group", async () => {
    const conn = await readyConnection({ licensingMode: 'group', usageLocation: 'US' });
    const [externalId, objectId] = [...(await licensedUsers(conn, 1))][0]!;
    const groupId = await waitFor(async () => (await view(conn, 'groups', e3Group(conn))).link?.objectId, {
      what: 'the licence group linked',
      timeoutMs: 30_000,
    });
    await inherits(objectId, groupId);

    // The user's own operations: a profile change with the same licence, and provision on demand.
    const since = await lastSeq();
    const op = await submit(conn, {
      type: 'upsert',
      externalId: externalId,
      version: 2,
      attributes: person(externalId.toLowerCase(), { usageLocation: 'US', jobTitle: 'Changed' }, 'Licensed'),
      licenses: ['ENTERPRISEPACK'],
    });
    expect(await logOf(conn, externalId, op)).toMatchObject({ result: 'applied', changedProperties: ['jobTitle'] });
    const onDemand = await ctx.app.api<{ result: string; trace: { step: string; detail: string }[] }>(
      'POST',
      `/api/connections/${conn}/users/${encodeURIComponent(externalId)}/provision`,
    );
    expect(onDemand.body.result, onDemand.text).toBe('skipped');
    expect(onDemand.body.trace).toContainEqual({
      step: 'licenses',
      detail: expect.stringMatching(/In licence group .*: its licences are assigned/),
    });
    expect((await writesSince(since)).filter((r) => /assignLicense|\/members/.test(r.path))).toEqual([]);
    expect(await statesOf(objectId)).toContainEqual(
      expect.objectContaining({ skuId: E3, assignedByGroup: groupId, state: 'Active' }),
    );

    // Direct licensing now (the mode switched): the user gets the licence directly first, and only then leaves the
    // licence group — at no moment without it, and no assignLicense ever asks to remove the inherited one.
    expect((await ctx.app.api('PUT', `/api/connections/${conn}/settings`, { licensingMode: 'direct' })).status).toBe(
      200,
    );
    const switched = await lastSeq();
    const again = await ctx.app.api<{ result: string; changedProperties: string[] }>(
      'POST',
      `/api/connections/${conn}/users/${encodeURIComponent(externalId)}/provision`,
    );
    expect(again.body).toMatchObject({ result: 'applied', changedProperties: ['assignedLicenses', 'licenceGroup'] });
    await inherits(objectId, groupId, false);
    const states = await statesOf(objectId);
    expect(states).toContainEqual(expect.objectContaining({ skuId: E3, assignedByGroup: null, state: 'Active' }));
    const assigns = (await writesSince(switched)).filter((r) => /\/users\/.*\/assignLicense/.test(r.path));
    expect(assigns.map((r) => r.body)).toEqual([
      { addLicenses: [{ skuId: E3, disabledPlans: [] }], removeLicenses: [] },
    ]);
  });

  it('switching from direct to group licensing: the direct licence stays until the group gives it, then goes', async () => {
    const conn = await readyConnection({ usageLocation: 'US' });
    const [externalId, objectId] = [...(await licensedUsers(conn, 1))][0]!;
    expect(await statesOf(objectId)).toContainEqual(expect.objectContaining({ skuId: E3, assignedByGroup: null }));
    expect(
      (await ctx.app.api('PUT', `/api/connections/${conn}/settings`, { licensingMode: 'group', usageLocation: 'US' }))
        .status,
    ).toBe(200);
    const since = await lastSeq();
    const provision = () =>
      ctx.app.api<{ result: string; changedProperties: string[]; trace: { step: string; detail: string }[] }>(
        'POST',
        `/api/connections/${conn}/users/${encodeURIComponent(externalId)}/provision`,
      );
    const moved = await provision();
    expect(moved.body, moved.text).toMatchObject({ result: 'applied', changedProperties: ['licenceGroup'] });
    expect(moved.body.trace).toContainEqual({
      step: 'licenses',
      detail: expect.stringMatching(/stay until the licence group's reach the user/),
    });
    const groupId = await waitFor(async () => (await view(conn, 'groups', e3Group(conn))).link?.objectId, {
      what: 'the licence group linked',
      timeoutMs: 30_000,
    });
    await inherits(objectId, groupId);
    // Both now: the direct one was kept while the group's was on its way.
    expect(await statesOf(objectId)).toContainEqual(expect.objectContaining({ skuId: E3, assignedByGroup: null }));

    // The user's next operation (here on demand; by itself a minute later) removes the direct one.
    const after = await provision();
    expect(after.body, after.text).toMatchObject({ result: 'applied', changedProperties: ['assignedLicenses'] });
    const states = await statesOf(objectId);
    expect(states.filter((s) => s.skuId === E3)).toEqual([
      expect.objectContaining({ assignedByGroup: groupId, state: 'Active' }),
    ]);
    const assigns = (await writesSince(since)).filter((r) => /\/users\/.*\/assignLicense/.test(r.path));
    expect(assigns.map((r) => r.body)).toEqual([{ addLicenses: [], removeLicenses: [E3] }]);
  });

  it('removing a user’s licence wish takes it out of the licence group; members added by hand and other groups’ licences stay', async () => {
    const conn = await readyConnection({ licensingMode: 'group', usageLocation: 'US' });
    const users = [...(await licensedUsers(conn, 2))];
    const [leaver, stayer] = users as [[string, string], [string, string]];
    const groupId = await waitFor(async () => (await view(conn, 'groups', e3Group(conn))).link?.objectId, {
      what: 'the licence group linked',
      timeoutMs: 30_000,
    });
    for (const [, objectId] of users) await inherits(objectId, groupId);
    // Someone adds Adele to the licence group by hand, and gives the leaver SPE_E3 through the seeded licensed group.
    await graph()
      .api(`/groups/${groupId}/members/$ref`)
      .post({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${contoso.users.adele}` });
    await graph()
      .api(`/groups/${contoso.groups.licensedStaff}/members/$ref`)
      .post({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${leaver[1]}` });

    const since = await lastSeq();
    const op = await submit(conn, {
      type: 'upsert',
      externalId: leaver[0],
      version: 2,
      attributes: person(leaver[0].toLowerCase(), { usageLocation: 'US' }, 'Licensed'),
      licenses: [],
    });
    expect(await logOf(conn, leaver[0], op)).toMatchObject({ result: 'applied', changedProperties: ['licenceGroup'] });
    await waitFor(async () => (!(await membersOf(groupId)).includes(leaver[1]) ? true : undefined), {
      what: 'the leaver out of the licence group',
      timeoutMs: 30_000,
      intervalMs: 250,
    });
    await inherits(leaver[1], groupId, false);
    expect((await membersOf(groupId)).sort()).toEqual([contoso.users.adele, stayer[1]].sort());
    // The other group's licence is not this connection's: untouched.
    expect(await statesOf(leaver[1])).toContainEqual(
      expect.objectContaining({ skuId: contoso.skus.spe_e3, assignedByGroup: contoso.groups.licensedStaff }),
    );
    const writes = await writesSince(since);
    expect(writes.filter((r) => /assignLicense/.test(r.path))).toEqual([]);
    expect(writes.filter((r) => /^\/v1\.0\/groups/.test(r.path)).map(shape)).toEqual([]);
    // One $batch with one DELETE …/members/{id}/$ref: the leaver only.
    expect(writes.filter((r) => r.path === '/v1.0/$batch')).toHaveLength(1);
    const items = await ctx.sim.controls.requests({ since, surface: 'batch-item' });
    expect(items.map((r) => `${r.method} ${r.path}`)).toEqual([
      `DELETE /v1.0/groups/${groupId}/members/${leaver[1]}/$ref`,
    ]);
  });

  it('a removed user leaves the licence group with removeLicensesOnRemove (removeAction disable)', async () => {
    const conn = await readyConnection({ licensingMode: 'group', usageLocation: 'US', removeLicensesOnRemove: true });
    const [externalId, objectId] = [...(await licensedUsers(conn, 1))][0]!;
    const groupId = await waitFor(async () => (await view(conn, 'groups', e3Group(conn))).link?.objectId, {
      what: 'the licence group linked',
      timeoutMs: 30_000,
    });
    await inherits(objectId, groupId);
    const op = await submit(conn, { type: 'remove', externalId, version: 2 });
    expect(await logOf(conn, externalId, op)).toMatchObject({
      result: 'applied',
      action: 'disable',
      changedProperties: ['licenceGroup', 'accountEnabled'],
    });
    await inherits(objectId, groupId, false);
    expect(await membersOf(groupId)).not.toContain(objectId);
  });

  it('deleting the connection forgets its licence group rows and bookkeeping; the licence group stays in Microsoft 365', async () => {
    const conn = await readyConnection({ licensingMode: 'group', usageLocation: 'US' });
    const [, objectId] = [...(await licensedUsers(conn, 2))][0]!;
    const groupId = await waitFor(async () => (await view(conn, 'groups', e3Group(conn))).link?.objectId, {
      what: 'the licence group linked',
      timeoutMs: 30_000,
    });
    await inherits(objectId, groupId);
    const groupsTable = TableClient.fromConnectionString(inject('storageConnectionString'), 'groups', {
      allowInsecureConnection: true,
    });
    const partitions = async () => {
      const keys = new Set<string>();
      for await (const e of groupsTable.listEntities({
        queryOptions: { filter: `PartitionKey ge '${conn}' and PartitionKey lt '${conn}~~'`, select: ['PartitionKey'] },
      }))
        keys.add(e.partitionKey!);
      return [...keys].sort();
    };
    expect(await partitions()).toEqual([conn, `${conn}~lic`, `${conn}~links`]);

    const res = await ctx.app.api('DELETE', `/api/connections/${conn}?provisionedUsers=keep`);
    expect(res.status, res.text).toBe(200);
    expect(await partitions()).toEqual([]);
    expect(await membersOf(groupId)).toContain(objectId);
  });
});

describe("a directory group's own licences (the change's licenses on a group, issue 16)", () => {
  const groupChange = async (conn: string, change: Record<string, unknown>) =>
    logOf(conn, String(change.externalId), await submit(conn, { objectType: 'group', type: 'upsert', ...change }));

  it('assigns them to the group (members inherit them), removes only its own, and refuses what cannot be licensed before any write', async () => {
    const conn = await readyConnection();
    const users = await licensedUsers(conn, 3, []);
    const members = [...users.keys()];
    const externalId = uniqueName('licensed-group');
    const attributes = { displayName: externalId, members };

    const since = await lastSeq();
    expect(await groupChange(conn, { externalId, version: 1, attributes, licenses: ['ENTERPRISEPACK'] })).toMatchObject(
      { result: 'applied', action: 'create', changedProperties: expect.arrayContaining(['assignedLicenses']) },
    );
    const groupId = (await view(conn, 'groups', externalId)).link!.objectId;
    expect((await writesSince(since)).map(shape)).toEqual([
      'POST /v1.0/groups',
      'POST /v1.0/groups/{id}/assignLicense',
    ]);
    for (const objectId of users.values()) await inherits(objectId, groupId);

    // A licence given to the group by hand is not this connection's: it stays when the directory asks for none.
    await graph()
      .api(`/groups/${groupId}/assignLicense`)
      .post({ addLicenses: [{ skuId: contoso.skus.spe_e3, disabledPlans: [] }], removeLicenses: [] });
    const before = await lastSeq();
    expect(await groupChange(conn, { externalId, version: 2, attributes, licenses: [] })).toMatchObject({
      result: 'applied',
      changedProperties: ['assignedLicenses'],
    });
    const [removal] = await writesSince(before);
    expect(removal!.body).toEqual({ addLicenses: [], removeLicenses: [E3] });
    const held = (await graph().api(`/groups/${groupId}`).select('assignedLicenses').get()) as {
      assignedLicenses: { skuId: string }[];
    };
    expect(held.assignedLicenses.map((l) => l.skuId)).toEqual([contoso.skus.spe_e3]);
    for (const objectId of users.values()) await inherits(objectId, groupId, false);

    // A Microsoft 365 group cannot carry licences, nor can an unknown SKU be given: refused, nothing written.
    const refused = await lastSeq();
    const m365 = uniqueName('m365-licensed');
    expect(
      await groupChange(conn, {
        externalId: m365,
        version: 1,
        attributes: { displayName: m365, kind: 'microsoft365' },
        licenses: ['ENTERPRISEPACK'],
      }),
    ).toMatchObject({ result: 'failed', error: { code: 'group-licensing-unsupported' } });
    const unknown = uniqueName('unknown-sku');
    expect(
      await groupChange(conn, {
        externalId: unknown,
        version: 1,
        attributes: { displayName: unknown },
        licenses: ['NO_SUCH_SKU'],
      }),
    ).toMatchObject({ result: 'failed', error: { code: 'unknown-sku' } });
    expect(await writesSince(refused)).toEqual([]);
  });
});
