// Groups as the Graph v1.0 docs describe them, driven with the real Graph client: default properties on create and
// get (group resource, group-post-groups), at most 20 references bound in one request, owners, what may be a member
// of what (groups-allowed-member-types), mail-enabled groups read-only (groups-overview), deleted groups and restore
// (group-delete, directory-deleteditems-*), the replication-delay answer on a just-created group (group-post-members,
// group-update), members paged (group-list-members) and the documented filters (group-list).
import type { Client } from '@microsoft/microsoft-graph-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SeedDocument } from '../../../dev/m365-sim/seed.js';
import { loadDefaultSeed } from '../../../dev/m365-sim/seed.js';
import { DEFAULT_SEED, startTestTenant, type TestTenant } from '../../support/simulated-tenant.js';
import { accessToken, graphFailure, type JsonBody, newUserBody, rawGraph } from './helpers.js';

const c = DEFAULT_SEED.contoso;
/** The seed's mail-enabled security group (made in Exchange; read-only through Graph). */
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
const securityGroup = (nick: string, extra: Record<string, unknown> = {}) => ({
  displayName: nick,
  mailEnabled: false,
  mailNickname: nick,
  securityEnabled: true,
  ...extra,
});
const m365Group = (nick: string, extra: Record<string, unknown> = {}) => ({
  displayName: nick,
  groupTypes: ['Unified'],
  mailEnabled: true,
  mailNickname: nick,
  securityEnabled: false,
  ...extra,
});
const ids = (page: JsonBody) => (page.value as JsonBody[]).map((o) => o.id as string);

/** group resource, v1.0: "Returned by default". */
const DEFAULT_PROPERTIES = [
  'id',
  'deletedDateTime',
  'classification',
  'createdDateTime',
  'description',
  'displayName',
  'expirationDateTime',
  'groupTypes',
  'isAssignableToRole',
  'mail',
  'mailEnabled',
  'mailNickname',
  'membershipRule',
  'membershipRuleProcessingState',
  'onPremisesDomainName',
  'onPremisesLastSyncDateTime',
  'onPremisesNetBiosName',
  'onPremisesSamAccountName',
  'onPremisesSecurityIdentifier',
  'onPremisesSyncEnabled',
  'preferredDataLocation',
  'preferredLanguage',
  'proxyAddresses',
  'renewedDateTime',
  'resourceBehaviorOptions',
  'resourceProvisioningOptions',
  'securityEnabled',
  'securityIdentifier',
  'theme',
  'uniqueName',
  'visibility',
  'onPremisesProvisioningErrors',
  'serviceProvisioningErrors',
].sort();

describe('default properties (group resource, group-post-groups)', () => {
  it('answers POST and GET with the default property set, unset ones null or []', async () => {
    const created = (await graph.api('/groups').post(securityGroup('ops', { description: 'Operations' }))) as JsonBody;
    const { '@odata.context': _context, ...body } = created;
    expect(Object.keys(body).sort()).toEqual(DEFAULT_PROPERTIES);
    expect(body).toMatchObject({
      deletedDateTime: null,
      classification: null,
      description: 'Operations',
      groupTypes: [],
      mail: null,
      mailEnabled: false,
      mailNickname: 'ops',
      proxyAddresses: [],
      resourceBehaviorOptions: [],
      onPremisesProvisioningErrors: [],
      securityEnabled: true,
      visibility: 'Private',
      renewedDateTime: body.createdDateTime,
    });
    expect(body.securityIdentifier).toMatch(/^S-1-12-1-\d+-\d+-\d+-\d+$/);
    const { '@odata.context': _c2, ...got } = (await graph.api(`/groups/${created.id}`).get()) as JsonBody;
    expect(got).toEqual(body);
    // Properties outside the default set only on $select (assignedLicenses, licenseProcessingState …).
    expect(body).not.toHaveProperty('assignedLicenses');
    const selected = (await graph
      .api(`/groups/${created.id}`)
      .select('displayName,assignedLicenses')
      .get()) as JsonBody;
    expect(selected).toMatchObject({ id: created.id, displayName: 'ops', assignedLicenses: [] });
    expect(selected).not.toHaveProperty('mailNickname');
  });

  it('derives securityIdentifier from the object id as the example in group-post-groups shows', async () => {
    const seed = loadDefaultSeed() as SeedDocument;
    seed.tenants[0]!.groups!.push({
      id: '21d05557-b7b6-418f-86fa-a3118d751be4',
      displayName: 'Operations group',
      mailNickname: 'operations2019',
    });
    await sim.controls.reset(seed);
    const group = (await graph.api('/groups/21d05557-b7b6-418f-86fa-a3118d751be4').get()) as JsonBody;
    expect(group.securityIdentifier).toBe('S-1-12-1-567301463-1099937718-295959174-3827004813');
  });

  it('gives a Microsoft 365 group mail and proxyAddresses from mailNickname and the default domain, Public by default', async () => {
    const created = (await graph.api('/groups').post(m365Group('library'))) as JsonBody;
    expect(created).toMatchObject({
      groupTypes: ['Unified'],
      mail: `library@${c.domain}`,
      proxyAddresses: [`SMTP:library@${c.domain}`],
      visibility: 'Public',
    });
    // An address already taken gets digits appended (group-post-groups example: "library" → library7423@…).
    const second = (await graph.api('/groups').post(m365Group('library'))) as JsonBody;
    expect(second.mail).toMatch(new RegExp(`^library\\d{4}@${c.domain.replace('.', '\\.')}$`));
    // Found by the documented filters.
    const byMail = (await graph.api('/groups').filter(`mail eq 'library@${c.domain}'`).get()) as JsonBody;
    expect(ids(byMail)).toEqual([created.id]);
  });

  it('refuses a mailNickname the docs do not allow and a displayName over 256 characters', async () => {
    for (const bad of ['has space', 'a@b', 'x'.repeat(65), 'paren(s)']) {
      const err = await graphFailure(graph.api('/groups').post(securityGroup(bad)));
      expect(err.statusCode).toBe(400);
      expect(err.body.error.message).toBe("Invalid value specified for property 'mailNickname' of resource 'Group'.");
    }
    const long = await graphFailure(graph.api('/groups').post(securityGroup('ok', { displayName: 'd'.repeat(257) })));
    expect(long.body.error.message).toBe("Invalid value specified for property 'displayName' of resource 'Group'.");
  });

  it('finds groups by mailNickname and displayName (group-list $filter eq)', async () => {
    const byNick = (await graph.api('/groups').filter("mailNickname eq 'all-staff'").select('id').get()) as JsonBody;
    expect(ids(byNick)).toEqual([c.groups.allStaff]);
    const byName = (await graph.api('/groups').filter("displayName eq 'All staff'").select('id').get()) as JsonBody;
    expect(ids(byName)).toEqual([c.groups.allStaff]);
    const unified = (await graph.api('/groups').post(m365Group('team'))) as JsonBody;
    const lambda = (await graph
      .api('/groups')
      .filter("groupTypes/any(t:t eq 'Unified')")
      .select('id')
      .get()) as JsonBody;
    expect(ids(lambda)).toEqual([unified.id]);
  });
});

describe('members and owners bound on create and update: at most 20 (group-post-groups, group-update)', () => {
  it('creates a group with members and owners in one request, 20 references at most together', async () => {
    await sim.controls.generateUsers(c.tenantId, 25);
    const users = ids((await graph.api('/users').top(25).select('id').get()) as JsonBody);
    const tooMany = await graphFailure(
      graph.api('/groups').post(
        securityGroup('big', {
          'members@odata.bind': users.slice(0, 19).map(ref),
          'owners@odata.bind': users.slice(19, 21).map(ref),
        }),
      ),
    );
    expect(tooMany.statusCode).toBe(400);
    // Nothing was created.
    expect(((await graph.api('/groups').filter("mailNickname eq 'big'").get()) as JsonBody).value).toEqual([]);
    const group = (await graph.api('/groups').post(
      securityGroup('big', {
        'members@odata.bind': users.slice(0, 18).map(ref),
        'owners@odata.bind': users.slice(18, 20).map(ref),
      }),
    )) as JsonBody;
    expect(ids((await graph.api(`/groups/${group.id}/members`).select('id').get()) as JsonBody)).toEqual(
      users.slice(0, 18),
    );
    const owners = (await graph.api(`/groups/${group.id}/owners`).get()) as JsonBody;
    expect(ids(owners)).toEqual(users.slice(18, 20));
    expect(owners.value[0]['@odata.type']).toBe('#microsoft.graph.user');
  });

  it('refuses 21 members in one PATCH and keeps the group unchanged', async () => {
    await sim.controls.generateUsers(c.tenantId, 21);
    const users = ids((await graph.api('/users').top(21).select('id').get()) as JsonBody);
    const err = await graphFailure(
      graph.api(`/groups/${c.groups.allStaff}`).patch({ 'members@odata.bind': users.map(ref) }),
    );
    expect(err.statusCode).toBe(400);
    expect(((await graph.api(`/groups/${c.groups.allStaff}/members`).get()) as JsonBody).value).toEqual([]);
  });

  it('adds and removes owners by $ref (group-post-owners, group-delete-owners); a duplicate is 400, an unknown id 404', async () => {
    await graph.api(`/groups/${c.groups.allStaff}/owners/$ref`).post({ '@odata.id': ref(c.users.adele) });
    const dup = await graphFailure(
      graph.api(`/groups/${c.groups.allStaff}/owners/$ref`).post({ '@odata.id': ref(c.users.adele) }),
    );
    expect(dup.statusCode).toBe(400);
    expect(dup.body.error.message).toBe(
      "One or more added object references already exist for the following modified properties: 'owners'.",
    );
    const unknown = await graphFailure(
      graph
        .api(`/groups/${c.groups.allStaff}/owners/$ref`)
        .post({ '@odata.id': ref('12345678-1234-4234-8234-123456789012') }),
    );
    expect(unknown.statusCode).toBe(404);
    expect(ids((await graph.api(`/groups/${c.groups.allStaff}/owners`).get()) as JsonBody)).toEqual([c.users.adele]);
    await graph.api(`/groups/${c.groups.allStaff}/owners/${c.users.adele}/$ref`).delete();
    expect(((await graph.api(`/groups/${c.groups.allStaff}/owners`).get()) as JsonBody).value).toEqual([]);
  });
});

describe('members paged (group-list-members: $select=id, $top up to 999, @odata.nextLink)', () => {
  it('pages 150 members 100 at a time by default and all at once with $top=999', async () => {
    await sim.controls.generateUsers(c.tenantId, 150);
    const users: string[] = [];
    let link: string | undefined = '/users?$select=id&$top=999';
    while (link) {
      const page = (await graph.api(link).get()) as JsonBody;
      users.push(...ids(page));
      link = page['@odata.nextLink'] as string | undefined;
    }
    const members = users.slice(-150);
    for (let i = 0; i < members.length; i += 20)
      await graph
        .api(`/groups/${c.groups.allStaff}`)
        .patch({ 'members@odata.bind': members.slice(i, i + 20).map(ref) });
    const first = (await graph.api(`/groups/${c.groups.allStaff}/members`).select('id').get()) as JsonBody;
    expect(first.value).toHaveLength(100);
    expect(first.value[0]).toEqual({ '@odata.type': '#microsoft.graph.user', id: members[0] });
    const second = (await graph.api(first['@odata.nextLink'] as string).get()) as JsonBody;
    expect([...ids(first), ...ids(second)]).toEqual(members);
    expect(second['@odata.nextLink']).toBeUndefined();
    const all = (await graph.api(`/groups/${c.groups.allStaff}/members`).select('id').top(999).get()) as JsonBody;
    expect(ids(all)).toEqual(members);
    const token = await accessToken(sim, c.tenantId, c.fullApp.clientId, c.fullApp.secret);
    expect((await rawGraph(sim, token, 'GET', `/groups/${c.groups.allStaff}/members?$top=1000`)).status).toBe(400);
  });
});

describe('what may be a member of what (groups-allowed-member-types)', () => {
  it('nests a security group in a security group; members, transitiveMembers and transitiveMemberOf show it', async () => {
    const parent = (await graph.api('/groups').post(securityGroup('parent'))) as JsonBody;
    const child = (await graph
      .api('/groups')
      .post(securityGroup('child', { 'members@odata.bind': [ref(c.users.alex)] }))) as JsonBody;
    await graph.api(`/groups/${parent.id}/members/$ref`).post({ '@odata.id': ref(child.id as string) });
    const members = (await graph.api(`/groups/${parent.id}/members`).select('id,displayName').get()) as JsonBody;
    expect(members.value).toEqual([{ '@odata.type': '#microsoft.graph.group', id: child.id, displayName: 'child' }]);
    const transitive = (await graph.api(`/groups/${parent.id}/transitiveMembers`).select('id').get()) as JsonBody;
    expect(ids(transitive).sort()).toEqual([child.id, c.users.alex].sort());
    const memberOf = (await graph
      .api(`/users/${c.users.alex}/transitiveMemberOf/microsoft.graph.group`)
      .get()) as JsonBody;
    expect(ids(memberOf)).toEqual(expect.arrayContaining([child.id, parent.id]));
    const direct = (await graph.api(`/users/${c.users.alex}/memberOf/microsoft.graph.group`).get()) as JsonBody;
    expect(ids(direct)).not.toContain(parent.id);
  });

  it('refuses groups as members of a Microsoft 365 group, and a Microsoft 365 group as a member of anything', async () => {
    const unified = (await graph.api('/groups').post(m365Group('m365'))) as JsonBody;
    const otherUnified = (await graph.api('/groups').post(m365Group('m365b'))) as JsonBody;
    const intoUnified = await graphFailure(
      graph.api(`/groups/${unified.id}/members/$ref`).post({ '@odata.id': ref(otherUnified.id as string) }),
    );
    expect(intoUnified.statusCode).toBe(400);
    expect(intoUnified.body.error.code).toBe('Request_BadRequest');
    expect(intoUnified.body.error.message).toBe('Unified Groups cannot be added to Unified Groups.');
    const securityIntoUnified = await graphFailure(
      graph.api(`/groups/${unified.id}`).patch({ 'members@odata.bind': [ref(c.groups.allStaff)] }),
    );
    expect(securityIntoUnified.statusCode).toBe(400);
    const unifiedIntoSecurity = await graphFailure(
      graph.api(`/groups/${c.groups.allStaff}/members/$ref`).post({ '@odata.id': ref(unified.id as string) }),
    );
    expect(unifiedIntoSecurity.statusCode).toBe(400);
    // Users are welcome in both.
    await graph.api(`/groups/${unified.id}/members/$ref`).post({ '@odata.id': ref(c.users.alex) });
    expect(ids((await graph.api(`/groups/${unified.id}/members`).get()) as JsonBody)).toEqual([c.users.alex]);
  });
});

describe('mail-enabled security groups and distribution groups are read-only through Graph (groups-overview)', () => {
  it('refuses to create one (mailEnabled without "Unified")', async () => {
    for (const securityEnabled of [true, false]) {
      const err = await graphFailure(
        graph.api('/groups').post({ displayName: 'dl', mailEnabled: true, mailNickname: 'dl', securityEnabled }),
      );
      expect(err.statusCode).toBe(400);
      expect(err.body.error.message).toMatch(/^The service does not currently support writes of mail-enabled groups\./);
    }
    expect(((await graph.api('/groups').filter("mailNickname eq 'dl'").get()) as JsonBody).value).toEqual([]);
  });

  it('answers member changes with 403 and property updates with 400, and shows the group as it is', async () => {
    const finance = (await graph.api(`/groups/${FINANCE}`).get()) as JsonBody;
    expect(finance).toMatchObject({ mailEnabled: true, securityEnabled: true, mail: 'finance@contoso.example' });
    const add = await graphFailure(
      graph.api(`/groups/${FINANCE}/members/$ref`).post({ '@odata.id': ref(c.users.adele) }),
    );
    expect(add.statusCode).toBe(403);
    expect(add.body.error).toMatchObject({
      code: 'Authorization_RequestDenied',
      message: 'Insufficient privileges to complete the operation.',
    });
    const bind = await graphFailure(
      graph.api(`/groups/${FINANCE}`).patch({ 'members@odata.bind': [ref(c.users.adele)] }),
    );
    expect(bind.statusCode).toBe(403);
    const remove = await graphFailure(graph.api(`/groups/${FINANCE}/members/${c.users.alex}/$ref`).delete());
    expect(remove.statusCode).toBe(403);
    const rename = await graphFailure(graph.api(`/groups/${FINANCE}`).patch({ displayName: 'Finance team' }));
    expect(rename.statusCode).toBe(400);
    expect(rename.body.error.message).toBe('Cannot Update a mail-enabled security groups and or distribution list.');
    // Turning a security group into a mail-enabled one is the same refusal as creating one.
    const enable = await graphFailure(graph.api(`/groups/${c.groups.allStaff}`).patch({ mailEnabled: true }));
    expect(enable.body.error.message).toMatch(/does not currently support writes of mail-enabled groups/);
    expect(ids((await graph.api(`/groups/${FINANCE}/members`).get()) as JsonBody)).toEqual([c.users.alex]);
  });
});

describe('deleted groups (group-delete, directory-deleteditems-list, -restore)', () => {
  it('keeps a deleted security group and a Microsoft 365 group 30 days in deleted items and restores them with their members', async () => {
    const unified = (await graph
      .api('/groups')
      .post(m365Group('project', { 'members@odata.bind': [ref(c.users.alex)] }))) as JsonBody;
    const security = (await graph
      .api('/groups')
      .post(securityGroup('sec', { 'members@odata.bind': [ref(c.users.adele)] }))) as JsonBody;
    await graph.api(`/groups/${unified.id}`).delete();
    await graph.api(`/groups/${security.id}`).delete();
    expect((await graphFailure(graph.api(`/groups/${security.id}`).get())).statusCode).toBe(404);
    expect((await sim.controls.user(c.tenantId, c.users.alex)).memberOf.includes(unified.id)).toBe(false);
    const deleted = (await graph.api('/directory/deletedItems/microsoft.graph.group').get()) as JsonBody;
    expect(ids(deleted).sort()).toEqual([unified.id, security.id].sort());
    expect(deleted.value[0].deletedDateTime).toEqual(expect.any(String));
    const one = (await graph.api(`/directory/deletedItems/${security.id}`).get()) as JsonBody;
    expect(one).toMatchObject({ '@odata.type': '#microsoft.graph.group', id: security.id, mailNickname: 'sec' });

    const restored = (await graph.api(`/directory/deletedItems/${security.id}/restore`).post({})) as JsonBody;
    expect(restored).toMatchObject({ '@odata.type': '#microsoft.graph.group', id: security.id, deletedDateTime: null });
    expect(ids((await graph.api(`/groups/${security.id}/members`).get()) as JsonBody)).toEqual([c.users.adele]);
    await graph.api(`/directory/deletedItems/${unified.id}/restore`).post({});
    expect(ids((await graph.api(`/groups/${unified.id}/members`).get()) as JsonBody)).toEqual([c.users.alex]);
    expect(((await graph.api('/directory/deletedItems/microsoft.graph.group').get()) as JsonBody).value).toEqual([]);

    // After 30 days a deleted group is gone for good.
    await graph.api(`/groups/${security.id}`).delete();
    await sim.controls.advanceClock({ days: 31 });
    // A new client: the cached token expired with the clock.
    const later = sim.graphClientFor(sim.credentialFor(c.tenantId, c.fullApp.clientId, c.fullApp.secret));
    expect(((await later.api('/directory/deletedItems/microsoft.graph.group').get()) as JsonBody).value).toEqual([]);
  });

  it('deletes a distribution group permanently', async () => {
    const seed = loadDefaultSeed() as SeedDocument;
    seed.tenants[0]!.groups!.push({
      id: 'c0000000-0000-4000-8000-0000000000d1',
      displayName: 'Newsletter',
      mailNickname: 'newsletter',
      mailEnabled: true,
      securityEnabled: false,
    });
    await sim.controls.reset(seed);
    await graph.api('/groups/c0000000-0000-4000-8000-0000000000d1').delete();
    expect(((await graph.api('/directory/deletedItems/microsoft.graph.group').get()) as JsonBody).value).toEqual([]);
    expect(
      (await graphFailure(graph.api('/directory/deletedItems/c0000000-0000-4000-8000-0000000000d1').get())).statusCode,
    ).toBe(404);
  });

  it('refuses to delete a group that has licences assigned (licensing-group-advanced)', async () => {
    const err = await graphFailure(graph.api(`/groups/${c.groups.licensedStaff}`).delete());
    expect(err.statusCode).toBe(400);
    expect((await graph.api(`/groups/${c.groups.licensedStaff}`).get()) as JsonBody).toMatchObject({
      id: c.groups.licensedStaff,
    });
  });
});

describe('replication delay on a just-created group (group-post-members, group-update notes)', () => {
  const notYet = 'The source resource object or one of the objects being referenced do not exist.';

  it('answers 400 to member and owner changes of a new group until it has replicated (replicationDelayMs)', async () => {
    await sim.controls.settings({ replicationDelayMs: 30_000 });
    // Members bound in the create request itself are fine: that is the documented way round the delay.
    const group = (await graph
      .api('/groups')
      .post(securityGroup('fresh', { 'members@odata.bind': [ref(c.users.adele)] }))) as JsonBody;
    const viaRef = await graphFailure(
      graph.api(`/groups/${group.id}/members/$ref`).post({ '@odata.id': ref(c.users.alex) }),
    );
    expect(viaRef.statusCode).toBe(400);
    expect(viaRef.body.error).toMatchObject({ code: 'Request_BadRequest', message: notYet });
    const viaBind = await graphFailure(
      graph.api(`/groups/${group.id}`).patch({ 'members@odata.bind': [ref(c.users.alex)] }),
    );
    expect(viaBind.body.error.message).toBe(notYet);
    const owner = await graphFailure(
      graph.api(`/groups/${group.id}/owners/$ref`).post({ '@odata.id': ref(c.users.alex) }),
    );
    expect(owner.body.error.message).toBe(notYet);
    // A user just created is not yet a member anyone can add either.
    const user = (await graph.api('/users').post(newUserBody(`fresh.user@${c.domain}`))) as JsonBody;
    const newUser = await graphFailure(
      graph.api(`/groups/${c.groups.allStaff}/members/$ref`).post({ '@odata.id': ref(user.id as string) }),
    );
    expect(newUser.body.error.message).toBe(notYet);

    await sim.controls.advanceClock({ seconds: 30 });
    await graph.api(`/groups/${group.id}/members/$ref`).post({ '@odata.id': ref(c.users.alex) });
    await graph.api(`/groups/${c.groups.allStaff}/members/$ref`).post({ '@odata.id': ref(user.id as string) });
    expect(ids((await graph.api(`/groups/${group.id}/members`).get()) as JsonBody)).toEqual([
      c.users.adele,
      c.users.alex,
    ]);
  });

  it('is off by default: a new group takes members at once', async () => {
    const group = (await graph.api('/groups').post(securityGroup('now'))) as JsonBody;
    await graph.api(`/groups/${group.id}/members/$ref`).post({ '@odata.id': ref(c.users.alex) });
    expect(ids((await graph.api(`/groups/${group.id}/members`).get()) as JsonBody)).toEqual([c.users.alex]);
  });
});
