// Delta query, licensing and groups through the real Graph client.
import type { Client } from '@microsoft/microsoft-graph-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_SEED, startTestTenant, type TestTenant } from '../../support/simulated-tenant.js';
import { accessToken, graphFailure, type JsonBody, newUserBody, rawGraph } from './helpers.js';

const c = DEFAULT_SEED.contoso;
let sim: TestTenant;
let graph: Client;

beforeAll(async () => {
  sim = await startTestTenant();
  graph = sim.graphClientFor(sim.credentialFor(c.tenantId, c.fullApp.clientId, c.fullApp.secret));
});
afterAll(async () => sim?.close());
beforeEach(async () => sim.controls.reset());

async function fullRound(start: string): Promise<{ items: Array<JsonBody>; deltaLink: string; pages: number }> {
  const items: Array<JsonBody> = [];
  let page = await graph.api(start).header('Prefer', 'odata.maxpagesize=2').get();
  let pages = 1;
  while (page['@odata.nextLink']) {
    items.push(...page.value);
    page = await graph.api(page['@odata.nextLink']).header('Prefer', 'odata.maxpagesize=2').get();
    pages++;
  }
  items.push(...page.value);
  return { items, deltaLink: page['@odata.deltaLink'], pages };
}

describe('delta query (delta-query-overview, user-delta)', () => {
  it('pages the first round, then returns only changes with @removed reasons changed/deleted', async () => {
    const first = await fullRound('/users/delta?$select=displayName,accountEnabled');
    expect(first.items).toHaveLength(3);
    expect(first.pages).toBe(2);
    expect(first.deltaLink).toContain('$deltatoken=');

    const created = await graph.api('/users').post(newUserBody(`delta@${c.domain}`));
    await graph.api(`/users/${c.users.adele}`).patch({ displayName: 'Adele V.' });
    await graph.api(`/users/${c.users.alex}`).delete();
    const second = await fullRound(first.deltaLink);
    const byId = new Map(second.items.map((i) => [i.id, i]));
    expect(byId.get(created.id)).toMatchObject({ displayName: 'delta' });
    expect(byId.get(c.users.adele)).toMatchObject({ displayName: 'Adele V.' });
    expect(byId.get(c.users.alex)).toEqual({ id: c.users.alex, '@removed': { reason: 'changed' } });

    await graph.api(`/directory/deletedItems/${c.users.alex}`).delete();
    const third = await fullRound(second.deltaLink);
    expect(third.items).toEqual([{ id: c.users.alex, '@removed': { reason: 'deleted' } }]);
  });

  it('starts from now with $deltatoken=latest', async () => {
    const latest = await graph.api('/users/delta?$deltatoken=latest').get();
    expect(latest.value).toEqual([]);
    await graph.api(`/users/${c.users.adele}`).patch({ jobTitle: 'CTO' });
    const next = await graph.api(latest['@odata.deltaLink']).get();
    expect(next.value.map((u: { id: string }) => u.id)).toEqual([c.users.adele]);
  });

  it('answers an unknown or 7-day-old delta token with 400 syncStateNotFound (M365 dev blog, "Duration of change tracking tokens")', async () => {
    const token = await accessToken(sim, c.tenantId, c.fullApp.clientId, c.fullApp.secret);
    const unknown = await rawGraph(sim, token, 'GET', '/users/delta?$deltatoken=bogus');
    expect(unknown.status).toBe(400);
    expect(unknown.body!.error.code).toBe('syncStateNotFound');
    const round = await fullRound('/users/delta');
    await sim.controls.advanceClock({ days: 8 });
    const fresh = await accessToken(sim, c.tenantId, c.fullApp.clientId, c.fullApp.secret);
    const expired = await rawGraph(sim, fresh, 'GET', round.deltaLink.slice(`${sim.graphBaseUrl}/v1.0`.length));
    expect(expired.status).toBe(400);
    expect(expired.body!.error.message).toBe(
      'The sync state generation is not found. The delta token is expired and data must be synchronized again.',
    );
  });

  it('answers 410 Gone with a Location header after a synchronization reset (delta-query-overview)', async () => {
    const round = await fullRound('/users/delta');
    await sim.controls.deltaReset(c.tenantId);
    const token = await accessToken(sim, c.tenantId, c.fullApp.clientId, c.fullApp.secret);
    const res = await rawGraph(sim, token, 'GET', round.deltaLink.slice(`${sim.graphBaseUrl}/v1.0`.length));
    expect(res.status).toBe(410);
    expect(res.headers.get('location')).toBe(`${sim.graphBaseUrl}/v1.0/users/delta`);
  });
});

describe('licenses (subscribedsku-list, user-assignlicense, user-list-licensedetails)', () => {
  it('lists subscribed SKUs with seats counted from assignments', async () => {
    const skus = (await graph.api('/subscribedSkus').get()).value;
    const e3 = skus.find((s: { skuPartNumber: string }) => s.skuPartNumber === 'ENTERPRISEPACK');
    expect(e3).toMatchObject({ skuId: c.skus.enterprisePack, prepaidUnits: { enabled: 5 }, consumedUnits: 2 });
    expect(e3.servicePlans.length).toBeGreaterThan(0);
  });

  it('requires a usage location before assigning (user-assignlicense)', async () => {
    const err = await graphFailure(
      graph
        .api(`/users/${c.users.alex}/assignLicense`)
        .post({ addLicenses: [{ skuId: c.skus.enterprisePack, disabledPlans: [] }], removeLicenses: [] }),
    );
    expect(err.statusCode).toBe(400);
    expect(err.body.error.message).toBe('License assignment cannot be done for user with invalid usage location.');
  });

  it('assigns (200 with the user), shows licenseDetails, counts seats and refuses when none are free', async () => {
    await graph.api(`/users/${c.users.alex}`).patch({ usageLocation: 'US' });
    const user = await graph
      .api(`/users/${c.users.alex}/assignLicense`)
      .post({ addLicenses: [{ skuId: c.skus.spe_e3, disabledPlans: [] }], removeLicenses: [] });
    expect(user.id).toBe(c.users.alex);
    const details = await graph.api(`/users/${c.users.alex}/licenseDetails`).get();
    expect(details.value.map((d: { skuPartNumber: string }) => d.skuPartNumber)).toEqual(['SPE_E3']);
    // SPE_E3 has 2 seats: Adele (via group) + Alex. The admin gets none.
    const err = await graphFailure(
      graph
        .api(`/users/${c.users.admin}/assignLicense`)
        .post({ addLicenses: [{ skuId: c.skus.spe_e3 }], removeLicenses: [] }),
    );
    expect(err.body.error.message).toBe(`Subscription with SKU ${c.skus.spe_e3} does not have any available licenses.`);
    await graph.api(`/users/${c.users.alex}/assignLicense`).post({ addLicenses: [], removeLicenses: [c.skus.spe_e3] });
    await graph
      .api(`/users/${c.users.admin}/assignLicense`)
      .post({ addLicenses: [{ skuId: c.skus.spe_e3 }], removeLicenses: [] });
  });

  it('refuses to remove a group-inherited license directly (licenseAssignmentStates.assignedByGroup)', async () => {
    const adele = await graph.api(`/users/${c.users.adele}`).select('licenseAssignmentStates,assignedLicenses').get();
    expect(adele.licenseAssignmentStates).toContainEqual(
      expect.objectContaining({ skuId: c.skus.spe_e3, assignedByGroup: c.groups.licensedStaff, state: 'Active' }),
    );
    const err = await graphFailure(
      graph.api(`/users/${c.users.adele}/assignLicense`).post({ addLicenses: [], removeLicenses: [c.skus.spe_e3] }),
    );
    expect(err.statusCode).toBe(400);
    expect(err.body.error.message).toMatch(/inherited from a group/);
  });

  it('validates the action body against the schema', async () => {
    expect(
      (
        await graphFailure(
          graph.api(`/users/${c.users.adele}/assignLicense`).post({ addLicenses: 'x', removeLicenses: [] }),
        )
      ).statusCode,
    ).toBe(400);
  });
});

describe('groups (group-post-groups, group-post-members, group-update, group-delete-members)', () => {
  const ref = (id: string) => ({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${id}` });

  it('creates a group, adds members by $ref (204), refuses duplicates (400) and unknown ids (404), lists and removes members', async () => {
    const group = await graph
      .api('/groups')
      .post({ displayName: 'Engineering', mailEnabled: false, mailNickname: 'eng', securityEnabled: true });
    expect(group.id).toBeTruthy();
    await graph.api(`/groups/${group.id}/members/$ref`).post(ref(c.users.alex));
    const dup = await graphFailure(graph.api(`/groups/${group.id}/members/$ref`).post(ref(c.users.alex)));
    expect(dup.statusCode).toBe(400);
    expect(dup.body.error.message).toMatch(/already exist/);
    expect(
      (
        await graphFailure(
          graph.api(`/groups/${group.id}/members/$ref`).post(ref('12345678-1234-4234-8234-123456789012')),
        )
      ).statusCode,
    ).toBe(404);
    const members = await graph.api(`/groups/${group.id}/members`).get();
    expect(members.value.map((m: { id: string }) => m.id)).toEqual([c.users.alex]);
    await graph.api(`/groups/${group.id}/members/${c.users.alex}/$ref`).delete();
    expect((await graph.api(`/groups/${group.id}/members`).get()).value).toEqual([]);
  });

  it('adds up to 20 members with members@odata.bind in the documented directoryObjects form; one bad entry fails all', async () => {
    await sim.controls.generateUsers(c.tenantId, 25);
    const ids = (await graph.api('/users').top(25).select('id').get()).value.map((u: { id: string }) => u.id);
    const bind = (list: string[]) => ({
      'members@odata.bind': list.map((id) => `https://graph.microsoft.com/v1.0/directoryObjects/${id}`),
    });
    const tooMany = await graphFailure(graph.api(`/groups/${c.groups.allStaff}`).patch(bind(ids.slice(0, 21))));
    expect(tooMany.statusCode).toBe(400);
    const oneBad = await graphFailure(
      graph.api(`/groups/${c.groups.allStaff}`).patch(bind([ids[0], '12345678-1234-4234-8234-123456789012'])),
    );
    expect(oneBad.statusCode).toBe(404);
    expect((await graph.api(`/groups/${c.groups.allStaff}/members`).get()).value).toEqual([]);
    await graph.api(`/groups/${c.groups.allStaff}`).patch(bind(ids.slice(0, 20)));
    expect((await graph.api(`/groups/${c.groups.allStaff}/members`).top(999).get()).value).toHaveLength(20);
  });

  it('gives a member the group license, and frees the seat when the member leaves', async () => {
    await graph.api(`/groups/${c.groups.licensedStaff}/members/$ref`).post(ref(c.users.alex));
    const alex = await graph.api(`/users/${c.users.alex}`).select('assignedLicenses').get();
    expect(alex.assignedLicenses).toEqual([{ skuId: c.skus.spe_e3, disabledPlans: [] }]);
    expect((await sim.controls.skus(c.tenantId)).find((s) => s.skuId === c.skus.spe_e3)!.free).toBe(0);
    await graph.api(`/groups/${c.groups.licensedStaff}/members/${c.users.alex}/$ref`).delete();
    expect((await sim.controls.skus(c.tenantId)).find((s) => s.skuId === c.skus.spe_e3)!.free).toBe(1);
  });
});
