// The routes the admin console needed that the API did not have: the mapping editor's metadata and live preview,
// a reconciliation run's progress with its ETA, and the licences overview.
import { describe, expect, it } from 'vitest';
import { useAppWithTenant } from '../support/app-host.js';
import { person, provisioningApi } from '../support/provisioning-api.js';
import { DEFAULT_SEED } from '../support/simulated-tenant.js';
import { uniqueName } from '../support/unique.js';
import { waitFor } from '../support/wait-for.js';

const contoso = DEFAULT_SEED.contoso;
const ctx = useAppWithTenant();
const api = provisioningApi(ctx, 'console-api');

interface Preview {
  linked: { objectId: string } | null;
  issues: { field: string; message: string }[];
  properties: {
    property: string;
    value?: unknown;
    unresolved?: true;
    error?: string;
    microsoft365?: unknown;
    differs?: boolean;
  }[];
}

describe('mapping metadata', () => {
  it('lists writable targets only, the expression functions, and the attributes received changes carried', async () => {
    const id = await api.readyConnection();
    const externalId = uniqueName('meta');
    const op = await api.submit(id, {
      type: 'upsert',
      externalId,
      version: 1,
      attributes: person(externalId.toLowerCase(), { costCentre: 'CC-7' }),
    });
    await api.logOf(id, externalId, op, 'applied');
    const res = await ctx.app.api<{
      targets: { name: string; type: string; requiredOnCreate: boolean; maxLength?: number }[];
      functions: { name: string; minArgs: number; maxArgs: number | null }[];
      sourceAttributes: string[];
    }>('GET', `/api/connections/${id}/mapping/metadata`);
    expect(res.status, res.text).toBe(200);
    const names = res.body.targets.map((t) => t.name);
    expect(names).toContain('jobTitle');
    expect(names).toContain('passwordProfile.password');
    // Read-only properties of the user type are never offered.
    expect(names).not.toContain('id');
    expect(names).not.toContain('assignedLicenses');
    expect(names).not.toContain('createdDateTime');
    expect(res.body.targets.find((t) => t.name === 'displayName')).toEqual({
      name: 'displayName',
      type: 'Edm.String',
      collection: false,
      requiredOnCreate: true,
      maxLength: 256,
    });
    expect(res.body.functions.find((f) => f.name === 'coalesce')).toEqual({
      name: 'coalesce',
      minArgs: 2,
      maxArgs: null,
    });
    expect(res.body.functions.map((f) => f.name)).toContain('normalizeDiacritics');
    // costCentre came only with the change; userName is read by the default mapping too.
    expect(res.body.sourceAttributes).toEqual(expect.arrayContaining(['costCentre', 'userName', 'givenName']));
  });
});

describe('mapping preview on a real user', () => {
  it('answers what a draft gives for the user and what Microsoft 365 holds, and writes nothing', async () => {
    const id = await api.readyConnection();
    const users = await api.linkedUsers(id, 1, 'Preview');
    const [externalId, objectId] = [...users][0]!;
    const saved = await ctx.app.api<{ mapping: { properties: Record<string, unknown> } }>(
      'GET',
      `/api/connections/${id}/mapping`,
    );
    const draft = {
      ...saved.body.mapping,
      properties: {
        ...saved.body.mapping.properties,
        officeLocation: { constant: 'HQ Building 7' },
        jobTitle: { expression: 'upper(concat(givenName, " of ", familyName))' },
        department: { source: 'noSuchAttribute' },
        employeeHireDate: { constant: 'not a date' },
      },
    };
    const before = (await ctx.sim.controls.requests()).length;
    const res = await ctx.app.api<Preview>('POST', `/api/connections/${id}/mapping/preview`, {
      externalId,
      mapping: draft,
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.linked?.objectId).toBe(objectId);
    const row = (p: string) => res.body.properties.find((x) => x.property === p)!;
    expect(row('officeLocation')).toMatchObject({ value: 'HQ Building 7', microsoft365: null, differs: true });
    expect(row('jobTitle')).toMatchObject({ value: `PREVIEW OF ${externalId.replace(/[^a-z]/gi, '').toUpperCase()}` });
    expect(row('department')).toMatchObject({ unresolved: true });
    expect(row('employeeHireDate').error).toMatch(/employeeHireDate/);
    const account = await ctx.sim.controls.user(contoso.tenantId, objectId);
    expect(row('displayName')).toMatchObject({ microsoft365: account.displayName, differs: false });
    // The password is never shown, neither as the value nor from Microsoft 365.
    expect(row('passwordProfile.password')).toEqual({
      property: 'passwordProfile.password',
      createOnly: true,
      value: '[secret]',
    });
    expect(res.text).not.toContain('Initial-Pa55word!');
    // Nothing but reads reached the tenant, and the saved mapping is unchanged.
    const calls = (await ctx.sim.controls.requests()).slice(before);
    expect(calls.filter((c) => c.method !== 'GET' && c.surface === 'graph')).toEqual([]);
    const after = await ctx.app.api('GET', `/api/connections/${id}/mapping`);
    expect(after.body).toEqual(saved.body);
  });

  it('names the fields of a draft that is not a mapping, and a user that never received a change', async () => {
    const id = await api.readyConnection();
    const bad = await ctx.app.api<{ code: string; errors: { field: string }[] }>(
      'POST',
      `/api/connections/${id}/mapping/preview`,
      { externalId: 'anyone', mapping: { properties: { jobTitle: { source: 42 } } } },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e) => e.field)).toEqual([expect.stringMatching(/^mapping\.properties\.jobTitle/)]);
    const unknown = await ctx.app.api<{ code: string }>('POST', `/api/connections/${id}/mapping/preview`, {
      externalId: 'never-seen',
    });
    expect([unknown.status, unknown.body.code]).toEqual([404, 'user-not-found']);
  });
});

describe('reconciliation run progress', () => {
  it('goes from queued to done, counting the corrections applied, with the write pace and no ETA when done', async () => {
    const id = await api.readyConnection();
    const users = await api.linkedUsers(id, 3, 'Drift');
    // Edited by hand in Microsoft 365: the run finds profile drift and enqueues a correction each.
    for (const objectId of users.values())
      await ctx.sim
        .graphClientFor(ctx.sim.credentialFor(contoso.tenantId, contoso.fullApp.clientId, contoso.fullApp.secret))
        .api(`/users/${objectId}`)
        .patch({ displayName: 'Edited by hand' });
    const started = await ctx.app.api<{ runId: string }>('POST', `/api/connections/${id}/reconcile?full=true`);
    expect(started.status, started.text).toBe(202);
    const progressUrl = `/api/connections/${id}/runs/${started.body.runId}/progress`;
    const first = await ctx.app.api<{ phase: string; writesPerSecond: number }>('GET', progressUrl);
    expect(first.status, first.text).toBe(200);
    expect(['queued', 'examining', 'applying', 'done']).toContain(first.body.phase);
    const done = await waitFor(
      async () => {
        const p = await ctx.app.api<{
          phase: string;
          percent: number;
          etaSeconds: number | null;
          corrections: { total: number; done: number; waiting: number };
          examined: { directory: number; directoryTotal: number };
          writesPerSecond: number;
        }>('GET', progressUrl);
        return p.body.phase === 'done' ? p.body : undefined;
      },
      { what: 'the run done and its corrections applied', timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(done.corrections).toMatchObject({ total: 3, done: 3, waiting: 0 });
    expect(done.percent).toBe(100);
    expect(done.etaSeconds).toBeNull();
    expect(done.examined).toMatchObject({ directory: 3, directoryTotal: 3 });
    // Graph's documented write quota, 3,000 per 150 s, at the governor's 98 % (the tests run at time scale 1).
    expect(done.writesPerSecond).toBeCloseTo(19.6, 5);
    for (const objectId of users.values())
      expect((await ctx.sim.controls.user(contoso.tenantId, objectId)).displayName).not.toBe('Edited by hand');
  });

  it('answers 404 for a run the connection does not have', async () => {
    const id = await api.readyConnection();
    const res = await ctx.app.api<{ code: string }>(
      'GET',
      `/api/connections/${id}/runs/20260101T000000000Z-0000000000000000/progress`,
    );
    expect(res.status).toBe(404);
  });
});

describe('licences', () => {
  it("lists the tenant's SKUs with seats used and free, and the users this connection licensed", async () => {
    const id = await api.readyConnection({ usageLocation: 'DE' });
    const externalId = uniqueName('lic');
    const op = await api.submit(id, {
      type: 'upsert',
      externalId,
      version: 1,
      attributes: person(externalId.toLowerCase()),
      licenses: ['ENTERPRISEPACK'],
    });
    await api.logOf(id, externalId, op, 'applied');
    const res = await ctx.app.api<{
      skus: { skuId: string; skuPartNumber: string; enabled: number; consumed: number; free: number }[];
      licensedUsers: { externalId: string; skus: { skuPartNumber: string | null }[] }[];
      licensedUserCount: number;
    }>('GET', `/api/connections/${id}/licences`);
    expect(res.status, res.text).toBe(200);
    const simSkus = await ctx.sim.controls.skus(contoso.tenantId);
    expect(res.body.skus.map(({ skuId, enabled, consumed, free }) => ({ skuId, enabled, consumed, free }))).toEqual(
      simSkus.map(({ skuId, enabled, consumed, free }) => ({ skuId, enabled, consumed, free })),
    );
    expect(res.body.licensedUsers).toEqual([
      {
        externalId,
        userPrincipalName: expect.any(String),
        skus: [{ skuId: contoso.skus.enterprisePack, skuPartNumber: 'ENTERPRISEPACK' }],
      },
    ]);
    expect(res.body.licensedUserCount).toBe(1);
  });
});
