// Conformance with Okta's SCIM 2.0 client (issue 18): the requests of Okta's "SCIM 2.0 SPEC Test" and "CRUD
// Test" (Runscope suites, developer.okta.com "Test your SCIM API") and of group push ("SCIM 2.0 protocol
// reference": create, rename with the group's id in the value map, add and remove members, delete), each sent as
// Okta sends it (application/scim+json, Bearer token, User-Agent "OKTA SCIM Integration") and checked end to end:
// the account and group in the simulated tenant. Real local host, Azurite, simulated tenant.
import { beforeAll, describe, expect, it } from 'vitest';
import { useAppWithTenant } from '../support/app-host.js';
import {
  accountWhen as accountOf,
  contosoTenant,
  expectScimError,
  type ScimEndpoint,
  scimEndpoint,
} from '../support/scim-client.js';
import { DEFAULT_SEED } from '../support/simulated-tenant.js';
import { uniqueName } from '../support/unique.js';
import { waitFor } from '../support/wait-for.js';

const ctx = useAppWithTenant();
const domain = DEFAULT_SEED.contoso.domain;
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

let scim: ScimEndpoint;
beforeAll(async () => {
  scim = await scimEndpoint(ctx);
});

/** The SPEC test's "realistic" user; Okta sends the password it generated (password sync). */
const oktaUser = (userName: string, givenName = 'Jordan', familyName = 'Rivera') => ({
  schemas: [USER],
  userName,
  name: { givenName, familyName },
  emails: [{ primary: true, value: userName, type: 'work' }],
  displayName: `${givenName} ${familyName}`,
  title: 'Engineer',
  phoneNumbers: [{ value: '415.123.4567', type: 'mobile' }],
  password: 'Okta-Gen3rated!',
  active: true,
});

const accountWhen = (upn: string, probe: (a: Record<string, unknown>) => boolean, what: string) =>
  accountOf(ctx, upn, probe, what);

describe('Okta SCIM 2.0 SPEC test', { timeout: 90_000 }, () => {
  it('runs in order: users endpoint, get by id, unknown user and id, create, duplicate, case, groups, 401, 404', async () => {
    // Okta's suite expects at least one user to be there.
    const seeded = await scim.send<{ id: string }>(
      'POST',
      '/Users',
      oktaUser(`${uniqueName('morgan')}@atko.com`, 'Morgan', 'Chen'),
    );
    expect(seeded.status, seeded.text).toBe(201);

    // Required Test: Test Users endpoint
    const page = await scim.send<{
      schemas: string[];
      itemsPerPage: number;
      startIndex: number;
      totalResults: number;
      Resources: Record<string, unknown>[];
    }>('GET', '/Users?count=1&startIndex=1');
    expect(page.status).toBe(200);
    expect(page.body.schemas).toContain(LIST);
    expect(page.body).toMatchObject({ itemsPerPage: 1, startIndex: 1 });
    expect(page.body.totalResults).toBeGreaterThanOrEqual(1);
    expect(page.body.Resources[0]).toMatchObject({
      id: expect.any(String),
      userName: expect.any(String),
      active: true,
      name: { givenName: expect.any(String), familyName: expect.any(String) },
      emails: [expect.objectContaining({ value: expect.any(String) })],
    });

    // Required Test: Get Users/{id}
    const one = await scim.send('GET', `/Users/${seeded.body.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: seeded.body.id, active: true, name: { familyName: 'Chen' } });

    // Required Test: Test invalid User by username / by ID
    const none = await scim.send<{ totalResults: number; schemas: string[] }>(
      'GET',
      `/Users?filter=${encodeURIComponent('userName eq "nonexistent-user@example.invalid"')}`,
    );
    expect(none.status).toBe(200);
    expect(none.body.totalResults).toBe(0);
    expect(none.body.schemas).toContain(LIST);
    expectScimError(await scim.send('GET', '/Users/00000000000000000000'), 404);

    // Required Test: Make sure random user doesn't exist; Create Okta user with realistic values; Verify
    const userName = `${uniqueName('jordan')}@atko.com`;
    expect(
      (
        await scim.send<{ totalResults: number }>(
          'GET',
          `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`,
        )
      ).body.totalResults,
    ).toBe(0);
    const created = await scim.send<{ id: string }>('POST', '/Users', oktaUser(userName));
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ active: true, userName, name: { givenName: 'Jordan', familyName: 'Rivera' } });
    expect(created.body).not.toHaveProperty('password');
    const got = await scim.send('GET', `/Users/${created.body.id}`);
    expect(got.body).toMatchObject({ userName, name: { givenName: 'Jordan', familyName: 'Rivera' } });
    const upn = `${userName.split('@')[0]}@${domain}`;
    await accountWhen(upn, (a) => a.jobTitle === 'Engineer' && a.mobilePhone === '415.123.4567', 'the account created');

    // Required Test: Expect failure when recreating user with same values
    expectScimError(await scim.send('POST', '/Users', oktaUser(userName)), 409, 'uniqueness');

    // Required Test: Username Case Sensitivity Check
    const caps = await scim.send<{ totalResults: number; Resources: { userName: string }[] }>(
      'GET',
      `/Users?filter=${encodeURIComponent(`userName eq "${userName.toUpperCase()}"`)}`,
    );
    expect(caps.status).toBe(200);
    expect(caps.body.totalResults).toBe(1);
    expect(caps.body.Resources[0]!.userName).toBe(userName);

    // Optional Test: Verify Groups endpoint
    const groups = await scim.send<{ Resources: unknown[] }>('GET', '/Groups');
    expect(groups.status).toBe(200);
    expect(Array.isArray(groups.body.Resources)).toBe(true);

    // Required Test: Check status 401 / 404
    expectScimError(
      await scim.send(
        'GET',
        `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`,
        undefined,
        'non-token',
      ),
      401,
    );
    expectScimError(await scim.send('GET', '/Users/00919288221112222'), 404);
  });
});

describe('Okta SCIM 2.0 CRUD test', { timeout: 90_000 }, () => {
  it('create, read, PUT (read-modify-write), deactivate, reactivate, unassign: the account follows', async () => {
    const userName = `${uniqueName('riley')}@atko.com`;
    const upn = `${userName.split('@')[0]}@${domain}`;
    const created = await scim.send<{ id: string }>('POST', '/Users', oktaUser(userName, 'Riley', 'Okta'));
    expect(created.status, created.text).toBe(201);
    const id = created.body.id;
    const filtered = await scim.send<{ Resources: { id: string }[] }>(
      'GET',
      `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`,
    );
    expect(filtered.body.Resources.map((r) => r.id)).toEqual([id]);
    await accountWhen(upn, (a) => a.givenName === 'Riley', 'the account');

    // PUT: Okta reads the user, changes firstName, and sends the whole resource back (id, meta and all).
    const before = (await scim.send<{ name: Record<string, string> }>('GET', `/Users/${id}`)).body;
    const put = await scim.send('PUT', `/Users/${id}`, {
      ...before,
      name: { ...before.name, givenName: 'Rileyupdate' },
    });
    expect(put.status, put.text).toBe(200);
    expect(put.body).toMatchObject({
      name: { givenName: 'Rileyupdate', familyName: 'Okta' },
      meta: { version: 'W/"2"' },
    });
    await accountWhen(upn, (a) => a.givenName === 'Rileyupdate', 'the PUT applied');

    // Deactivate: Okta's documented PATCH.
    const off = await scim.send('PATCH', `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', value: { active: false } }],
    });
    expect(off.status, off.text).toBe(200);
    expect(off.body.active).toBe(false);
    await accountWhen(upn, (a) => a.accountEnabled === false, 'the account disabled');

    const on = await scim.send('PATCH', `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', value: { active: true } }],
    });
    expect(on.status, on.text).toBe(200);
    await accountWhen(upn, (a) => a.accountEnabled === true, 'the account enabled again');

    // Unassigned: Okta deactivates (it never deletes); PUT with active false, as older Okta apps send it.
    const current = (await scim.send('GET', `/Users/${id}`)).body;
    const unassigned = await scim.send('PUT', `/Users/${id}`, { ...current, active: false });
    expect(unassigned.status, unassigned.text).toBe(200);
    await accountWhen(upn, (a) => a.accountEnabled === false, 'the account disabled on unassignment');
    // Still there for Okta to find.
    expect((await scim.send('GET', `/Users/${id}`)).body).toMatchObject({ id, active: false });
  });
});

describe('Okta group push', { timeout: 120_000 }, () => {
  it('create with a member, rename (id in the value map), add and remove members, delete', async () => {
    const users = [];
    for (const who of ['ann', 'bob']) {
      const res = await scim.send<{ id: string }>('POST', '/Users', oktaUser(`${uniqueName(who)}@atko.com`));
      expect(res.status, res.text).toBe(201);
      users.push({
        id: res.body.id,
        upn: `${(res.body as unknown as { userName: string }).userName.split('@')[0]}@${domain}`,
      });
    }
    const [ann, bob] = users as [{ id: string; upn: string }, { id: string; upn: string }];
    // Okta pushes a group once its members are provisioned (assigned, then pushed).
    for (const u of users) await scim.linked('users', u.id);
    const displayName = uniqueName('Okta Push');
    const created = await scim.send<{ id: string; members: { value: string }[] }>('POST', '/Groups', {
      schemas: [GROUP],
      displayName,
      members: [{ value: ann.id, display: 'ann' }],
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body.members.map((m) => m.value)).toEqual([ann.id]);
    const id = created.body.id;
    const group = await scim.linked('groups', id);
    const memberOf = async (upn: string) => (await ctx.sim.controls.user(contosoTenant, upn)).memberOf;
    await waitFor(async () => (await memberOf(ann.upn)).includes(group.objectId) || undefined, {
      what: 'ann a member',
      timeoutMs: 30_000,
      intervalMs: 150,
    });

    const byName = await scim.send<{ totalResults: number }>(
      'GET',
      `/Groups?filter=${encodeURIComponent(`displayName eq "${displayName}"`)}&startIndex=1&count=100`,
    );
    expect(byName.body.totalResults).toBe(1);

    const rename = await scim.send('PATCH', `/Groups/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', value: { id, displayName: `${displayName} v2` } }],
    });
    expect(rename.status, rename.text).toBe(204);
    expect((await scim.send('GET', `/Groups/${id}`)).body.displayName).toBe(`${displayName} v2`);

    const add = await scim.send('PATCH', `/Groups/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'add', path: 'members', value: [{ value: bob.id, display: 'bob' }] }],
    });
    expect(add.status, add.text).toBe(204);
    await waitFor(async () => (await memberOf(bob.upn)).includes(group.objectId) || undefined, {
      what: 'bob a member',
      timeoutMs: 30_000,
      intervalMs: 150,
    });

    const remove = await scim.send('PATCH', `/Groups/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'remove', path: `members[value eq "${ann.id}"]` }],
    });
    expect(remove.status, remove.text).toBe(204);
    await waitFor(async () => !(await memberOf(ann.upn)).includes(group.objectId) || undefined, {
      what: 'ann removed',
      timeoutMs: 30_000,
      intervalMs: 150,
    });
    expect(await memberOf(bob.upn)).toContain(group.objectId);

    expect((await scim.send('DELETE', `/Groups/${id}`)).status).toBe(204);
    expectScimError(await scim.send('GET', `/Groups/${id}`), 404);
  });
});
