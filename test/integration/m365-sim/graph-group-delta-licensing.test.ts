// groups/delta with members@delta (group-delta, delta-query-groups), group-based licensing applied in the
// background (group-assignlicense, licensing-group-advanced), assignLicense answering the whole user
// (user-assignlicense) and `assignedLicenses/any(x:x/skuId eq …)` on users (aad-advanced-queries: eq works by
// default), through the real Graph client.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@microsoft/microsoft-graph-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_SEED, startTestTenant, type TestTenant } from '../../support/simulated-tenant.js';
import { accessToken, graphFailure, type JsonBody, rawGraph } from './helpers.js';

const c = DEFAULT_SEED.contoso;
const FINANCE = 'c0000000-0000-4000-8000-000000000003';
let sim: TestTenant;
let graph: Client;

beforeAll(async () => {
  sim = await startTestTenant();
  graph = sim.graphClientFor(sim.credentialFor(c.tenantId, c.fullApp.clientId, c.fullApp.secret));
});
afterAll(async () => sim?.close());
beforeEach(async () => sim.controls.reset());

const ref = (id: string) => `https://graph.microsoft.com/v1.0/directoryObjects/${id}`;
const user = (id: string) => ({ '@odata.type': '#microsoft.graph.user', id });
const removedUser = (id: string) => ({ ...user(id), '@removed': { reason: 'deleted' } });
/** A client with a fresh token (after the simulated clock moved past the cached one). */
const freshGraph = () => sim.graphClientFor(sim.credentialFor(c.tenantId, c.fullApp.clientId, c.fullApp.secret));

async function round(client: Client, start: string, pageSize = 100) {
  const items: JsonBody[] = [];
  let page = (await client.api(start).header('Prefer', `odata.maxpagesize=${pageSize}`).get()) as JsonBody;
  let pages = 1;
  while (page['@odata.nextLink']) {
    items.push(...(page.value as JsonBody[]));
    page = (await client
      .api(page['@odata.nextLink'] as string)
      .header('Prefer', `odata.maxpagesize=${pageSize}`)
      .get()) as JsonBody;
    pages++;
  }
  items.push(...(page.value as JsonBody[]));
  return { items, pages, deltaLink: page['@odata.deltaLink'] as string };
}

describe('groups/delta with members@delta (group-delta, delta-query-groups)', () => {
  it('lists every group with its members first, then only what changed: members added and removed, deleted groups', async () => {
    const first = await round(graph, '/groups/delta', 2);
    expect(first.pages).toBe(2);
    const byId = new Map(first.items.map((g) => [g.id as string, g]));
    expect(byId.get(c.groups.licensedStaff)).toMatchObject({
      displayName: 'Licensed staff (E3 via group)',
      mailNickname: 'licensed-staff',
      'members@delta': [user(c.users.adele)],
    });
    // A group without members carries no members@delta (delta-query-groups, "TestGroup2").
    expect(byId.get(c.groups.allStaff)).not.toHaveProperty('members@delta');
    // No $select: the default property set.
    expect(byId.get(c.groups.allStaff)).toHaveProperty('securityIdentifier');

    await graph.api(`/groups/${c.groups.allStaff}/members/$ref`).post({ '@odata.id': ref(c.users.alex) });
    await graph.api(`/groups/${c.groups.licensedStaff}/members/${c.users.adele}/$ref`).delete();
    await graph.api(`/groups/${c.groups.licensedStaff}/members/$ref`).post({ '@odata.id': ref(c.users.admin) });
    const created = (await graph.api('/groups').post({
      displayName: 'New',
      mailEnabled: false,
      mailNickname: 'new',
      securityEnabled: true,
    })) as JsonBody;
    await graph.api(`/groups/${created.id}`).delete();
    const second = await round(graph, first.deltaLink);
    const changed = new Map(second.items.map((g) => [g.id as string, g]));
    expect(changed.get(c.groups.allStaff)!['members@delta']).toEqual([user(c.users.alex)]);
    expect(changed.get(c.groups.licensedStaff)!['members@delta']).toEqual([
      removedUser(c.users.adele),
      user(c.users.admin),
    ]);
    // Soft-deleted (restorable): "changed".
    expect(changed.get(created.id as string)).toEqual({ id: created.id, '@removed': { reason: 'changed' } });
    expect(changed.has(FINANCE)).toBe(false);

    // A deleted member leaves the group: the group shows the member removed.
    await graph.api(`/users/${c.users.alex}`).delete();
    const third = await round(graph, second.deltaLink);
    // Alex was in "All staff" and in the seed's Finance group.
    expect(third.items.map((g) => [g.id, g['members@delta']]).sort()).toEqual(
      [
        [c.groups.allStaff, [removedUser(c.users.alex)]],
        [FINANCE, [removedUser(c.users.alex)]],
      ].sort(),
    );
    const fourth = await round(graph, third.deltaLink);
    expect(fourth.items).toEqual([]);
  });

  it('tracks only what $select names: members with $select=members, none without', async () => {
    const withMembers = await round(graph, '/groups/delta?$select=displayName,members');
    expect(withMembers.items.find((g) => g.id === c.groups.licensedStaff)).toEqual({
      id: c.groups.licensedStaff,
      displayName: 'Licensed staff (E3 via group)',
      'members@delta': [user(c.users.adele)],
    });
    const without = await round(graph, '/groups/delta?$select=displayName');
    expect(without.items.find((g) => g.id === c.groups.licensedStaff)).toEqual({
      id: c.groups.licensedStaff,
      displayName: 'Licensed staff (E3 via group)',
    });
    await graph.api(`/groups/${c.groups.allStaff}/members/$ref`).post({ '@odata.id': ref(c.users.alex) });
    // The selection is kept in the delta link.
    const next = await round(graph, withMembers.deltaLink);
    expect(next.items).toEqual([
      { id: c.groups.allStaff, displayName: 'All staff', 'members@delta': [user(c.users.alex)] },
    ]);
    // Nested groups show as groups; owners are tracked when selected.
    const nested = (await graph.api('/groups').post({
      displayName: 'Nested',
      mailEnabled: false,
      mailNickname: 'nested',
      securityEnabled: true,
      'owners@odata.bind': [ref(c.users.adele)],
    })) as JsonBody;
    await graph.api(`/groups/${c.groups.allStaff}/members/$ref`).post({ '@odata.id': ref(nested.id as string) });
    const withOwners = await round(graph, '/groups/delta?$select=displayName,members,owners');
    expect(withOwners.items.find((g) => g.id === nested.id)).toEqual({
      id: nested.id,
      displayName: 'Nested',
      'owners@delta': [user(c.users.adele)],
    });
    expect(withOwners.items.find((g) => g.id === c.groups.allStaff)!['members@delta']).toEqual([
      user(c.users.alex),
      { '@odata.type': '#microsoft.graph.group', id: nested.id },
    ]);
  });

  it("splits a large group's members across pages, the group repeated with the next part", async () => {
    await sim.controls.generateUsers(c.tenantId, 25);
    const users = ((await graph.api('/users').select('id').top(999).get()) as JsonBody).value.map(
      (u: JsonBody) => u.id as string,
    ) as string[];
    const added = users.slice(-25);
    for (let i = 0; i < added.length; i += 20)
      await graph.api(`/groups/${c.groups.allStaff}`).patch({ 'members@odata.bind': added.slice(i, i + 20).map(ref) });
    // Two objects a page leave room for 20 member entries a page.
    const result = await round(graph, '/groups/delta?$select=displayName,members', 2);
    const parts = result.items.filter((g) => g.id === c.groups.allStaff);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect(part.displayName).toBe('All staff');
    expect(parts.flatMap((p) => (p['members@delta'] as JsonBody[]).map((m) => m.id))).toEqual(added);
  });
});

describe('group-based licensing (group-assignlicense, licensing-group-advanced): applied in the background', () => {
  const states = async (id: string) =>
    ((await sim.controls.user(c.tenantId, id)).licenseAssignmentStates as JsonBody[]).filter((s) => s.assignedByGroup);

  it('answers 202 with the group; members get the licence (assignedByGroup, Active) once processing is done', async () => {
    await sim.controls.settings({ groupLicenseDelayMs: 60_000 });
    const group = (await graph.api('/groups').post({
      displayName: 'E5 via group',
      mailEnabled: false,
      mailNickname: 'e5',
      securityEnabled: true,
      'members@odata.bind': [ref(c.users.alex)],
    })) as JsonBody;
    const token = await accessToken(sim, c.tenantId, c.fullApp.clientId, c.fullApp.secret);
    const res = await rawGraph(sim, token, 'POST', `/groups/${group.id}/assignLicense`, {
      addLicenses: [{ skuId: c.skus.enterprisePack, disabledPlans: [] }],
      removeLicenses: [],
    });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ id: group.id, securityEnabled: true });
    expect(res.headers.get('location')).toContain(
      `/directoryObjects/${group.id as string}/Microsoft.DirectoryServices.Group`,
    );
    const selected = (await graph
      .api(`/groups/${group.id}`)
      .select('assignedLicenses,licenseProcessingState')
      .get()) as JsonBody;
    expect(selected.assignedLicenses).toEqual([{ skuId: c.skus.enterprisePack, disabledPlans: [] }]);
    expect(selected.licenseProcessingState).toEqual({ state: 'ProcessingInProgress' });
    // Still processing: Alex (who has no usageLocation; group licensing takes the tenant's) has nothing yet.
    expect(await states(c.users.alex)).toEqual([]);

    await sim.controls.advanceClock({ minutes: 1 });
    expect(await states(c.users.alex)).toEqual([
      expect.objectContaining({
        skuId: c.skus.enterprisePack,
        assignedByGroup: group.id,
        state: 'Active',
        error: 'None',
      }),
    ]);
    const later = freshGraph();
    expect(
      ((await later.api(`/groups/${group.id}`).select('licenseProcessingState').get()) as JsonBody)
        .licenseProcessingState,
    ).toEqual({ state: 'ProcessingComplete' });

    // A member joining later inherits it later too; one leaving keeps it until processed.
    await later.api(`/groups/${group.id}/members/$ref`).post({ '@odata.id': ref(c.users.admin) });
    await later.api(`/groups/${group.id}/members/${c.users.alex}/$ref`).delete();
    expect(await states(c.users.admin)).toEqual([]);
    expect(await states(c.users.alex)).toHaveLength(1);
    await sim.controls.advanceClock({ minutes: 1 });
    expect(await states(c.users.admin)).toEqual([
      expect.objectContaining({ assignedByGroup: group.id, state: 'Active' }),
    ]);
    expect(await states(c.users.alex)).toEqual([]);
  });

  it('marks members beyond the seats CountViolation, and only direct user members inherit (not nested groups)', async () => {
    // SPE_E3 has 2 seats, Adele holds one through "Licensed staff".
    const nested = (await graph.api('/groups').post({
      displayName: 'Inner',
      mailEnabled: false,
      mailNickname: 'inner',
      securityEnabled: true,
      'members@odata.bind': [ref(c.users.adele)],
    })) as JsonBody;
    const group = (await graph.api('/groups').post({
      displayName: 'E3 wave',
      mailEnabled: false,
      mailNickname: 'e3wave',
      securityEnabled: true,
      'members@odata.bind': [ref(c.users.alex), ref(c.users.admin), ref(nested.id as string)],
    })) as JsonBody;
    await graph
      .api(`/groups/${group.id}/assignLicense`)
      .post({ addLicenses: [{ skuId: c.skus.spe_e3, disabledPlans: [] }], removeLicenses: [] });
    const alex = await states(c.users.alex);
    const admin = await states(c.users.admin);
    expect(alex).toEqual([expect.objectContaining({ state: 'Active', error: 'None' })]);
    expect(admin).toEqual([expect.objectContaining({ state: 'Error', error: 'CountViolation' })]);
    // Adele is in the nested group only: she keeps just what "Licensed staff" gives her.
    expect((await states(c.users.adele)).map((s) => s.assignedByGroup)).toEqual([c.groups.licensedStaff]);
    expect((await sim.controls.skus(c.tenantId)).find((s) => s.skuId === c.skus.spe_e3)!.free).toBe(0);
  });

  it('refuses a group that is not security-enabled, an unknown SKU, and removing a licence the group does not have', async () => {
    const unified = (await graph.api('/groups').post({
      displayName: 'M365',
      groupTypes: ['Unified'],
      mailEnabled: true,
      mailNickname: 'm365lic',
      securityEnabled: false,
    })) as JsonBody;
    const notSecurity = await graphFailure(
      graph
        .api(`/groups/${unified.id}/assignLicense`)
        .post({ addLicenses: [{ skuId: c.skus.spe_e3 }], removeLicenses: [] }),
    );
    expect(notSecurity.statusCode).toBe(400);
    const unknown = await graphFailure(
      graph
        .api(`/groups/${c.groups.allStaff}/assignLicense`)
        .post({ addLicenses: [{ skuId: '12345678-1234-4234-8234-123456789012' }], removeLicenses: [] }),
    );
    expect(unknown.body.error.message).toMatch(/does not correspond to a valid company License/);
    const notThere = await graphFailure(
      graph
        .api(`/groups/${c.groups.allStaff}/assignLicense`)
        .post({ addLicenses: [], removeLicenses: [c.skus.spe_e3] }),
    );
    expect(notThere.statusCode).toBe(400);
  });

  it('removes the licence from members when the group drops it, and the group can then be deleted', async () => {
    await graph
      .api(`/groups/${c.groups.licensedStaff}/assignLicense`)
      .post({ addLicenses: [], removeLicenses: [c.skus.spe_e3] });
    expect(await states(c.users.adele)).toEqual([]);
    expect((await sim.controls.skus(c.tenantId)).find((s) => s.skuId === c.skus.spe_e3)!.free).toBe(2);
    await graph.api(`/groups/${c.groups.licensedStaff}`).delete();
  });

  it('keeps pending licensing work across a restart of a simulator with a state file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'm365-sim-licensing-'));
    const stateFile = join(dir, 'state.json');
    const first = await startTestTenant({ stateFile, groupLicenseDelayMs: 60_000 });
    try {
      const g1 = first.graphClientFor(first.credentialFor(c.tenantId, c.fullApp.clientId, c.fullApp.secret));
      await g1
        .api(`/groups/${c.groups.allStaff}`)
        .patch({ 'members@odata.bind': [`${first.graphBaseUrl}/v1.0/directoryObjects/${c.users.alex}`] });
      await g1
        .api(`/groups/${c.groups.allStaff}/assignLicense`)
        .post({ addLicenses: [{ skuId: c.skus.enterprisePack, disabledPlans: [] }], removeLicenses: [] });
    } finally {
      await first.close();
    }
    const second = await startTestTenant({ stateFile });
    try {
      expect(second.state).toEqual({ file: stateFile, restored: true });
      // The work was due 60 s after it was queued; time has not moved that far yet.
      const before = (await second.controls.user(c.tenantId, c.users.alex)).licenseAssignmentStates as JsonBody[];
      expect(before.filter((s) => s.assignedByGroup)).toEqual([]);
      await second.controls.advanceClock({ minutes: 1 });
      const after = (await second.controls.user(c.tenantId, c.users.alex)).licenseAssignmentStates as JsonBody[];
      expect(after).toEqual([expect.objectContaining({ assignedByGroup: c.groups.allStaff, state: 'Active' })]);
    } finally {
      await second.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('licences seen from the user (user-assignlicense, aad-advanced-queries)', () => {
  it('answers assignLicense with the whole user object, not just the default properties', async () => {
    await graph.api(`/users/${c.users.alex}`).patch({ usageLocation: 'US', jobTitle: 'Engineer' });
    const answered = (await graph
      .api(`/users/${c.users.alex}/assignLicense`)
      .post({ addLicenses: [{ skuId: c.skus.enterprisePack, disabledPlans: [] }], removeLicenses: [] })) as JsonBody;
    expect(answered).toMatchObject({
      id: c.users.alex,
      accountEnabled: true,
      userPrincipalName: `alex.wilber@${c.domain}`,
      jobTitle: 'Engineer',
      usageLocation: 'US',
      employeeId: 'E1003',
      mailNickname: 'alex.wilber',
      assignedLicenses: [{ skuId: c.skus.enterprisePack, disabledPlans: [] }],
      licenseAssignmentStates: [expect.objectContaining({ skuId: c.skus.enterprisePack, assignedByGroup: null })],
    });
    expect((answered.assignedPlans as JsonBody[]).length).toBeGreaterThan(0);
    expect(answered.passwordProfile ?? null).toBeNull();
  });

  it('filters users by assignedLicenses/any(x:x/skuId eq …) without advanced query parameters, group licences included', async () => {
    const direct = (await graph
      .api('/users')
      .filter(`assignedLicenses/any(x:x/skuId eq ${c.skus.enterprisePack})`)
      .select('id')
      .get()) as JsonBody;
    expect(direct.value.map((u: JsonBody) => u.id)).toEqual([c.users.adele]);
    const viaGroup = (await graph
      .api('/users')
      .filter(`assignedLicenses/any(s:s/skuId eq ${c.skus.spe_e3})`)
      .select('id')
      .get()) as JsonBody;
    expect(viaGroup.value.map((u: JsonBody) => u.id)).toEqual([c.users.adele]);
    const groups = (await graph
      .api('/groups')
      .filter(`assignedLicenses/any(x:x/skuId eq ${c.skus.spe_e3})`)
      .select('id')
      .get()) as JsonBody;
    expect(groups.value.map((g: JsonBody) => g.id)).toEqual([c.groups.licensedStaff]);
    // `not` is an advanced query (aad-advanced-queries): refused here.
    const token = await accessToken(sim, c.tenantId, c.fullApp.clientId, c.fullApp.secret);
    const negated = await rawGraph(
      sim,
      token,
      'GET',
      `/users?$filter=${encodeURIComponent(`not assignedLicenses/any(x:x/skuId eq ${c.skus.spe_e3})`)}`,
    );
    expect(negated.status).toBe(400);
  });
});
