// Issue 15, point 4: mistakes are caught when the admin makes them (POST …/changes, PUT settings, test connection),
// not later, user by user, in the provisioning log. Through the exit doors: HTTP answers, what the simulated tenant
// received, the user state and the provisioning log. Real Azurite, @azure/identity, Graph client and simulated
// tenant; nothing of ours is mocked.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SeedDocument } from '../../dev/m365-sim/seed.js';
import { REPO_ROOT } from '../../dev/paths.js';
import { testResultSchema } from '../../shared/domain/connection.js';
import { useAppWithTenant } from '../support/app-host.js';
import { person, provisioningApi } from '../support/provisioning-api.js';
import { DEFAULT_SEED } from '../support/simulated-tenant.js';
import { uniqueName } from '../support/unique.js';

const contoso = DEFAULT_SEED.contoso;
const fabrikam = DEFAULT_SEED.fabrikam;
const ctx = useAppWithTenant();
const { createConnection, readyConnection, submit, logOf } = provisioningApi(ctx, 'checks');

interface Accepted {
  operations: {
    operationId: string;
    externalId: string;
    version: number;
    stale?: boolean;
    heldVersion?: number;
    warnings?: { field: string; message: string }[];
  }[];
}
interface Problem {
  code: string;
  detail?: string;
  errors: { field: string; message: string }[];
}

const postChanges = <T>(connectionId: string, body: unknown) =>
  ctx.app.api<T>('POST', `/api/connections/${connectionId}/changes`, body);
const userStatus = async (connectionId: string, externalId: string) =>
  (await ctx.app.api('GET', `/api/connections/${connectionId}/users/${encodeURIComponent(externalId)}`)).status;
/** A unique directory userName (each account's UPN is `<userName>@contoso.example`). */
const userName = (prefix: string) => uniqueName(prefix).replace('-', '.');
const upsert = (externalId: string, version: number, attributes: Record<string, unknown>) => ({
  type: 'upsert',
  externalId,
  version,
  attributes,
});
const without = (attributes: Record<string, unknown>, ...names: string[]) =>
  Object.fromEntries(Object.entries(attributes).filter(([k]) => !names.includes(k)));

/** Adds (or replaces) one rule of the connection's mapping. */
async function mapRule(connectionId: string, target: string, rule: Record<string, unknown>): Promise<void> {
  const { mapping } = (
    await ctx.app.api<{ mapping: { properties: Record<string, unknown> } }>(
      'GET',
      `/api/connections/${connectionId}/mapping`,
    )
  ).body;
  const put = await ctx.app.api('PUT', `/api/connections/${connectionId}/mapping`, {
    ...mapping,
    properties: { ...mapping.properties, [target]: rule },
  });
  expect(put.status, put.text).toBe(200);
}

async function runTest(connectionId: string) {
  const res = await ctx.app.api('POST', `/api/connections/${connectionId}/test`);
  expect(res.status, res.text).toBe(200);
  return testResultSchema.parse(res.body);
}
const check = (result: { checks: { name: string; ok: boolean; detail: string }[] }, name: string) =>
  result.checks.find((c) => c.name === name);

describe('POST …/changes checks each change against the mapping', () => {
  it('warns "did you mean" for an attribute the mapping does not read when it is close to one it does', async () => {
    const conn = await readyConnection();
    const ext = uniqueName('emp');
    const res = await postChanges<Accepted>(
      conn,
      upsert(ext, 1, person(userName('typo'), { jobTtile: 'Engineer', GivenName: 'X', costCentre: 'C-17' })),
    );
    expect(res.status, res.text).toBe(202);
    expect(res.body.operations[0]!.warnings).toEqual([
      {
        field: 'attributes.jobTtile',
        message: "is not read by the connection's mapping: did you mean 'jobTitle'?",
      },
      {
        field: 'attributes.GivenName',
        message: "is not read by the connection's mapping: did you mean 'givenName'?",
      },
    ]);
    // A warning is not a refusal: the change was enqueued and applied.
    expect((await logOf(conn, ext, res.body.operations[0]!.operationId)).result).toBe('applied');
  });

  it('refuses a batch with a create Microsoft 365 would refuse, naming each change and property; nothing is enqueued', async () => {
    const conn = await readyConnection();
    const [ok, chinese, noPassword, noName] = ['ok', 'li', 'nopw', 'noname'].map((p) => uniqueName(p));
    const res = await postChanges<Problem>(conn, {
      changes: [
        upsert(ok!, 1, person(userName('fine'))),
        upsert(chinese!, 1, {
          userName: '李雷',
          givenName: '雷',
          familyName: '李',
          active: true,
          password: 'Initial-Pa55word!',
        }),
        upsert(noPassword!, 1, without(person(userName('nopw')), 'password')),
        upsert(noName!, 1, { userName: userName('noname'), active: true, password: 'Initial-Pa55word!' }),
      ],
    });
    expect(res.status, res.text).toBe(400);
    expect(res.body.code).toBe('validation-failed');
    const upnChars = `Entra allows only A–Z a–z 0–9 ' . - _ ! # ^ ~ before the "@"`;
    expect(res.body.errors).toEqual([
      {
        field: 'changes.1.attributes.userName',
        message: `${chinese} cannot be created: mailNickname has no value (the mapping made nothing of userName "李雷": Exchange allows only A–Z a–z 0–9 ! # $ % & ' * + - / = ? ^ _ \` { | } ~ and . in an alias), and Microsoft 365 needs one to create a user`,
      },
      {
        field: 'changes.1.attributes.userName',
        message: `${chinese} cannot be created: userPrincipalName has no value (the mapping made nothing of userName "李雷": ${upnChars}), and Microsoft 365 needs one to create a user`,
      },
      {
        field: 'changes.2.attributes.password',
        message: `${noPassword} cannot be created: passwordProfile.password has no value, and Microsoft 365 needs one to create a user`,
      },
      {
        field: 'changes.3.attributes',
        message: `${noName} cannot be created: displayName has no value (from displayName, familyName, givenName), and Microsoft 365 needs one to create a user`,
      },
    ]);
    // All or nothing: not even the valid first change reached the queue.
    const deadline = Date.now() + 3000;
    do {
      for (const ext of [ok!, chinese!, noPassword!, noName!]) expect(await userStatus(conn, ext)).toBe(404);
      await new Promise((r) => setTimeout(r, 250));
    } while (Date.now() < deadline);
  });

  it('refuses a userPrincipalName the mapping produces that Entra does not accept', async () => {
    const conn = await readyConnection();
    await mapRule(conn, 'userPrincipalName', { expression: 'concat(localPart(userName), "@{domain}")' });
    const ext = uniqueName('emp');
    const res = await postChanges<Problem>(conn, upsert(ext, 1, person('lei.', { userName: '李.lei' })));
    expect(res.status, res.text).toBe(400);
    expect(res.body.errors).toEqual([
      {
        field: 'attributes.userName',
        message: `${ext} cannot be created: userPrincipalName "李.lei@contoso.example" is not valid in Microsoft Entra: "李" not allowed before the "@" (allowed: A–Z a–z 0–9 ' . - _ ! # ^ ~)`,
      },
    ]);
    const dotted = await postChanges<Problem>(conn, upsert(ext, 1, person('lei.')));
    expect(dotted.body.errors).toEqual([
      {
        field: 'attributes.userName',
        message: `${ext} cannot be created: userPrincipalName "lei.@contoso.example" is not valid in Microsoft Entra: a "." right before the "@"`,
      },
    ]);
    expect(await userStatus(conn, ext)).toBe(404);
  });

  it('accepts the same incomplete upsert for a linked user (an update needs no password) or when creating is off', async () => {
    const conn = await readyConnection();
    const ext = uniqueName('emp');
    const name = userName('linked');
    await logOf(conn, ext, await submit(conn, upsert(ext, 1, person(name))), 'applied');
    const update = await submit(conn, upsert(ext, 2, without(person(name, { jobTitle: 'Lead' }), 'password')));
    expect((await logOf(conn, ext, update)).result).toBe('applied');

    const noCreate = await readyConnection({ allowCreate: false });
    const res = await postChanges<Accepted>(noCreate, upsert(uniqueName('emp'), 1, { userName: '李雷', active: true }));
    expect(res.status, res.text).toBe(202);
  });

  it('answers a change that is not newer than the version held as stale, enqueues it, and logs it skipped (stale)', async () => {
    const conn = await readyConnection();
    const ext = uniqueName('emp');
    const name = userName('stale');
    await logOf(conn, ext, await submit(conn, upsert(ext, 5, person(name, { jobTitle: 'v5' }))), 'applied');
    const res = await postChanges<Accepted>(conn, {
      changes: [
        upsert(ext, 3, person(name, { jobTitle: 'v3' })),
        { type: 'deactivate', externalId: ext, version: 5 },
        upsert(ext, 6, person(name, { jobTitle: 'v6' })),
        upsert(ext, 6, person(name, { jobTitle: 'v6 again' })),
      ],
    });
    expect(res.status, res.text).toBe(202);
    expect(res.body.operations.map(({ version, stale, heldVersion }) => ({ version, stale, heldVersion }))).toEqual([
      { version: 3, stale: true, heldVersion: 5 },
      { version: 5, stale: true, heldVersion: 5 },
      { version: 6, stale: undefined, heldVersion: undefined },
      // The same version twice in one request: the second adds nothing to the first.
      { version: 6, stale: true, heldVersion: 6 },
    ]);
    const record = await logOf(conn, ext, res.body.operations[0]!.operationId);
    expect(record).toMatchObject({
      result: 'skipped',
      reason: expect.stringMatching(/^Stale: version 3 is not newer than version 5, already received \(/),
    });
  });

  it('names the type a field should have, not "is required" or "Invalid input", when a value of the wrong type is present', async () => {
    const conn = await createConnection();
    const settings = await ctx.app.api<Problem>('PUT', `/api/connections/${conn}/settings`, {
      allowCreate: 'yes',
      quarantineFailurePercent: 'high',
    });
    expect(settings.status).toBe(400);
    expect(settings.body.errors).toEqual([
      { field: 'allowCreate', message: 'expected boolean, received string' },
      { field: 'quarantineFailurePercent', message: 'expected number, received string' },
    ]);
    const change = await postChanges<Problem>(conn, { type: 'upsert', externalId: 'e-1', version: '3' });
    expect(change.body.errors).toEqual([{ field: 'version', message: 'expected number, received string' }]);
    const missing = await postChanges<Problem>(conn, { type: 'upsert', externalId: 'e-1' });
    expect(missing.body.errors).toEqual([{ field: 'version', message: 'is required' }]);
    const mapping = await ctx.app.api<Problem>('PUT', `/api/connections/${conn}/mapping`, {
      properties: { jobTitle: { source: 7 } },
      generatePassword: 'yes',
    });
    expect(mapping.status).toBe(400);
    // A union (a rule is a source, a constant or an expression): the form it is closest to, not "Invalid input".
    expect(mapping.body.errors).toEqual([
      { field: 'properties.jobTitle.source', message: 'expected string, received number' },
      { field: 'generatePassword', message: 'expected boolean, received string' },
    ]);
    const licences = await postChanges<Problem>(conn, {
      type: 'upsert',
      externalId: 'e-1',
      version: 1,
      attributes: { businessPhone: [5] },
      licenses: [5],
    });
    expect(licences.body.errors).toEqual([
      { field: 'attributes.businessPhone.0', message: 'expected string, received number' },
      { field: 'licenses.0', message: 'expected string or object, received number' },
    ]);
  });
});

describe('test connection', () => {
  const fabrikamConnection = async (extra: Record<string, unknown> = {}) =>
    createConnection({
      tenantId: fabrikam.tenantId,
      domain: fabrikam.federatedDomain,
      clientId: fabrikam.fullApp.clientId,
      clientSecret: fabrikam.fullApp.secret,
      ...extra,
    });

  it('fails the domain check for a federated domain unless the mapping produces onPremisesImmutableId', async () => {
    const conn = await fabrikamConnection();
    const before = await runTest(conn);
    expect(before.status).toBe('invalid');
    expect(check(before, 'verifiedDomain')).toEqual({
      name: 'verifiedDomain',
      ok: false,
      detail:
        'fabrikam.example is a federated domain (authentication type Federated, from /organization verifiedDomains): Microsoft 365 creates its users only with an onPremisesImmutableId, and the mapping has no rule for it. Map onPremisesImmutableId (e.g. from the on-premises objectGUID, base64) or use a managed domain.',
    });
    await mapRule(conn, 'onPremisesImmutableId', { source: 'immutableId' });
    const after = await runTest(conn);
    expect(check(after, 'verifiedDomain')).toEqual({
      name: 'verifiedDomain',
      ok: true,
      detail:
        'fabrikam.example is a verified domain of the tenant; it is federated, and the mapping gives onPremisesImmutableId',
    });
    expect(after.status).toBe('ready');
    // A managed domain of the same tenant needs no immutable id.
    const managed = await runTest(await fabrikamConnection({ domain: fabrikam.domain }));
    expect(check(managed, 'verifiedDomain')).toMatchObject({ ok: true });
  });

  it('reads the authentication type from GET /domains/{id} when the app may read domains', async () => {
    const readSeed = () =>
      JSON.parse(readFileSync(join(REPO_ROOT, 'dev/m365-sim/default-seed.json'), 'utf8')) as SeedDocument;
    const seed = readSeed();
    const app = seed.tenants.find((t) => t.id === fabrikam.tenantId)!.applications![0]!;
    app.applicationPermissions = [...app.applicationPermissions!, 'Domain.Read.All'];
    await ctx.sim.controls.reset(seed);
    try {
      const conn = await fabrikamConnection();
      const since = (await ctx.sim.controls.requests()).at(-1)?.seq ?? 0;
      const result = await runTest(conn);
      expect(check(result, 'verifiedDomain')).toMatchObject({
        ok: false,
        detail: expect.stringMatching(
          /^fabrikam\.example is a federated domain \(authentication type Federated, from GET \/domains\/fabrikam\.example\)/,
        ),
      });
      const domainReads = (await ctx.sim.controls.requests({ since, surface: 'graph' })).filter((r) =>
        r.path.startsWith('/v1.0/domains/'),
      );
      expect(domainReads.map((r) => [r.method, r.path.split('?')[0], r.status])).toEqual([
        ['GET', '/v1.0/domains/fabrikam.example', 200],
      ]);
    } finally {
      // A reset without a seed would keep this one.
      await ctx.sim.controls.reset(readSeed());
    }
  });

  it('says a tenant that does not exist was not found (AADSTS90002), not that it could not be reached', async () => {
    const tenantId = randomUUID();
    const result = await runTest(await createConnection({ tenantId }));
    expect(result.status).toBe('invalid');
    expect(result.checks).toHaveLength(1);
    expect(check(result, 'token')).toEqual({
      name: 'token',
      ok: false,
      detail: `AADSTS90002: Tenant '${tenantId}' not found: check the connection's tenantId (the Directory (tenant) ID of the Microsoft 365 organisation) and its cloud (authority ${ctx.sim.authorityHost}/${tenantId})`,
    });
  });

  it('the simulated identity platform answers an unknown tenant as Microsoft does', async () => {
    const tenantId = randomUUID();
    const config = await fetch(`${ctx.sim.authorityHost}/${tenantId}/v2.0/.well-known/openid-configuration`);
    expect(config.status).toBe(400);
    expect(await config.json()).toMatchObject({
      error: 'invalid_tenant',
      error_codes: [90002],
      error_description: expect.stringMatching(new RegExp(`^AADSTS90002: Tenant '${tenantId}' not found\\.`)),
    });
    const token = await fetch(`${ctx.sim.authorityHost}/${tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: contoso.fullApp.clientId,
        client_secret: contoso.fullApp.secret,
        scope: 'https://graph.microsoft.com/.default',
      }),
    });
    expect(token.status).toBe(400);
    expect(await token.json()).toMatchObject({
      error: 'invalid_request',
      error_codes: [90002],
      error_description: expect.stringMatching(new RegExp(`^AADSTS90002: Tenant '${tenantId}' not found\\.`)),
    });
  });
});
