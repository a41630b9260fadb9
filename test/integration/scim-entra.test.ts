// Conformance with Microsoft Entra ID's SCIM client (issue 18): the request sequence Microsoft documents in
// "Tutorial: Develop and plan provisioning for a SCIM endpoint in Microsoft Entra ID" (User and Group operations)
// and the quirks of "Known issues and resolutions with SCIM 2.0 protocol compliance of the Microsoft Entra user
// provisioning service" (op names in any case, booleans as strings, no-path replace, members removed by filter,
// the manager as a string). Each request is sent as the client sends it, and its effect checked end to end: the
// account and group in the simulated tenant. Real local host, Azurite, simulated tenant.
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
const graph = () =>
  ctx.sim.graphClientFor(
    ctx.sim.credentialFor(
      DEFAULT_SEED.contoso.tenantId,
      DEFAULT_SEED.contoso.fullApp.clientId,
      DEFAULT_SEED.contoso.fullApp.secret,
    ),
  );
const domain = DEFAULT_SEED.contoso.domain;
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

let scim: ScimEndpoint;
beforeAll(async () => {
  // Entra sends no password: the connection generates one.
  scim = await scimEndpoint(ctx, { mapping: { generatePassword: true } });
});

/** Entra's Create User body (the tutorial's example, with names unique to the test). */
const entraUser = (userName: string, extra: Record<string, unknown> = {}) => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENTERPRISE],
  externalId: crypto.randomUUID(),
  userName: `${userName}@testuser.com`,
  active: true,
  emails: [{ primary: true, type: 'work', value: `${userName}@testuser.com` }],
  meta: { resourceType: 'User' },
  name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
  roles: [],
  ...extra,
});

const account = (upn: string) => ctx.sim.controls.user(contosoTenant, upn);
const accountWhen = (upn: string, probe: (a: Record<string, unknown>) => boolean, what: string) =>
  accountOf(ctx, upn, probe, what);

async function createUser(name = uniqueName('Test_User'), extra: Record<string, unknown> = {}) {
  const res = await scim.send<{ id: string; userName: string }>('POST', '/Users', entraUser(name, extra));
  expect(res.status, res.text).toBe(201);
  const link = await scim.linked('users', res.body.id);
  return { id: res.body.id, name, upn: `${name}@${domain}`, objectId: link.objectId, created: res };
}

describe('Microsoft Entra ID: user operations', { timeout: 90_000 }, () => {
  it('Create User: 201 with the full resource and Location; the account is created in Microsoft 365', async () => {
    const { id, upn, created } = await createUser();
    expect(created.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    expect(created.headers.get('location')).toBe(`${scim.base}/Users/${id}`);
    expect(created.body).toMatchObject({
      schemas: expect.arrayContaining(['urn:ietf:params:scim:schemas:core:2.0:User']),
      id,
      active: true,
      name: { familyName: 'familyName', givenName: 'givenName' },
      meta: { resourceType: 'User', location: `${scim.base}/Users/${id}`, version: 'W/"1"' },
    });
    expect(created.text).not.toContain('password');
    const a = await account(upn);
    expect(a).toMatchObject({ givenName: 'givenName', surname: 'familyName', accountEnabled: true });
    expect(a.mail).toMatch(/@testuser\.com$/);
  });

  it('Get User by query (userName, externalId, work email, and): one result; none is a 200 with totalResults 0', async () => {
    const { id, name } = await createUser();
    const user = (await scim.send<{ externalId: string }>('GET', `/Users/${id}`)).body;
    for (const filter of [
      `userName eq "${name}@testuser.com"`,
      `userName eq "${name.toUpperCase()}@TESTUSER.COM"`,
      `externalId eq "${user.externalId}"`,
      `emails[type eq "work"].value eq "${name}@testuser.com"`,
      `userName eq "${name}@testuser.com" and active eq true`,
    ]) {
      const res = await scim.send<{ totalResults: number; Resources: { id: string }[] }>(
        'GET',
        `/Users?filter=${encodeURIComponent(filter)}`,
      );
      expect(res.status, `${filter}: ${res.text}`).toBe(200);
      expect(res.body.totalResults, filter).toBe(1);
      expect(res.body.Resources[0]!.id).toBe(id);
    }
    const none = await scim.send('GET', `/Users?filter=${encodeURIComponent('userName eq "non-existent user"')}`);
    expect(none.status).toBe(200);
    expect(none.body).toEqual({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      totalResults: 0,
      startIndex: 1,
      itemsPerPage: 0,
      Resources: [],
    });
    expectScimError(await scim.send('GET', `/Users?filter=${encodeURIComponent('userName eq')}`), 400, 'invalidFilter');
  });

  it('Update User [multi-valued properties]: Replace emails[type eq "work"].value and name.familyName', async () => {
    const { id, upn } = await createUser();
    const res = await scim.send('PATCH', `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [
        { op: 'Replace', path: 'emails[type eq "work"].value', value: 'updatedEmail@microsoft.com' },
        { op: 'Replace', path: 'name.familyName', value: 'updatedFamilyName' },
      ],
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({
      name: { familyName: 'updatedFamilyName', givenName: 'givenName' },
      emails: [{ type: 'work', value: 'updatedEmail@microsoft.com', primary: true }],
      meta: { version: 'W/"2"' },
    });
    await accountWhen(
      upn,
      (a) => a.surname === 'updatedFamilyName' && a.mail === 'updatedEmail@microsoft.com',
      'the update',
    );
  });

  it('Update User [single-valued]: Replace userName renames the account; the old userName is free again', async () => {
    const { id, name, objectId } = await createUser();
    const renamed = uniqueName('Renamed');
    const res = await scim.send('PATCH', `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'Replace', path: 'userName', value: `${renamed}@testuser.com` }],
    });
    expect(res.status, res.text).toBe(200);
    const a = await accountWhen(`${renamed}@${domain}`, () => true, 'the renamed account');
    expect(a.id).toBe(objectId);
    const old = await scim.send<{ totalResults: number }>(
      'GET',
      `/Users?filter=${encodeURIComponent(`userName eq "${name}@testuser.com"`)}`,
    );
    expect(old.body.totalResults).toBe(0);
  });

  it('Disable User: Replace active false (and Entra\'s "False"); still returned by GET and filters', async () => {
    const { id, name, upn } = await createUser();
    const res = await scim.send('PATCH', `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.active).toBe(false);
    await accountWhen(upn, (a) => a.accountEnabled === false, 'the account disabled');
    expect((await scim.send('GET', `/Users/${id}`)).body.active).toBe(false);
    const found = await scim.send<{ totalResults: number }>(
      'GET',
      `/Users?filter=${encodeURIComponent(`userName eq "${name}@testuser.com"`)}`,
    );
    expect(found.body.totalResults).toBe(1);
    // Enabled again: the directory's word, whatever activateOnAssign says.
    const enabled = await scim.send('PATCH', `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', value: { active: 'True' } }],
    });
    expect(enabled.status, enabled.text).toBe(200);
    await accountWhen(upn, (a) => a.accountEnabled === true, 'the account enabled again');
  });

  it('no-path Replace with a value map (paths as keys), the enterprise extension, the manager as a string or {value}', async () => {
    const manager = await createUser();
    const { id, upn } = await createUser();
    const res = await scim.send('PATCH', `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [
        {
          op: 'replace',
          value: {
            displayName: 'Ellen Reckert',
            'name.givenName': 'Ellen',
            title: 'Accountant',
            [`${ENTERPRISE}:department`]: 'Human Resources US',
            [`${ENTERPRISE}:employeeNumber`]: '100009',
            'addresses[type eq "work"].country': 'US',
          },
        },
        { op: 'Add', path: `${ENTERPRISE}:manager`, value: manager.id },
      ],
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body[ENTERPRISE]).toMatchObject({ department: 'Human Resources US', manager: { value: manager.id } });
    await accountWhen(
      upn,
      (a) =>
        a.displayName === 'Ellen Reckert' &&
        a.givenName === 'Ellen' &&
        a.jobTitle === 'Accountant' &&
        a.department === 'Human Resources US' &&
        a.employeeId === '100009' &&
        a.country === 'US',
      'the profile',
    );
    const linkedManager = await waitFor(
      async () =>
        (
          (await graph()
            .api(`/users/${upn}/manager`)
            .get()
            .catch(() => undefined)) as { id: string } | undefined
        )?.id,
      { what: 'the manager linked', timeoutMs: 30_000, intervalMs: 150 },
    );
    expect(linkedManager).toBe(manager.objectId);
    // {value} form, and removal.
    const asObject = await scim.send('PATCH', `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', path: `${ENTERPRISE}:manager`, value: { value: manager.id } }],
    });
    expect(asObject.status, asObject.text).toBe(200);
    expect(asObject.body[ENTERPRISE]).toMatchObject({ manager: { value: manager.id } });
  });

  it('Delete User: 204, the account removed per the remove action, 404 afterwards', async () => {
    const { id, upn } = await createUser();
    const res = await scim.send('DELETE', `/Users/${id}`);
    expect(res.status, res.text).toBe(204);
    // removeAction disable (the default): the account is disabled.
    await accountWhen(upn, (a) => a.accountEnabled === false, 'the account removed (disabled)');
    expectScimError(await scim.send('GET', `/Users/${id}`), 404);
    expectScimError(await scim.send('DELETE', `/Users/${id}`), 404);
  });

  it('errors in SCIM format: duplicate userName 409 uniqueness, read-only id 400 mutability, bad PATCH 400', async () => {
    const { id, name } = await createUser();
    expectScimError(await scim.send('POST', '/Users', entraUser(name)), 409, 'uniqueness');
    expectScimError(await scim.send('POST', '/Users', entraUser(name.toUpperCase())), 409, 'uniqueness');
    expectScimError(
      await scim.send('PATCH', `/Users/${id}`, {
        schemas: [PATCH_OP],
        Operations: [{ op: 'replace', path: 'id', value: 'x' }],
      }),
      400,
      'mutability',
    );
    expectScimError(
      await scim.send('PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [] }),
      400,
      'invalidSyntax',
    );
    expectScimError(
      await scim.send('PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'move', path: 'title' }] }),
      400,
      'invalidSyntax',
    );
    expectScimError(
      await scim.send('PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'remove' }] }),
      400,
      'noTarget',
    );
    expectScimError(await scim.send('POST', '/Users', { schemas: [], active: true }), 400, 'invalidValue');
    expectScimError(await scim.send('POST', '/Users', 'not json{'), 400, 'invalidSyntax');
    expectScimError(await scim.send('GET', `/Users/${crypto.randomUUID()}`), 404);
    // A value the pipeline refuses (Graph's 64-character limit on givenName): nothing is kept.
    const tooLong = uniqueName('Long');
    expectScimError(
      await scim.send('POST', '/Users', entraUser(tooLong, { name: { givenName: 'x'.repeat(65), familyName: 'y' } })),
      400,
      'invalidValue',
    );
    const kept = await scim.send<{ totalResults: number }>(
      'GET',
      `/Users?filter=${encodeURIComponent(`userName eq "${tooLong}@testuser.com"`)}`,
    );
    expect(kept.body.totalResults).toBe(0);
    // A member that is no user or group of this endpoint: refused before the group is stored.
    const orphan = uniqueName('Orphan Group');
    const member = await createUser();
    expectScimError(
      await scim.send('POST', '/Groups', {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
        displayName: orphan,
        members: [{ value: member.id }, { value: 'nobody-here' }],
      }),
      400,
      'invalidValue',
    );
    const noGroup = await scim.send<{ totalResults: number }>(
      'GET',
      `/Groups?filter=${encodeURIComponent(`displayName eq "${orphan}"`)}`,
    );
    expect(noGroup.body.totalResults).toBe(0);
  });
});

describe('Microsoft Entra ID: group operations', { timeout: 120_000 }, () => {
  it('Create Group, get it without members, by displayName; Add and Remove members (204), rename, delete', async () => {
    const [u1, u2] = [await createUser(), await createUser()];
    const displayName = uniqueName('Entra Group');
    const created = await scim.send<{ id: string }>('POST', '/Groups', {
      schemas: [
        'urn:ietf:params:scim:schemas:core:2.0:Group',
        'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group',
      ],
      externalId: crypto.randomUUID(),
      displayName,
      meta: { resourceType: 'Group' },
    });
    expect(created.status, created.text).toBe(201);
    const id = created.body.id;
    expect(created.headers.get('location')).toBe(`${scim.base}/Groups/${id}`);
    const group = await scim.linked('groups', id);

    const got = await scim.send('GET', `/Groups/${id}?excludedAttributes=members`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id, displayName });
    expect(got.body).not.toHaveProperty('members');
    const byName = await scim.send<{ totalResults: number; Resources: Record<string, unknown>[] }>(
      'GET',
      `/Groups?excludedAttributes=members&filter=${encodeURIComponent(`displayName eq "${displayName}"`)}`,
    );
    expect(byName.body.totalResults).toBe(1);
    expect(byName.body.Resources[0]).not.toHaveProperty('members');

    const add = await scim.send('PATCH', `/Groups/${id}`, {
      schemas: [PATCH_OP],
      Operations: [
        {
          op: 'Add',
          path: 'members',
          value: [
            { $ref: null, value: u1.id },
            { $ref: null, value: u2.id },
          ],
        },
      ],
    });
    expect(add.status, add.text).toBe(204);
    const members = async () => (await ctx.sim.controls.user(contosoTenant, u1.upn)).memberOf;
    await waitFor(async () => (await members()).includes(group.objectId) || undefined, {
      what: 'u1 a member',
      timeoutMs: 30_000,
      intervalMs: 150,
    });
    expect((await ctx.sim.controls.user(contosoTenant, u2.upn)).memberOf).toContain(group.objectId);

    // Remove by value array (Entra today) and by filter (Entra before its 2020 fix).
    const remove = await scim.send('PATCH', `/Groups/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'Remove', path: 'members', value: [{ $ref: null, value: u1.id }] }],
    });
    expect(remove.status, remove.text).toBe(204);
    const removeByFilter = await scim.send('PATCH', `/Groups/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'Remove', path: `members[value eq "${u2.id}"]` }],
    });
    expect(removeByFilter.status, removeByFilter.text).toBe(204);
    await waitFor(
      async () =>
        (!(await members()).includes(group.objectId) &&
          !(await ctx.sim.controls.user(contosoTenant, u2.upn)).memberOf.includes(group.objectId)) ||
        undefined,
      { what: 'both removed', timeoutMs: 30_000, intervalMs: 150 },
    );

    const renamed = `${displayName} (renamed)`;
    const rename = await scim.send('PATCH', `/Groups/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'Replace', path: 'displayName', value: renamed }],
    });
    expect(rename.status, rename.text).toBe(204);
    await waitFor(
      async () => {
        const requests = await ctx.sim.controls.requests({ tenantId: contosoTenant });
        return (
          requests.some(
            (r) => r.method === 'PATCH' && r.path.includes(group.objectId) && JSON.stringify(r.body).includes(renamed),
          ) || undefined
        );
      },
      { what: 'the rename sent to Graph', timeoutMs: 30_000, intervalMs: 200 },
    );

    expectScimError(
      await scim.send('PATCH', `/Groups/${id}`, {
        schemas: [PATCH_OP],
        Operations: [{ op: 'Add', path: 'members', value: [{ value: crypto.randomUUID() }] }],
      }),
      400,
      'invalidValue',
    );

    const deleted = await scim.send('DELETE', `/Groups/${id}`);
    expect(deleted.status, deleted.text).toBe(204);
    expectScimError(await scim.send('GET', `/Groups/${id}`), 404);
  });
});

describe('discovery', () => {
  it('ServiceProviderConfig, ResourceTypes and Schemas', async () => {
    const spc = await scim.send('GET', '/ServiceProviderConfig');
    expect(spc.status).toBe(200);
    expect(spc.body).toMatchObject({
      patch: { supported: true },
      filter: { supported: true },
      bulk: { supported: false },
    });
    const types = await scim.send<{ Resources: { id: string; endpoint: string }[] }>('GET', '/ResourceTypes');
    expect(types.body.Resources.map((r) => r.endpoint)).toEqual(['/Users', '/Groups']);
    const schemas = await scim.send<{ Resources: { id: string }[] }>('GET', '/Schemas');
    expect(schemas.body.Resources.map((r) => r.id)).toEqual([
      'urn:ietf:params:scim:schemas:core:2.0:User',
      ENTERPRISE,
      'urn:ietf:params:scim:schemas:core:2.0:Group',
    ]);
    const user = await scim.send<{ attributes: { name: string }[] }>(
      'GET',
      '/Schemas/urn:ietf:params:scim:schemas:core:2.0:User',
    );
    expect(user.status).toBe(200);
    expect(user.body.attributes.map((a) => a.name)).toContain('userName');
    expectScimError(await scim.send('GET', '/Schemas/urn:nope'), 404);
  });
});
