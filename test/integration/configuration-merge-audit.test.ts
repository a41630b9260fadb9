// Issue 15, point 3: configuration that merges (JSON Merge Patch on settings and mapping), no lost updates
// (ETag / If-Match, 412 on a stale one) and an audit log of every configuration change, through the HTTP API
// with the real local host and Azurite. Nothing of ours is mocked.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ConnectionView } from '../../shared/domain/connection.js';
import { useAppWithTenant } from '../support/app-host.js';
import { DEFAULT_SEED } from '../support/simulated-tenant.js';
import { uniqueName } from '../support/unique.js';

const contoso = DEFAULT_SEED.contoso;
const ctx = useAppWithTenant();

const MERGE = { 'content-type': 'application/merge-patch+json' };

async function createConnection(extra: Record<string, unknown> = {}): Promise<ConnectionView & { etag: string }> {
  const res = await ctx.app.api<ConnectionView>('POST', '/api/connections', {
    name: uniqueName('merge'),
    tenantId: contoso.tenantId,
    domain: contoso.domain,
    clientId: contoso.fullApp.clientId,
    clientSecret: contoso.fullApp.secret,
    ...extra,
  });
  expect(res.status, res.text).toBe(201);
  const etag = res.headers.get('etag');
  expect(etag, 'POST /api/connections answers an ETag').toBeTruthy();
  return { ...res.body, etag: etag! };
}

type Settings = Record<string, unknown>;
type Problem = { status: number; code: string; errors?: { field: string; message: string }[] };
interface MappingAnswer {
  mapping: { properties: Record<string, Record<string, unknown>>; generatePassword: boolean };
  isDefault: boolean;
}
interface AuditEntry {
  id: string;
  at: string;
  action: string;
  actor: { type: string; keyId?: string; name?: string };
  changes: { path: string; before?: unknown; after?: unknown; secret?: string }[];
  etag?: string;
}

const settingsOf = (id: string) => ctx.app.api<Settings>('GET', `/api/connections/${id}/settings`);

describe('PATCH …/settings (JSON Merge Patch)', () => {
  it('changes only what it names: removeAction "delete" keeps defaultLicenses and usageLocation', async () => {
    const { id } = await createConnection();
    const put = await ctx.app.api('PUT', `/api/connections/${id}/settings`, {
      defaultLicenses: ['ENTERPRISEPACK'],
      usageLocation: 'DE',
      allowCreate: false,
    });
    expect(put.status, put.text).toBe(200);

    const patched = await ctx.app.api<Settings>(
      'PATCH',
      `/api/connections/${id}/settings`,
      { removeAction: 'delete' },
      { headers: MERGE },
    );
    expect(patched.status, patched.text).toBe(200);
    const expected = {
      removeAction: 'delete',
      defaultLicenses: ['ENTERPRISEPACK'],
      usageLocation: 'DE',
      allowCreate: false,
    };
    expect(patched.body).toMatchObject(expected);
    expect((await settingsOf(id)).body).toMatchObject(expected);
  });

  it('accepts application/json too; null resets a setting to its default', async () => {
    const { id } = await createConnection();
    await ctx.app.api('PATCH', `/api/connections/${id}/settings`, { allowCreate: false, usageLocation: 'FR' });
    const reset = await ctx.app.api<Settings>('PATCH', `/api/connections/${id}/settings`, {
      allowCreate: null,
      usageLocation: null,
      accidentalDeletionThreshold: 10,
    });
    expect(reset.status, reset.text).toBe(200);
    expect(reset.body).toMatchObject({ allowCreate: true, usageLocation: null, accidentalDeletionThreshold: 10 });
  });

  it('PUT stays a full replace: left-out settings take their defaults', async () => {
    const { id } = await createConnection();
    await ctx.app.api('PATCH', `/api/connections/${id}/settings`, { usageLocation: 'DE' });
    const put = await ctx.app.api<Settings>('PUT', `/api/connections/${id}/settings`, { removeAction: 'delete' });
    expect(put.body).toMatchObject({ removeAction: 'delete', usageLocation: null });
  });

  it('validates the merged result like PUT: 400 naming the field, nothing applied', async () => {
    const { id } = await createConnection();
    await ctx.app.api('PATCH', `/api/connections/${id}/settings`, { usageLocation: 'DE' });
    const before = await settingsOf(id);
    const bad = await ctx.app.api<Problem>(
      'PATCH',
      `/api/connections/${id}/settings`,
      { removeAction: 'delete', usageLocation: 'Germany', unknownSetting: 1 },
      { headers: MERGE },
    );
    expect(bad.status, bad.text).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(bad.body.code).toBe('validation-failed');
    expect(bad.body.errors!.map((e) => e.field).sort()).toEqual(['unknownSetting', 'usageLocation']);
    const after = await settingsOf(id);
    expect(after.body).toEqual(before.body);
    expect(after.headers.get('etag')).toBe(before.headers.get('etag'));
  });

  it('refuses a patch format it does not speak (415) and a body that is not JSON (400)', async () => {
    const { id } = await createConnection();
    const jsonPatch = await ctx.app.api<Problem>(
      'PATCH',
      `/api/connections/${id}/settings`,
      [{ op: 'replace', path: '/removeAction', value: 'delete' }],
      { headers: { 'content-type': 'application/json-patch+json' } },
    );
    expect(jsonPatch.status, jsonPatch.text).toBe(415);
    expect(jsonPatch.body.code).toBe('unsupported-media-type');
    const notJson = await ctx.app.api<Problem>('PATCH', `/api/connections/${id}/settings`, '{"removeAction":', {
      headers: MERGE,
    });
    expect(notJson.status).toBe(400);
  });
});

describe('PATCH …/mapping (JSON Merge Patch)', () => {
  it('adds and changes rules (a rule merges with the one it replaces), null removes one, the rest stays', async () => {
    const { id } = await createConnection();
    const base = (await ctx.app.api<MappingAnswer>('GET', `/api/connections/${id}/mapping`)).body.mapping;
    expect(base.properties.jobTitle).toBeDefined();
    const patched = await ctx.app.api<MappingAnswer>(
      'PATCH',
      `/api/connections/${id}/mapping`,
      {
        properties: {
          jobTitle: null,
          department: { source: 'division' },
          // A rule is an object like any other: switching its kind sets the old member to null.
          officeLocation: { source: null, constant: 'HQ' },
          state: { source: 'region' },
        },
      },
      { headers: MERGE },
    );
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.isDefault).toBe(false);
    const props = patched.body.mapping.properties;
    expect(props.jobTitle).toBeUndefined();
    expect(props.department).toMatchObject({ source: 'division' });
    expect(props.officeLocation).toEqual({ constant: 'HQ', applyOn: 'always' });
    expect(props.state).toMatchObject({ source: 'region' });
    const { jobTitle: _j, department: _d, officeLocation: _o, state: _s, ...untouched } = props;
    const { jobTitle: _bj, department: _bd, officeLocation: _bo, ...baseUntouched } = base.properties;
    expect(untouched).toEqual(baseUntouched);
    const read = await ctx.app.api<MappingAnswer>('GET', `/api/connections/${id}/mapping`);
    expect(read.body).toEqual(patched.body);
  });

  it('validates the merged mapping like PUT: removing the password rule is refused, nothing applied', async () => {
    const { id } = await createConnection();
    const before = await ctx.app.api<MappingAnswer>('GET', `/api/connections/${id}/mapping`);
    const bad = await ctx.app.api<Problem>(
      'PATCH',
      `/api/connections/${id}/mapping`,
      { properties: { 'passwordProfile.password': null, surnme: { source: 'familyName' } } },
      { headers: MERGE },
    );
    expect(bad.status, bad.text).toBe(400);
    expect(bad.body.errors!.map((e) => e.field)).toEqual(
      expect.arrayContaining(['properties.passwordProfile.password', 'properties.surnme']),
    );
    const after = await ctx.app.api<MappingAnswer>('GET', `/api/connections/${id}/mapping`);
    expect(after.body).toEqual(before.body);
    expect(after.body.isDefault).toBe(true);
    expect(after.headers.get('etag')).toBe(before.headers.get('etag'));
    // With generated passwords the same removal is valid.
    const ok = await ctx.app.api<MappingAnswer>('PATCH', `/api/connections/${id}/mapping`, {
      properties: { 'passwordProfile.password': null },
      generatePassword: true,
    });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.mapping.properties['passwordProfile.password']).toBeUndefined();
  });
});

describe('ETag and If-Match', () => {
  it('connection, settings and mapping answers carry the connection ETag; each write gives a new one', async () => {
    const c = await createConnection();
    const got = await ctx.app.api('GET', `/api/connections/${c.id}`);
    const settings = await settingsOf(c.id);
    const mapping = await ctx.app.api('GET', `/api/connections/${c.id}/mapping`);
    expect(got.headers.get('etag')).toBe(c.etag);
    expect(settings.headers.get('etag')).toBe(c.etag);
    expect(mapping.headers.get('etag')).toBe(c.etag);
    expect(c.etag).toMatch(/^"[^"]+"$/);

    const patched = await ctx.app.api('PATCH', `/api/connections/${c.id}/settings`, { dryRun: true });
    const next = patched.headers.get('etag');
    expect(next).toBeTruthy();
    expect(next).not.toBe(c.etag);
    expect((await ctx.app.api('GET', `/api/connections/${c.id}`)).headers.get('etag')).toBe(next);
  });

  it('a write with a stale If-Match answers 412 and changes nothing; the current one, * or none are accepted', async () => {
    const c = await createConnection();
    const first = await ctx.app.api(
      'PATCH',
      `/api/connections/${c.id}/settings`,
      { usageLocation: 'DE' },
      {
        headers: { 'if-match': c.etag },
      },
    );
    expect(first.status, first.text).toBe(200);
    const current = first.headers.get('etag')!;

    const stale = { headers: { 'if-match': c.etag } };
    const writes: [string, string, unknown][] = [
      ['PATCH', `/api/connections/${c.id}/settings`, { usageLocation: 'FR' }],
      ['PUT', `/api/connections/${c.id}/settings`, { usageLocation: 'FR' }],
      ['PATCH', `/api/connections/${c.id}/mapping`, { generatePassword: true }],
      ['PUT', `/api/connections/${c.id}/mapping`, { properties: {} }],
      ['PATCH', `/api/connections/${c.id}`, { name: 'renamed' }],
      ['DELETE', `/api/connections/${c.id}`, undefined],
    ];
    for (const [method, path, body] of writes) {
      const res = await ctx.app.api<Problem>(method, path, body, stale);
      expect(res.status, `${method} ${path}: ${res.text}`).toBe(412);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.body.code).toBe('precondition-failed');
    }
    const after = await ctx.app.api<ConnectionView>('GET', `/api/connections/${c.id}`);
    expect(after.status).toBe(200);
    expect(after.body.name).toBe(c.name);
    expect(after.headers.get('etag')).toBe(current);
    expect((await settingsOf(c.id)).body).toMatchObject({ usageLocation: 'DE' });

    // A list naming the current tag matches; a weak tag never does (If-Match compares strongly, RFC 9110).
    const weak = await ctx.app.api(
      'PATCH',
      `/api/connections/${c.id}`,
      { name: 'weak' },
      {
        headers: { 'if-match': `W/${current}` },
      },
    );
    expect(weak.status).toBe(412);
    const listed = await ctx.app.api(
      'PATCH',
      `/api/connections/${c.id}`,
      { name: 'listed' },
      {
        headers: { 'if-match': `"nope", ${current}` },
      },
    );
    expect(listed.status, listed.text).toBe(200);
    const star = await ctx.app.api(
      'PATCH',
      `/api/connections/${c.id}/settings`,
      { usageLocation: 'FR' },
      {
        headers: { 'if-match': '*' },
      },
    );
    expect(star.status, star.text).toBe(200);
    const none = await ctx.app.api('PATCH', `/api/connections/${c.id}/settings`, { usageLocation: 'IT' });
    expect(none.status, none.text).toBe(200);

    const deleted = await ctx.app.api('DELETE', `/api/connections/${c.id}`, undefined, {
      headers: { 'if-match': none.headers.get('etag')! },
    });
    expect(deleted.status, deleted.text).toBe(200);
  });

  it('a malformed If-Match is a 400 naming the header', async () => {
    const c = await createConnection();
    const res = await ctx.app.api<Problem>(
      'PATCH',
      `/api/connections/${c.id}/settings`,
      { dryRun: true },
      {
        headers: { 'if-match': 'not-quoted' },
      },
    );
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.field).toBe('If-Match');
  });

  it('no lost updates: of two writes made from the same ETag exactly one wins; patches without If-Match both apply', async () => {
    const c = await createConnection();
    const racing = await Promise.all(
      ['DE', 'FR'].map((usageLocation) =>
        ctx.app.api(
          'PATCH',
          `/api/connections/${c.id}/settings`,
          { usageLocation },
          { headers: { 'if-match': c.etag } },
        ),
      ),
    );
    expect(racing.map((r) => r.status).sort()).toEqual([200, 412]);

    const patches = [{ allowCreate: false }, { allowUpdate: false }, { removeAction: 'delete' }, { dryRun: true }];
    const results = await Promise.all(
      patches.map((p) => ctx.app.api('PATCH', `/api/connections/${c.id}/settings`, p, { headers: MERGE })),
    );
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect((await settingsOf(c.id)).body).toMatchObject(Object.assign({}, ...patches) as Settings);
  });
});

describe('audit log (GET …/audit)', () => {
  it('records who changed what and when, newest first, with the resulting ETag; secrets never appear', async () => {
    const c = await createConnection();
    const newSecret = `rotated-secret-${uniqueName('s')}`;
    await ctx.app.api('PATCH', `/api/connections/${c.id}/settings`, { usageLocation: 'DE', removeAction: 'delete' });
    await ctx.app.api('PATCH', `/api/connections/${c.id}/mapping`, {
      properties: { jobTitle: null, department: { source: 'division' }, state: { source: 'region' } },
    });
    const rotated = await ctx.app.api('PATCH', `/api/connections/${c.id}`, {
      clientSecret: newSecret,
      name: 'Renamed',
    });
    expect(rotated.status, rotated.text).toBe(200);
    // The principal header is the platform's: without App Service authentication it is anyone's to send.
    const spoofed = await ctx.app.api(
      'PATCH',
      `/api/connections/${c.id}/settings`,
      { dryRun: true },
      {
        headers: { 'x-ms-client-principal-name': 'mallory@contoso.com' },
      },
    );
    expect(spoofed.status).toBe(200);

    const audit = await ctx.app.api<{ value: AuditEntry[]; continuation: string | null }>(
      'GET',
      `/api/connections/${c.id}/audit`,
    );
    expect(audit.status, audit.text).toBe(200);
    const entries = audit.body.value;
    expect(entries.map((e) => e.action)).toEqual([
      'settings.patched',
      'connection.updated',
      'mapping.patched',
      'settings.patched',
      'connection.created',
    ]);
    const keyId = `sha256:${createHash('sha256').update(ctx.app.host.functionKey).digest('hex').slice(0, 12)}`;
    for (const e of entries) expect(e.actor).toEqual({ type: 'function-key', keyId });
    expect(audit.text).not.toContain('mallory');
    const times = entries.map((e) => Date.parse(e.at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(entries[0]!.etag).toBe(spoofed.headers.get('etag'));

    const [, update, mapping, settings, created] = entries;
    expect(settings!.changes).toEqual(
      expect.arrayContaining([
        { path: 'usageLocation', before: null, after: 'DE' },
        { path: 'removeAction', before: 'disable', after: 'delete' },
      ]),
    );
    expect(settings!.changes).toHaveLength(2);
    expect(mapping!.changes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'properties.jobTitle', before: expect.anything() }),
        { path: 'properties.department.source', before: 'department', after: 'division' },
        { path: 'properties.state', after: { source: 'region', applyOn: 'always' } },
      ]),
    );
    expect(mapping!.changes.find((ch) => ch.path === 'properties.jobTitle')).not.toHaveProperty('after');
    expect(update!.changes).toEqual(
      expect.arrayContaining([
        { path: 'clientSecret', secret: 'changed' },
        { path: 'name', before: c.name, after: 'Renamed' },
      ]),
    );
    expect(created!.changes).toEqual(expect.arrayContaining([{ path: 'clientSecret', secret: 'set' }]));
    expect(created!.changes).toEqual(expect.arrayContaining([{ path: 'domain', after: contoso.domain }]));
    expect(audit.text).not.toContain(newSecret);
    expect(audit.text).not.toContain(contoso.fullApp.secret);
    expect(ctx.app.transcripts.join('\n')).not.toContain(newSecret);
  });

  it('a write that changes nothing records nothing and keeps the ETag', async () => {
    const c = await createConnection();
    const same = await ctx.app.api('PATCH', `/api/connections/${c.id}/settings`, { removeAction: 'disable' });
    expect(same.status).toBe(200);
    expect(same.headers.get('etag')).toBe(c.etag);
    const audit = await ctx.app.api<{ value: AuditEntry[] }>('GET', `/api/connections/${c.id}/audit`);
    expect(audit.body.value.map((e) => e.action)).toEqual(['connection.created']);
  });

  it('pages with a continuation token; a forged token is a 400; an unknown connection a 404', async () => {
    const c = await createConnection();
    for (const loc of ['DE', 'FR', 'IT', 'ES'])
      await ctx.app.api('PATCH', `/api/connections/${c.id}/settings`, { usageLocation: loc });
    const first = await ctx.app.api<{ value: AuditEntry[]; continuation: string | null }>(
      'GET',
      `/api/connections/${c.id}/audit?limit=2`,
    );
    expect(first.status, first.text).toBe(200);
    expect(first.body.value).toHaveLength(2);
    expect(first.body.continuation).toBeTruthy();
    const seen = [...first.body.value];
    let token = first.body.continuation;
    while (token) {
      const page = await ctx.app.api<{ value: AuditEntry[]; continuation: string | null }>(
        'GET',
        `/api/connections/${c.id}/audit?limit=2&continuation=${encodeURIComponent(token)}`,
      );
      expect(page.status, page.text).toBe(200);
      seen.push(...page.body.value);
      token = page.body.continuation;
    }
    expect(seen.map((e) => e.action)).toEqual([...Array(4).fill('settings.patched'), 'connection.created']);
    expect(new Set(seen.map((e) => e.id)).size).toBe(5);

    const forged = await ctx.app.api<Problem>('GET', `/api/connections/${c.id}/audit?continuation=abc`);
    expect(forged.status).toBe(400);
    expect(forged.body.code).toBe('invalid-continuation');
    const badLimit = await ctx.app.api<Problem>('GET', `/api/connections/${c.id}/audit?limit=0`);
    expect(badLimit.status).toBe(400);
    const unknown = await ctx.app.api<Problem>('GET', `/api/connections/${crypto.randomUUID()}/audit`);
    expect(unknown.status).toBe(404);
  });

  it('records a consent completed in the browser (OAuth callback), the refresh token only as set', async () => {
    const c = await createConnection({
      authMode: 'authorization_code',
      authorityHost: ctx.sim.authorityHost,
      graphEndpoint: ctx.sim.graphBaseUrl,
    });
    const start = await ctx.app.api('GET', `/api/connections/${c.id}/authorize`);
    expect(start.status, start.text).toBe(302);
    const atTenant = await fetch(start.headers.get('location')!, { redirect: 'manual' });
    const callback = new URL(atTenant.headers.get('location')!);
    const page = await ctx.app.api('GET', `${callback.pathname}${callback.search}`, undefined, { key: false });
    expect(page.status).toBe(200);

    const audit = await ctx.app.api<{ value: AuditEntry[] }>('GET', `/api/connections/${c.id}/audit`);
    const [consent] = audit.body.value;
    expect(consent).toMatchObject({ action: 'authorization.completed', actor: { type: 'oauth-callback' } });
    expect(consent!.changes).toEqual(
      expect.arrayContaining([
        { path: 'authorization.status', before: 'not-authorized', after: 'authorized' },
        { path: 'refreshToken', secret: 'set' },
      ]),
    );
    expect(consent!.etag).toBe((await ctx.app.api('GET', `/api/connections/${c.id}`)).headers.get('etag'));
  });

  it('outlives the connection: its deletion is the newest entry', async () => {
    const c = await createConnection();
    expect((await ctx.app.api('DELETE', `/api/connections/${c.id}`)).status).toBe(200);
    const audit = await ctx.app.api<{ value: AuditEntry[] }>('GET', `/api/connections/${c.id}/audit`);
    expect(audit.status, audit.text).toBe(200);
    expect(audit.body.value.map((e) => e.action)).toEqual(['connection.deleted', 'connection.created']);
    expect(audit.body.value[0]).not.toHaveProperty('etag');
  });
});
