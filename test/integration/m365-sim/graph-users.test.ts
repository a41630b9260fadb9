// Users through the real Microsoft Graph JS client (TokenCredentialAuthenticationProvider + ClientSecretCredential).
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

describe('authentication and authorization (graph/errors, graph/auth-v2-service)', () => {
  it('answers a missing token with 401 InvalidAuthenticationToken in the Graph error shape with request ids', async () => {
    const res = await fetch(`${sim.graphBaseUrl}/v1.0/users`, { headers: { 'client-request-id': 'my-id' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const body = (await res.json()) as JsonBody;
    expect(body.error.code).toBe('InvalidAuthenticationToken');
    expect(body.error.innerError).toMatchObject({
      'client-request-id': 'my-id',
      'request-id': res.headers.get('request-id'),
    });
    expect(body.error.innerError.date).toBeTruthy();
  });

  it('answers an expired token with 401 once the simulated clock passes its exp', async () => {
    const token = await accessToken(sim, c.tenantId, c.fullApp.clientId, c.fullApp.secret);
    expect((await rawGraph(sim, token, 'GET', '/users')).status).toBe(200);
    await sim.controls.advanceClock({ hours: 2 });
    const res = await rawGraph(sim, token, 'GET', '/users');
    expect(res.status).toBe(401);
    expect(res.body!.error.message).toMatch(/expired/);
  });

  it('answers a forged token (bad signature) with 401', async () => {
    const token = await accessToken(sim, c.tenantId, c.fullApp.clientId, c.fullApp.secret);
    const [h, p] = token.split('.');
    const forged = `${h}.${p}.${Buffer.from('forged').toString('base64url')}`;
    expect((await rawGraph(sim, forged, 'GET', '/users')).status).toBe(401);
  });

  it('answers 403 Authorization_RequestDenied when the app lacks the permission (user-post-users, "Permissions")', async () => {
    const readOnly = sim.graphClientFor(sim.credentialFor(c.tenantId, c.readOnlyApp.clientId, c.readOnlyApp.secret));
    expect((await readOnly.api('/users').get()).value.length).toBe(3);
    const err = await graphFailure(readOnly.api('/users').post(newUserBody(`new@${c.domain}`)));
    expect(err.statusCode).toBe(403);
    expect(err.body.error).toMatchObject({
      code: 'Authorization_RequestDenied',
      message: 'Insufficient privileges to complete the operation.',
    });
    const none = sim.graphClientFor(
      sim.credentialFor(c.tenantId, c.noPermissionApp.clientId, c.noPermissionApp.secret),
    );
    expect((await graphFailure(none.api('/users').get())).statusCode).toBe(403);
  });
});

describe('create, read, update, delete (user-post-users, user-get, user-update, user-delete)', () => {
  it('creates a user (201), reads it by id and by UPN, patches it (204) and soft-deletes it (204)', async () => {
    const created = await graph
      .api('/users')
      .post(newUserBody(`jane.doe@${c.domain}`, { employeeId: 'E9', usageLocation: 'NL' }));
    expect(created).toMatchObject({ userPrincipalName: `jane.doe@${c.domain}`, displayName: 'jane.doe' });
    expect(created).not.toHaveProperty('passwordProfile');
    const byUpn = await graph
      .api(`/users/jane.doe@${c.domain}`)
      .select('id,employeeId,usageLocation,accountEnabled')
      .get();
    expect(byUpn).toMatchObject({ id: created.id, employeeId: 'E9', usageLocation: 'NL', accountEnabled: true });
    expect(await graph.api(`/users/${created.id}`).patch({ accountEnabled: false, jobTitle: 'Engineer' })).toBeFalsy();
    expect(await graph.api(`/users/${created.id}`).select('accountEnabled,jobTitle').get()).toMatchObject({
      accountEnabled: false,
      jobTitle: 'Engineer',
    });
    await graph.api(`/users/${created.id}`).delete();
    expect((await graphFailure(graph.api(`/users/${created.id}`).get())).body.error.code).toBe(
      'Request_ResourceNotFound',
    );
  });

  it('requires accountEnabled, displayName, mailNickname, userPrincipalName and passwordProfile on create', async () => {
    for (const prop of ['accountEnabled', 'displayName', 'mailNickname', 'userPrincipalName', 'passwordProfile']) {
      const body: Record<string, unknown> = newUserBody(`x@${c.domain}`);
      delete body[prop];
      const err = await graphFailure(graph.api('/users').post(body));
      expect(err.statusCode, prop).toBe(400);
      expect(err.body.error.code).toBe('Request_BadRequest');
      expect(err.body.error.message).toContain(prop);
    }
  });

  it('rejects a UPN whose domain is not a verified domain of the tenant (organization → verifiedDomains)', async () => {
    const err = await graphFailure(graph.api('/users').post(newUserBody('someone@unverified.example')));
    expect(err.statusCode).toBe(400);
    expect(err.body.error.message).toMatch(/verified domain/);
  });

  it("rejects a UPN Entra's username policy refuses (characters, a dot before the @, two @), on create and update", async () => {
    for (const upn of [
      '李雷@contoso.example',
      'ends.with.@contoso.example',
      'a@b@contoso.example',
      'sp ace@contoso.example',
    ]) {
      const err = await graphFailure(graph.api('/users').post(newUserBody(upn, { mailNickname: 'valid' })));
      expect(err.statusCode, upn).toBe(400);
      expect(err.body.error.message).toBe('Property userPrincipalName is invalid.');
    }
    expect(
      (await graphFailure(graph.api(`/users/${c.users.alex}`).patch({ userPrincipalName: 'ä@contoso.example' })))
        .statusCode,
    ).toBe(400);
  });

  it("lists a user's directory roles through transitiveMemberOf cast to directoryRole, with limited information for an app that may not read roles", async () => {
    const roles = (await graph
      .api(`/users/${c.users.admin}/transitiveMemberOf/microsoft.graph.directoryRole`)
      .header('ConsistencyLevel', 'eventual')
      .query({ $count: 'true' })
      .get()) as { value: { '@odata.type': string; id: string; displayName: string | null }[] };
    expect(roles.value).toEqual([
      expect.objectContaining({ '@odata.type': '#microsoft.graph.directoryRole', displayName: null }),
    ]);
    const none = (await graph.api(`/users/${c.users.alex}/transitiveMemberOf/microsoft.graph.directoryRole`).get()) as {
      value: unknown[];
    };
    expect(none.value).toEqual([]);
    expect((await graphFailure(graph.api('/directoryRoles').get())).statusCode).toBe(403);
  });

  it('answers a duplicate UPN with the documented ObjectConflict body', async () => {
    const res = await rawGraph(
      sim,
      await accessToken(sim, c.tenantId, c.fullApp.clientId, c.fullApp.secret),
      'POST',
      '/users',
      newUserBody(`ADELE.VANCE@${c.domain}`),
    );
    expect(res.status).toBe(400);
    expect(res.body!.error).toMatchObject({
      code: 'Request_BadRequest',
      message: 'Another object with the same value for property userPrincipalName already exists.',
      details: [{ target: 'userPrincipalName', code: 'ObjectConflict' }],
    });
  });

  it('validates bodies against the Graph schema: unknown property, wrong type, read-only property', async () => {
    const unknown = await graphFailure(
      graph.api('/users').post(newUserBody(`a@${c.domain}`, { favouriteColour: 'blue' })),
    );
    expect(unknown.statusCode).toBe(400);
    const wrongType = await graphFailure(graph.api(`/users/${c.users.alex}`).patch({ accountEnabled: 'yes' }));
    expect(wrongType.statusCode).toBe(400);
    const readOnly = await graphFailure(
      graph.api(`/users/${c.users.alex}`).patch({ createdDateTime: '2020-01-01T00:00:00Z' }),
    );
    expect(readOnly.statusCode).toBe(400);
  });

  it('refuses a value over the maximum length the user resource documents (jobTitle 128, displayName 256), accepts one at it', async () => {
    const tooLong = await graphFailure(graph.api(`/users/${c.users.alex}`).patch({ jobTitle: 'x'.repeat(129) }));
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.message).toBe("Invalid value specified for property 'jobTitle' of resource 'User'.");
    expect(
      (await graphFailure(graph.api('/users').post(newUserBody(`long@${c.domain}`, { displayName: 'd'.repeat(257) }))))
        .statusCode,
    ).toBe(400);
    await graph.api(`/users/${c.users.alex}`).patch({ jobTitle: 'x'.repeat(128) });
  });

  it('refuses to change sensitive properties of a privileged admin even with User.ReadWrite.All (user-update)', async () => {
    expect((await graphFailure(graph.api(`/users/${c.users.admin}`).patch({ accountEnabled: false }))).statusCode).toBe(
      403,
    );
    await graph.api(`/users/${c.users.admin}`).patch({ jobTitle: 'Boss' });
  });

  it('soft-deletes into deletedItems and restores (directory-deleteditems-restore)', async () => {
    await graph.api(`/users/${c.users.alex}`).delete();
    const deleted = await graph.api('/directory/deletedItems/microsoft.graph.user').get();
    expect(deleted.value.map((u: { id: string }) => u.id)).toContain(c.users.alex);
    const restored = await graph.api(`/directory/deletedItems/${c.users.alex}/restore`).post({});
    expect(restored.id).toBe(c.users.alex);
    expect((await graph.api(`/users/${c.users.alex}`).get()).userPrincipalName).toBe(`alex.wilber@${c.domain}`);
  });

  it('purges soft-deleted users after 30 days', async () => {
    await graph.api(`/users/${c.users.alex}`).delete();
    await sim.controls.advanceClock({ days: 31 });
    // The shared client's cached token has expired in simulated time: sign in afresh.
    const later = sim.graphClientFor(sim.credentialFor(c.tenantId, c.fullApp.clientId, c.fullApp.secret));
    expect((await graphFailure(later.api(`/directory/deletedItems/${c.users.alex}/restore`).post({}))).statusCode).toBe(
      404,
    );
  });
});

describe('list, filter, select, paging (user-list, paging, query-parameters)', () => {
  it('returns the documented default property set without $select and only the selected ones with it', async () => {
    const all = await graph.api('/users').get();
    expect(Object.keys(all.value[0]).sort()).toEqual(
      [
        'businessPhones',
        'displayName',
        'givenName',
        'id',
        'jobTitle',
        'mail',
        'mobilePhone',
        'officeLocation',
        'preferredLanguage',
        'surname',
        'userPrincipalName',
      ].sort(),
    );
    const selected = await graph.api('/users').select('id,employeeId').get();
    expect(Object.keys(selected.value[1]).sort()).toEqual(['employeeId', 'id']);
    expect((await graphFailure(graph.api('/users').select('notAProperty').get())).statusCode).toBe(400);
  });

  it('filters with eq on userPrincipalName, mail, employeeId, onPremisesImmutableId and id', async () => {
    await graph.api('/users').post(newUserBody(`imm@${c.domain}`, { onPremisesImmutableId: 'aW1tdXRhYmxl' }));
    const one = async (filter: string) =>
      (await graph.api('/users').filter(filter).select('id,userPrincipalName').get()).value;
    expect((await one(`userPrincipalName eq 'Adele.Vance@${c.domain}'`))[0].id).toBe(c.users.adele);
    expect((await one(`mail eq 'alex.wilber@${c.domain}'`))[0].id).toBe(c.users.alex);
    expect((await one(`employeeId eq 'E1002'`))[0].id).toBe(c.users.adele);
    expect((await one(`onPremisesImmutableId eq 'aW1tdXRhYmxl'`))[0].userPrincipalName).toBe(`imm@${c.domain}`);
    expect((await one(`id eq '${c.users.alex}'`))[0].id).toBe(c.users.alex);
    expect(await one(`employeeId eq 'nobody'`)).toEqual([]);
  });

  it('refuses advanced queries without ConsistencyLevel: eventual (aad-advanced-queries)', async () => {
    const err = await graphFailure(graph.api('/users').query({ $count: 'true' }).get());
    expect(err.statusCode).toBe(400);
    expect(err.body.error.code).toBe('Request_UnsupportedQuery');
  });

  it('pages by @odata.nextLink with $top (default 100, max 999) and keeps query options in the link', async () => {
    await sim.controls.generateUsers(c.tenantId, 250);
    const first = await graph.api('/users').select('id').get();
    expect(first.value).toHaveLength(100);
    const ids = new Set<string>(first.value.map((u: { id: string }) => u.id));
    let next: string | undefined = first['@odata.nextLink'];
    expect(next).toContain('$select=id');
    while (next) {
      const page = await graph.api(next).get();
      for (const u of page.value) ids.add(u.id);
      next = page['@odata.nextLink'];
    }
    expect(ids.size).toBe(253);
    expect((await graph.api('/users').top(999).select('id').get()).value).toHaveLength(253);
    expect((await graphFailure(graph.api('/users').top(1000).get())).statusCode).toBe(400);
  });

  it('keeps paging stable while users are created between pages', async () => {
    const first = await graph.api('/users').top(2).select('id').get();
    await graph.api('/users').post(newUserBody(`late@${c.domain}`));
    const second = await graph.api(first['@odata.nextLink']).get();
    const seen = [...first.value, ...second.value].map((u: { id: string }) => u.id);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toHaveLength(4);
  });
});

describe('organization and applications (organization-list, application-get)', () => {
  it('lists verified domains, and returns passwordCredentials with hint only', async () => {
    const org = await graph.api('/organization').get();
    expect(org.value[0].verifiedDomains.map((d: { name: string }) => d.name)).toEqual([c.initialDomain, c.domain]);
    const app = await graph
      .api(`/applications(appId='${c.fullApp.clientId}')`)
      .select('appId,passwordCredentials')
      .get();
    expect(app.passwordCredentials).toHaveLength(2);
    expect(app.passwordCredentials[0]).toMatchObject({ hint: 'sim', secretText: null });
    expect(JSON.stringify(app)).not.toContain(c.fullApp.secret);
    const soon = app.passwordCredentials.find((p: { displayName: string }) => p.displayName === 'rotating soon');
    expect(Date.parse(soon.endDateTime) - Date.now()).toBeLessThan(30 * 24 * 3600 * 1000);
  });
});

describe('several tenants at once', () => {
  it('serves each tenant its own directory to the same multi-tenant app', async () => {
    const f = DEFAULT_SEED.fabrikam;
    const fabrikam = sim.graphClientFor(sim.credentialFor(f.tenantId, f.fullApp.clientId, f.fullApp.secret));
    const users = await fabrikam.api('/users').get();
    expect(users.value.map((u: { userPrincipalName: string }) => u.userPrincipalName)).toEqual([`admin@${f.domain}`]);
    const err = await graphFailure(fabrikam.api('/users').post(newUserBody(`fed@${f.federatedDomain}`)));
    expect(err.body.error.message).toContain('onPremisesImmutableId');
    await fabrikam.api('/users').post(newUserBody(`fed@${f.federatedDomain}`, { onPremisesImmutableId: 'ZmVk' }));
    expect((await graph.api('/users').get()).value).toHaveLength(3);
  });
});

describe('request log (/_sim/requests)', () => {
  it('records method, path, status, app and the JSON body of Graph requests, with passwords redacted', async () => {
    const since = (await sim.controls.requests()).at(-1)?.seq ?? 0;
    const body = newUserBody(`logged.user@${c.domain}`);
    const created = (await graph.api('/users').post(body)) as { id: string };
    await graph.api(`/users/${created.id}`).patch({ jobTitle: 'Engineer' });
    const [post, patch] = await sim.controls.requests({ since, surface: 'graph' });
    expect(post).toMatchObject({
      method: 'POST',
      path: '/v1.0/users',
      status: 201,
      appId: c.fullApp.clientId,
      tenantId: c.tenantId,
    });
    expect(post!.body).toMatchObject({
      userPrincipalName: body.userPrincipalName,
      passwordProfile: { password: '[redacted]' },
    });
    expect(JSON.stringify(post)).not.toContain(body.passwordProfile.password);
    expect(patch).toMatchObject({
      method: 'PATCH',
      path: `/v1.0/users/${created.id}`,
      status: 204,
      body: { jobTitle: 'Engineer' },
    });
  });
});
