// Field mapping, sync policy and the provisioning log through the HTTP API.
import { describe, expect, it } from 'vitest';
import type { ConnectionView } from '../../shared/domain/connection.js';
import type { ProvisioningLogRecord } from '../../shared/domain/user-state.js';
import { useAppWithTenant } from '../support/app-host.js';
import { DEFAULT_SEED } from '../support/simulated-tenant.js';
import { uniqueName } from '../support/unique.js';

const contoso = DEFAULT_SEED.contoso;
const ctx = useAppWithTenant();

async function connection(): Promise<string> {
  const res = await ctx.app.api<ConnectionView>('POST', '/api/connections', {
    name: uniqueName('map'),
    tenantId: contoso.tenantId,
    domain: contoso.domain,
    clientId: contoso.fullApp.clientId,
    clientSecret: contoso.fullApp.secret,
    authorityHost: ctx.sim.authorityHost,
    graphEndpoint: ctx.sim.graphBaseUrl,
  });
  return res.body.id;
}

describe('field mapping', () => {
  it('serves the default mapping until one is saved', async () => {
    const id = await connection();
    const res = await ctx.app.api<{
      mapping: { properties: Record<string, unknown>; generatePassword: boolean };
      isDefault: boolean;
    }>('GET', `/api/connections/${id}/mapping`);
    expect(res.body.isDefault).toBe(true);
    expect(Object.keys(res.body.mapping.properties)).toEqual(
      expect.arrayContaining([
        'userPrincipalName',
        'mailNickname',
        'displayName',
        'accountEnabled',
        'passwordProfile.password',
      ]),
    );
  });

  it('refuses a mapping that cannot create a user: no password mapping (unless generated), a read-only or unknown target, a bad expression', async () => {
    const id = await connection();
    const base = (
      await ctx.app.api<{ mapping: { properties: Record<string, unknown> } }>('GET', `/api/connections/${id}/mapping`)
    ).body.mapping;
    const { 'passwordProfile.password': _password, ...withoutPassword } = base.properties;
    const res = await ctx.app.api<{ code: string; errors: { field: string; message: string }[] }>(
      'PUT',
      `/api/connections/${id}/mapping`,
      {
        properties: {
          ...withoutPassword,
          assignedLicenses: { source: 'x' },
          surnme: { source: 'familyName' },
          jobTitle: { expression: 'lower("{title}"' },
        },
      },
    );
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('validation-failed');
    const fields = res.body.errors.map((e) => e.field);
    expect(fields, JSON.stringify(res.body.errors)).toEqual(
      expect.arrayContaining([
        'properties.assignedLicenses',
        'properties.surnme',
        'properties.jobTitle.expression',
        'properties.passwordProfile.password',
      ]),
    );
    expect(res.body.errors.find((e) => e.field === 'properties.surnme')!.message).toMatch(/surname/);
    expect(res.body.errors.map((e) => e.message).join(' ')).toMatch(/generatePassword/);
    // Opting in to generated passwords satisfies the rule.
    const ok = await ctx.app.api<{ isDefault: boolean }>('PUT', `/api/connections/${id}/mapping`, {
      properties: withoutPassword,
      generatePassword: true,
    });
    expect(ok.status, ok.text).toBe(200);
    expect((await ctx.app.api<{ isDefault: boolean }>('GET', `/api/connections/${id}/mapping`)).body.isDefault).toBe(
      false,
    );
  });

  it('provisions with a saved mapping: expressions, constants and create-only rules', async () => {
    const id = await connection();
    const mapping = (
      await ctx.app.api<{ mapping: { properties: Record<string, unknown> } }>('GET', `/api/connections/${id}/mapping`)
    ).body.mapping;
    const put = await ctx.app.api('PUT', `/api/connections/${id}/mapping`, {
      generatePassword: true,
      properties: {
        ...mapping.properties,
        'passwordProfile.password': { source: 'password', applyOn: 'create' },
        userPrincipalName: { expression: 'lower(normalizeDiacritics("{givenName}.{familyName}@{domain}"))' },
        companyName: { constant: 'Contoso Ltd' },
        department: { source: 'department', applyOn: 'create' },
      },
    });
    expect(put.status, put.text).toBe(200);
    expect((await ctx.app.api<{ status: string }>('POST', `/api/connections/${id}/test`)).body.status).toBe('ready');
    const ext = uniqueName('emp');
    const given = `Zoë${ext.slice(-4)}`;
    const provision = (version: number, department: string) =>
      ctx.app.api<{ result: string; objectId: string }>('POST', `/api/connections/${id}/users/${ext}/provision`, {
        type: 'upsert',
        version,
        attributes: { userName: `u${ext}`, givenName: given, familyName: 'Müller', active: true, department },
      });
    const first = await provision(1, 'Sales');
    expect(first.body.result, first.text).toBe('applied');
    const account = await ctx.sim.controls.user(contoso.tenantId, first.body.objectId);
    expect(account).toMatchObject({
      userPrincipalName: `zoe${ext.slice(-4)}.muller@${contoso.domain}`.toLowerCase(),
      companyName: 'Contoso Ltd',
      department: 'Sales',
    });
    // department is create-only: a later change does not overwrite it.
    expect((await provision(2, 'Marketing')).body.result).toBe('skipped');
    expect((await ctx.sim.controls.user(contoso.tenantId, first.body.objectId)).department).toBe('Sales');
  });
});

describe('sync settings', () => {
  it('serves defaults, replaces them on PUT, and rejects unknown or ill-typed settings', async () => {
    const id = await connection();
    const defaults = await ctx.app.api<Record<string, unknown>>('GET', `/api/connections/${id}/settings`);
    expect(defaults.body).toMatchObject({
      allowCreate: true,
      allowUpdate: true,
      allowDeactivate: true,
      allowRemove: true,
      removeAction: 'disable',
      matchingRules: ['userPrincipalName'],
      adoptExistingAccounts: 'matching',
      upnCandidates: [],
      dryRun: false,
    });
    const put = await ctx.app.api<Record<string, unknown>>('PUT', `/api/connections/${id}/settings`, {
      removeAction: 'delete',
      defaultLicenses: ['ENTERPRISEPACK'],
      usageLocation: 'GB',
    });
    expect(put.body).toMatchObject({
      removeAction: 'delete',
      defaultLicenses: ['ENTERPRISEPACK'],
      usageLocation: 'GB',
      allowCreate: true,
    });
    const bad = await ctx.app.api<{ errors: { field: string }[] }>('PUT', `/api/connections/${id}/settings`, {
      removeAction: 'shred',
      usageLocation: 'gb',
      bogus: true,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e) => e.field).sort()).toEqual(['bogus', 'removeAction', 'usageLocation']);
  });
});

describe('provisioning log', () => {
  it('filters by user, status and time, pages with a continuation token, newest first', async () => {
    const id = await connection();
    expect((await ctx.app.api<{ status: string }>('POST', `/api/connections/${id}/test`)).body.status).toBe('ready');
    const ext = uniqueName('emp');
    const before = new Date().toISOString();
    for (let v = 1; v <= 4; v++) {
      await ctx.app.api('POST', `/api/connections/${id}/users/${ext}/provision`, {
        type: 'upsert',
        version: v,
        attributes: {
          userName: `log${ext}`,
          givenName: 'Log',
          familyName: `V${v}`,
          active: true,
          password: 'Initial-Pa55word!',
        },
      });
    }
    await ctx.app.api('POST', `/api/connections/${id}/users/${ext}/provision`, {
      type: 'upsert',
      version: 2,
      attributes: { userName: `log${ext}` },
    });
    const all = await ctx.app.api<{ value: ProvisioningLogRecord[]; continuation: string | null }>(
      'GET',
      `/api/connections/${id}/logs?externalId=${ext}`,
    );
    expect(all.body.value.map((r) => [r.version, r.result])).toEqual([
      [2, 'skipped'],
      [4, 'applied'],
      [3, 'applied'],
      [2, 'applied'],
      [1, 'applied'],
    ]);
    expect(all.body.value[1]!.changedProperties.sort()).toEqual(['displayName', 'surname']);

    const skipped = await ctx.app.api<{ value: ProvisioningLogRecord[] }>(
      'GET',
      `/api/connections/${id}/logs?externalId=${ext}&status=skipped`,
    );
    expect(skipped.body.value.map((r) => r.reason)).toEqual([expect.stringMatching(/^Stale/)]);
    const creates = await ctx.app.api<{ value: ProvisioningLogRecord[] }>(
      'GET',
      `/api/connections/${id}/logs?externalId=${ext}&action=create`,
    );
    expect(creates.body.value.map((r) => r.version)).toEqual([1]);

    const page1 = await ctx.app.api<{ value: ProvisioningLogRecord[]; continuation: string | null }>(
      'GET',
      `/api/connections/${id}/logs?externalId=${ext}&limit=2`,
    );
    expect(page1.body.value).toHaveLength(2);
    const page2 = await ctx.app.api<{ value: ProvisioningLogRecord[] }>(
      'GET',
      `/api/connections/${id}/logs?externalId=${ext}&limit=2&continuation=${encodeURIComponent(page1.body.continuation!)}`,
    );
    expect(page2.body.value.map((r) => r.version)).toEqual([3, 2]);

    const none = await ctx.app.api<{ value: unknown[] }>(
      'GET',
      `/api/connections/${id}/logs?externalId=${ext}&until=${encodeURIComponent(before)}`,
    );
    expect(none.body.value).toEqual([]);
    const since = await ctx.app.api<{ value: unknown[] }>(
      'GET',
      `/api/connections/${id}/logs?externalId=${ext}&since=${encodeURIComponent(before)}`,
    );
    expect(since.body.value).toHaveLength(5);
    const bad = await ctx.app.api<{ errors: { field: string }[] }>(
      'GET',
      `/api/connections/${id}/logs?status=weird&limit=0`,
    );
    expect(bad.body.errors.map((e) => e.field).sort()).toEqual(['limit', 'status']);
  });

  it('holds the operation and marks the connection needs-attention when Graph refuses its credentials', async () => {
    const id = await connection();
    expect((await ctx.app.api<{ status: string }>('POST', `/api/connections/${id}/test`)).body.status).toBe('ready');
    // Graph starts answering 401 for this tenant (as after the app's consent was revoked).
    await ctx.sim.controls.addFault({
      match: { surface: 'graph', path: '^/v1.0/users' },
      fault: { kind: 'status', status: 401 },
      count: 3,
    });
    try {
      const ext = uniqueName('emp');
      const res = await ctx.app.api<{ result: string; reason: string }>(
        'POST',
        `/api/connections/${id}/users/${ext}/provision`,
        {
          type: 'upsert',
          version: 1,
          attributes: {
            userName: `refused${ext}`,
            displayName: 'Refused',
            active: true,
            password: 'Initial-Pa55word!',
          },
        },
      );
      expect(res.body, JSON.stringify(res.body)).toMatchObject({
        result: 'held',
        reason: expect.stringMatching(/credentials were refused/),
      });
      expect((await ctx.app.api<{ status: string }>('GET', `/api/connections/${id}/users/${ext}`)).body.status).toBe(
        'held',
      );
      expect((await ctx.app.api<ConnectionView>('GET', `/api/connections/${id}`)).body).toMatchObject({
        status: 'needs-attention',
        statusReason: expect.stringMatching(/refused/),
      });
    } finally {
      await ctx.sim.controls.clearFaults();
    }
    // Once fixed, a successful test makes it ready and releases the held operation.
    expect(
      (await ctx.app.api<{ status: string; releasedOperations?: number }>('POST', `/api/connections/${id}/test`)).body,
    ).toMatchObject({ status: 'ready', releasedOperations: 1 });
  });
});
