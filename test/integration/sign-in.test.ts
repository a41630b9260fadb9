// Entra ID sign-in against the simulated tenant: the app registration of this API (dev/m365-sim/default-seed.json,
// consoleApp) defines the app roles Provisioning.Admin (assigned to the tenant admin) and Provisioning.Reader
// (Adele); the app validates the v2 access tokens the simulated identity platform issues with jose against its
// JWKS. Function keys keep working (as Provisioning.Admin), checked by the local Functions host.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../shared/domain/config-audit.js';
import type { ConnectionView } from '../../shared/domain/connection.js';
import { type AppHost, startAppHost } from '../support/app-host.js';
import { signInAs } from '../support/sign-in.js';
import { contosoConnection, DEFAULT_SEED, startTestTenant, type TestTenant } from '../support/simulated-tenant.js';
import { uniqueName } from '../support/unique.js';
import { decodeJwt as claimsOf } from './m365-sim/helpers.js';

const contoso = DEFAULT_SEED.contoso;
const ADMIN_ROLE = 'Provisioning.Admin';
const READER_ROLE = 'Provisioning.Reader';

let sim: TestTenant;
let app: AppHost;

beforeAll(async () => {
  sim = await startTestTenant();
  // Read once per process, before the functions are registered (sign-in decides the admin routes' authLevel).
  process.env.ENTRA_TENANT_ID = contoso.tenantId;
  process.env.ENTRA_CLIENT_ID = contoso.consoleApp.clientId;
  process.env.ENTRA_AUTHORITY_HOST = sim.authorityHost;
  // As on App Service with authentication on: the platform sets this and the x-ms-client-principal-* headers.
  process.env.WEBSITE_AUTH_ENABLED = 'true';
  app = await startAppHost();
});

afterAll(async () => {
  await app?.stop();
  await sim?.close();
});

const bearer = (token: string) => ({ key: false, headers: { authorization: `Bearer ${token}` } });

const newConnection = () => contosoConnection(sim, uniqueName('signin'));

function expectProblem(res: { status: number; headers: Headers; body: unknown }, status: number, code: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(res.body).toMatchObject({ status, code });
}

const connectionNames = async () =>
  (await app.api<{ value: ConnectionView[] }>('GET', '/api/connections?limit=500')).body.value.map((c) => c.name);

describe('Entra ID sign-in with app roles', () => {
  it('GET /api/auth/config names what a browser needs to sign in (no secret)', async () => {
    const res = await app.api('GET', '/api/auth/config', undefined, { key: false });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      signIn: {
        authority: `${sim.authorityHost}/${contoso.tenantId}`,
        tenantId: contoso.tenantId,
        clientId: contoso.consoleApp.clientId,
        scopes: [contoso.consoleApp.scope],
      },
      csrfHeader: { name: 'x-requested-with', value: 'm365-provisioner-console' },
    });
  });

  it("the console's CSP lets it reach the authority (discovery and the token request), and nothing else", async () => {
    const res = await app.api('GET', '/api/console/', undefined, { key: false });
    const directives = res.headers.get('content-security-policy')!.split('; ');
    expect(directives).toContain(`connect-src 'self' ${new URL(sim.authorityHost).origin}`);
    expect(directives).toContain("script-src 'self'");
    expect(directives).toContain("form-action 'self'");
  });

  it('an Admin may read and write; the audit log names the signed-in principal', async () => {
    const token = await signInAs(sim, contoso.admin);
    expect(claimsOf(token)).toMatchObject({ roles: [ADMIN_ROLE], aud: contoso.consoleApp.clientId, ver: '2.0' });

    const me = await app.api('GET', '/api/me', undefined, bearer(token));
    expect(me.status, me.text).toBe(200);
    expect(me.body).toEqual({
      actor: { type: 'principal', name: contoso.admin, id: contoso.users.admin, identityProvider: 'aad' },
      roles: [ADMIN_ROLE],
      canWrite: true,
    });

    const created = await app.api<ConnectionView>('POST', '/api/connections', newConnection(), bearer(token));
    expect(created.status, created.text).toBe(201);
    const patched = await app.api(
      'PATCH',
      `/api/connections/${created.body.id}/settings`,
      { usageLocation: 'DE' },
      bearer(token),
    );
    expect(patched.status, patched.text).toBe(200);

    const audit = await app.api<{ value: AuditEntry[] }>(
      'GET',
      `/api/connections/${created.body.id}/audit`,
      undefined,
      bearer(token),
    );
    expect(audit.body.value.map((e) => [e.action, e.actor])).toEqual([
      [
        'settings.patched',
        { type: 'principal', name: contoso.admin, id: contoso.users.admin, identityProvider: 'aad' },
      ],
      [
        'connection.created',
        { type: 'principal', name: contoso.admin, id: contoso.users.admin, identityProvider: 'aad' },
      ],
    ]);
  });

  it('a Reader may read, and every write is refused with 403 read-only-role (nothing changes)', async () => {
    const token = await signInAs(sim, 'adele.vance@contoso.example');
    expect(claimsOf(token).roles).toEqual([READER_ROLE]);
    const existing = await app.api<ConnectionView>('POST', '/api/connections', newConnection());
    expect(existing.status).toBe(201);

    const me = await app.api('GET', '/api/me', undefined, bearer(token));
    expect(me.body).toMatchObject({
      roles: [READER_ROLE],
      canWrite: false,
      actor: { name: 'adele.vance@contoso.example' },
    });
    const list = await app.api<{ value: ConnectionView[] }>(
      'GET',
      '/api/connections?limit=500',
      undefined,
      bearer(token),
    );
    expect(list.status).toBe(200);
    expect(list.body.value.map((c) => c.id)).toContain(existing.body.id);
    expect(
      (await app.api('GET', `/api/connections/${existing.body.id}/settings`, undefined, bearer(token))).status,
    ).toBe(200);

    const before = await connectionNames();
    const attempt = newConnection();
    expectProblem(await app.api('POST', '/api/connections', attempt, bearer(token)), 403, 'read-only-role');
    expectProblem(
      await app.api('PATCH', `/api/connections/${existing.body.id}/settings`, { dryRun: true }, bearer(token)),
      403,
      'read-only-role',
    );
    expectProblem(
      await app.api('DELETE', `/api/connections/${existing.body.id}`, undefined, bearer(token)),
      403,
      'read-only-role',
    );
    // A GET that starts a consent changes the connection: a write.
    expectProblem(
      await app.api('GET', `/api/connections/${existing.body.id}/admin-consent`, undefined, bearer(token)),
      403,
      'read-only-role',
    );
    expect(await connectionNames()).toEqual(before);
    const settings = await app.api<{ dryRun: boolean }>('GET', `/api/connections/${existing.body.id}/settings`);
    expect(settings.body.dryRun).toBe(false);
    const audit = await app.api<{ value: AuditEntry[] }>('GET', `/api/connections/${existing.body.id}/audit`);
    expect(audit.body.value.map((e) => e.action)).toEqual(['connection.created']);
  });

  it('a signed-in user without an app role of the app may not even read (403 role-required)', async () => {
    const token = await signInAs(sim, 'alex.wilber@contoso.example');
    expect(claimsOf(token).roles).toBeUndefined();
    expectProblem(await app.api('GET', '/api/connections', undefined, bearer(token)), 403, 'role-required');
    expectProblem(await app.api('GET', '/api/me', undefined, bearer(token)), 403, 'role-required');
  });

  it('refuses with 401 invalid-token a token for another audience, of another tenant, expired, unsigned or tampered', async () => {
    const admin = await signInAs(sim, contoso.admin);
    const reader = await signInAs(sim, 'adele.vance@contoso.example');
    const otherAudience = await signInAs(sim, contoso.admin, { scope: contoso.otherApiScope });
    expect(claimsOf(otherAudience).aud).not.toBe(contoso.consoleApp.clientId);
    // The same app registration in another tenant: same audience, signed by the same platform, wrong issuer.
    const otherTenant = await signInAs(sim, DEFAULT_SEED.fabrikam.admin, { tenantId: DEFAULT_SEED.fabrikam.tenantId });
    expect(claimsOf(otherTenant)).toMatchObject({ aud: contoso.consoleApp.clientId, roles: [ADMIN_ROLE] });
    // An app-only Graph token of the tenant (v1: another issuer and audience).
    const graph = (
      await sim
        .credentialFor(contoso.tenantId, contoso.fullApp.clientId, contoso.fullApp.secret)
        .getToken('https://graph.microsoft.com/.default')
    ).token;
    await sim.controls.settings({ apiTokenBackdateSeconds: 2 * 3600 });
    const expired = await signInAs(sim, contoso.admin);
    await sim.controls.settings({ apiTokenBackdateSeconds: 0 });
    expect(Number(claimsOf(expired).exp) * 1000).toBeLessThan(Date.now() - 3600_000);
    const [, payload] = admin.split('.');
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
    const [readerHeader, , readerSignature] = reader.split('.');
    const elevated = Buffer.from(JSON.stringify({ ...claimsOf(reader), roles: [ADMIN_ROLE] })).toString('base64url');
    const tampered = `${readerHeader}.${elevated}.${readerSignature}`;

    const cases: [string, string, RegExp][] = [
      ['another audience', otherAudience, /another audience/],
      ['another tenant', otherTenant, /not issued by the configured tenant/],
      ['a Graph token', graph, /not issued by the configured tenant|another audience/],
      ['expired', expired, /expired/],
      ['unsigned', unsigned, /not signed with RS256|not a valid signed JWT/],
      ['tampered', tampered, /signature/],
      ['not a JWT', 'not-a-token', /not a valid signed JWT/],
    ];
    const before = await connectionNames();
    for (const [what, token, reason] of cases) {
      const res = await app.api('POST', '/api/connections', newConnection(), bearer(token));
      expectProblem(res, 401, 'invalid-token');
      expect(res.headers.get('www-authenticate'), what).toBe('Bearer error="invalid_token"');
      expect((res.body as { detail: string }).detail, what).toMatch(reason);
      expect(res.text, what).not.toContain(token);
      expectProblem(await app.api('GET', '/api/connections', undefined, bearer(token)), 401, 'invalid-token');
    }
    expect(await connectionNames()).toEqual(before);
    // The same admin token, untouched, is accepted.
    expect((await app.api('GET', '/api/me', undefined, bearer(admin))).status).toBe(200);
  });

  it('without a credential: 401 authentication-required with a Bearer challenge; a wrong key is refused too', async () => {
    const none = await app.api('GET', '/api/connections', undefined, { key: false });
    expectProblem(none, 401, 'authentication-required');
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expectProblem(
      await app.api('POST', '/api/connections', newConnection(), {
        key: false,
        headers: { 'x-functions-key': 'wrong' },
      }),
      401,
      'authentication-required',
    );
    expectProblem(
      await app.api('GET', '/api/me?code=wrong', undefined, { key: false }),
      401,
      'authentication-required',
    );
    expectProblem(
      await app.api('GET', '/api/connections', undefined, { key: false, headers: { authorization: 'Basic abc' } }),
      401,
      'invalid-token',
    );
  });

  it('a function key still works, as Provisioning.Admin (header or ?code=), checked by the host', async () => {
    const me = await app.api('GET', '/api/me');
    expect(me.status, me.text).toBe(200);
    expect(me.body).toEqual({
      actor: { type: 'function-key', keyId: expect.stringMatching(/^sha256:[0-9a-f]{12}$/) },
      roles: [ADMIN_ROLE],
      canWrite: true,
    });
    expect(me.text).not.toContain(app.host.functionKey);
    const viaQuery = await app.api('GET', `/api/me?code=${app.host.functionKey}`, undefined, { key: false });
    expect(viaQuery.body).toEqual(me.body);
    const created = await app.api('POST', '/api/connections', newConnection());
    expect(created.status, created.text).toBe(201);
  });

  describe('App Service authentication headers are never trusted with sign-in on (WEBSITE_AUTH_ENABLED is set here)', () => {
    // What App Service authentication would send for a signed-in browser, here forged by a caller: on Flex
    // Consumption the platform may not strip them from outside requests, and the app validates tokens itself.
    const forged = (upn: string, id: string, roles: string[]) => ({
      cookie: 'AppServiceAuthSession=opaque-session-value',
      'x-ms-client-principal-name': upn,
      'x-ms-client-principal-id': id,
      'x-ms-client-principal-idp': 'aad',
      'x-ms-client-principal': Buffer.from(
        JSON.stringify({
          auth_typ: 'aad',
          name_typ: 'preferred_username',
          role_typ: 'roles',
          claims: [{ typ: 'preferred_username', val: upn }, ...roles.map((r) => ({ typ: 'roles', val: r }))],
        }),
      ).toString('base64'),
      'x-requested-with': 'm365-provisioner-console',
    });
    const forgedAdmin = forged(contoso.admin, contoso.users.admin, [ADMIN_ROLE]);

    it('a forged principal claiming Provisioning.Admin is 401, for reads and for changes (with the CSRF header too)', async () => {
      const before = await connectionNames();
      const me = await app.api('GET', '/api/me', undefined, { key: false, headers: forgedAdmin });
      expectProblem(me, 401, 'authentication-required');
      expect(me.headers.get('www-authenticate')).toBe('Bearer');
      expectProblem(
        await app.api('GET', '/api/connections', undefined, { key: false, headers: forgedAdmin }),
        401,
        'authentication-required',
      );
      expectProblem(
        await app.api('POST', '/api/connections', newConnection(), { key: false, headers: forgedAdmin }),
        401,
        'authentication-required',
      );
      expect(await connectionNames()).toEqual(before);
    });

    it("beside a Reader's token, the forged Admin principal changes neither who calls nor what it may do", async () => {
      const reader = await signInAs(sim, 'adele.vance@contoso.example');
      const headers = { ...forgedAdmin, authorization: `Bearer ${reader}` };
      const me = await app.api('GET', '/api/me', undefined, { key: false, headers });
      expect(me.body).toMatchObject({
        actor: { type: 'principal', name: 'adele.vance@contoso.example', id: contoso.users.adele },
        roles: [READER_ROLE],
        canWrite: false,
      });
      expectProblem(
        await app.api('POST', '/api/connections', newConnection(), { key: false, headers }),
        403,
        'read-only-role',
      );
    });

    it("a SCIM token made with an Admin's token is audited as that Admin, not as a forged principal", async () => {
      const admin = await signInAs(sim, contoso.admin);
      const created = await app.api<ConnectionView>('POST', '/api/connections', newConnection(), bearer(admin));
      const headers = {
        ...forged('mallory@contoso.example', contoso.users.alex, [ADMIN_ROLE]),
        authorization: `Bearer ${admin}`,
      };
      const token = await app.api(
        'POST',
        `/api/connections/${created.body.id}/scim-token`,
        {},
        { key: false, headers },
      );
      expect(token.status, token.text).toBe(201);
      const audit = await app.api<{ value: AuditEntry[] }>('GET', `/api/connections/${created.body.id}/audit`);
      const made = audit.body.value.find((e) => e.action === 'scim-token.created');
      expect(made?.actor).toEqual({
        type: 'principal',
        name: contoso.admin,
        id: contoso.users.admin,
        identityProvider: 'aad',
      });
    });

    it('beside a function key, the audit log names the key, not the forged principal; no CSRF header is needed', async () => {
      const { cookie, ...principalHeaders } = forgedAdmin;
      const { 'x-requested-with': _csrf, ...withoutCsrf } = { cookie, ...principalHeaders };
      const created = await app.api<ConnectionView>('POST', '/api/connections', newConnection(), {
        headers: withoutCsrf,
      });
      expect(created.status, created.text).toBe(201);
      const audit = await app.api<{ value: AuditEntry[] }>('GET', `/api/connections/${created.body.id}/audit`);
      expect(audit.body.value[0]!.actor).toEqual({
        type: 'function-key',
        keyId: expect.stringMatching(/^sha256:[0-9a-f]{12}$/),
      });
      const token = await signInAs(sim, contoso.admin);
      expect((await app.api('POST', '/api/connections', newConnection(), bearer(token))).status).toBe(201);
    });
  });
});
