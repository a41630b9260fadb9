// Import from Microsoft 365 through its exit doors: the four lists over HTTP for a tenant seeded with known
// accounts, then a selection applied, checked in the user records, the tenant's state and the requests it got.
import { describe, expect, it } from 'vitest';
import type { ConnectionView } from '../../shared/domain/connection.js';
import type { ProvisioningLogRecord } from '../../shared/domain/user-state.js';
import type { ImportEntry } from '../../shared/provisioning/import-preview.js';
import { useAppWithTenant } from '../support/app-host.js';
import { provisioningApi } from '../support/provisioning-api.js';
import { DEFAULT_SEED } from '../support/simulated-tenant.js';
import { uniqueName } from '../support/unique.js';
import { waitFor } from '../support/wait-for.js';

const contoso = DEFAULT_SEED.contoso;
const ctx = useAppWithTenant();

interface Preview {
  matchingRules: string[];
  counts: Record<'new' | 'update' | 'activate' | 'deactivate', number>;
  lists: Partial<Record<'new' | 'update' | 'activate' | 'deactivate', ImportEntry[]>>;
  continuation?: string | null;
}
interface UserView {
  status: string;
  link: { objectId: string } | null;
  desired: { profile?: { version: number; attributes: Record<string, unknown> }; lifecycle?: { state: string } } | null;
}

const graph = () =>
  ctx.sim.graphClientFor(ctx.sim.credentialFor(contoso.tenantId, contoso.fullApp.clientId, contoso.fullApp.secret));
const simUser = (id: string) => ctx.sim.controls.user(contoso.tenantId, id);
const lastSeq = async () => (await ctx.sim.controls.requests()).at(-1)?.seq ?? 0;
const userOf = async (conn: string, ext: string) =>
  (await ctx.app.api<UserView>('GET', `/api/connections/${conn}/users/${encodeURIComponent(ext)}`)).body;

async function provision(
  conn: string,
  externalId: string,
  userName: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const attributes = {
    userName,
    givenName: 'Imp',
    familyName: 'Test',
    displayName: `Imp ${userName}`,
    active: true,
    jobTitle: 'Engineer',
    password: 'Initial-Pa55word!',
    ...extra,
  };
  const res = await ctx.app.api<{ operations: { operationId: string }[] }>('POST', `/api/connections/${conn}/changes`, {
    type: 'upsert',
    externalId,
    version: 1,
    attributes,
  });
  expect(res.status, res.text).toBe(202);
  return waitFor(async () => (await userOf(conn, externalId)).link?.objectId, {
    what: `${externalId} provisioned`,
    timeoutMs: 20_000,
  });
}

describe('import from Microsoft 365', () => {
  it('lists new, update, activate and deactivate by the matching attribute, pages them, and applies exactly the selection', async () => {
    const created = await ctx.app.api<ConnectionView>('POST', '/api/connections', {
      name: uniqueName('import'),
      tenantId: contoso.tenantId,
      domain: contoso.domain,
      clientId: contoso.fullApp.clientId,
      clientSecret: contoso.fullApp.secret,
      authorityHost: ctx.sim.authorityHost,
      graphEndpoint: ctx.sim.graphBaseUrl,
    });
    const conn = created.body.id;
    // Not ready yet: import needs a tested connection.
    const notReady = await ctx.app.api<{ code: string }>('GET', `/api/connections/${conn}/import`);
    expect(notReady.body?.code, `${notReady.status} ${notReady.text}`).toBe('connection-not-ready');
    expect((await ctx.app.api<{ status: string }>('POST', `/api/connections/${conn}/test`)).body.status).toBe('ready');

    const ext = { upd: 'imp-upd', upd2: 'imp-upd2', act: 'imp-act', deact: 'imp-deact', same: 'imp-same' };
    const ids = {
      upd: await provision(conn, ext.upd, 'imp.upd'),
      upd2: await provision(conn, ext.upd2, 'imp.upd2'),
      act: await provision(conn, ext.act, 'imp.act', { active: false }),
      deact: await provision(conn, ext.deact, 'imp.deact'),
      same: await provision(conn, ext.same, 'imp.same'),
    };
    // By hand in Microsoft 365: two title edits, one account enabled, one disabled, one new account.
    await graph().api(`/users/${ids.upd}`).patch({ jobTitle: 'Edited upd' });
    await graph().api(`/users/${ids.upd2}`).patch({ jobTitle: 'Edited upd2', department: 'Sales' });
    await graph().api(`/users/${ids.act}`).patch({ accountEnabled: true });
    await graph().api(`/users/${ids.deact}`).patch({ accountEnabled: false });
    const newbie = (await graph()
      .api('/users')
      .post({
        accountEnabled: true,
        displayName: 'Nina Newbie',
        givenName: 'Nina',
        surname: 'Newbie',
        jobTitle: 'Analyst',
        mailNickname: 'nina.newbie',
        userPrincipalName: `nina.newbie@${contoso.domain}`,
        passwordProfile: { password: 'Initial-Pa55word!', forceChangePasswordNextSignIn: true },
      })) as { id: string };

    const preview = await ctx.app.api<Preview>('GET', `/api/connections/${conn}/import`);
    expect(preview.status, preview.text).toBe(200);
    expect(preview.body.matchingRules).toEqual(['userPrincipalName']);
    // The seeded admin, Adele and Alex, plus Nina.
    expect(preview.body.counts).toEqual({ new: 4, update: 2, activate: 1, deactivate: 1 });
    expect(preview.body.lists.new!.map((e) => e.account.objectId).sort()).toEqual(
      [contoso.users.admin, contoso.users.adele, contoso.users.alex, newbie.id].sort(),
    );
    expect(preview.body.lists.update!.find((e) => e.externalId === ext.upd)).toMatchObject({
      account: { objectId: ids.upd },
      differences: [{ property: 'jobTitle', directory: 'Engineer', microsoft365: 'Edited upd' }],
    });
    // department: the directory has no value for it, so it does not manage it (no difference).
    expect(
      preview.body.lists.update!.find((e) => e.externalId === ext.upd2)!.differences!.map((d) => d.property),
    ).toEqual(['jobTitle']);
    expect(preview.body.lists.activate).toEqual([
      expect.objectContaining({
        externalId: ext.act,
        account: expect.objectContaining({ objectId: ids.act, accountEnabled: true }),
      }),
    ]);
    expect(preview.body.lists.deactivate).toEqual([expect.objectContaining({ externalId: ext.deact })]);

    const page1 = (await ctx.app.api<Preview>('GET', `/api/connections/${conn}/import?list=new&limit=3`)).body;
    expect(page1.lists.new).toHaveLength(3);
    expect(page1.continuation).toBe('3');
    const page2 = (await ctx.app.api<Preview>('GET', `/api/connections/${conn}/import?list=new&limit=3&continuation=3`))
      .body;
    expect(page2.lists.new).toHaveLength(1);
    expect(page2.continuation).toBeNull();
    expect(new Set([...page1.lists.new!, ...page2.lists.new!].map((e) => e.account.objectId)).size).toBe(4);
    expect((await ctx.app.api<{ code: string }>('GET', `/api/connections/${conn}/import?list=everything`)).status).toBe(
      400,
    );

    const since = await lastSeq();
    const applied = await ctx.app.api<{
      summary: Record<string, number>;
      results: { list: string; externalId?: string; objectId?: string; result: string; operationId?: string }[];
    }>('POST', `/api/connections/${conn}/import`, {
      new: [{ objectId: newbie.id }],
      update: [
        { externalId: ext.upd, source: 'directory' },
        { externalId: ext.upd2, source: 'microsoft365' },
      ],
      activate: [ext.act, 'nobody-such'],
    });
    expect(applied.status, applied.text).toBe(200);
    expect(applied.body.summary).toMatchObject({
      imported: 1,
      enqueued: 1,
      'directory-updated': 1,
      'directory-activated': 1,
      'directory-deactivated': 0,
      skipped: 1,
      failed: 0,
    });
    expect(applied.body.results).toContainEqual(
      expect.objectContaining({
        list: 'new',
        objectId: newbie.id,
        externalId: `nina.newbie@${contoso.domain}`,
        result: 'imported',
      }),
    );
    expect(applied.body.results).toContainEqual(
      expect.objectContaining({ list: 'activate', externalId: 'nobody-such', result: 'skipped' }),
    );

    // new: a linked directory record whose attributes are the account's.
    const nina = await userOf(conn, `nina.newbie@${contoso.domain}`);
    expect(nina).toMatchObject({
      status: 'applied',
      link: { objectId: newbie.id },
      desired: {
        profile: { version: 0, attributes: { givenName: 'Nina', familyName: 'Newbie', jobTitle: 'Analyst' } },
        lifecycle: { state: 'active' },
      },
    });
    // update from the directory: Microsoft 365 gets the directory's title back.
    const operationId = applied.body.results.find((r) => r.externalId === ext.upd)!.operationId!;
    await waitFor(
      async () =>
        (
          await ctx.app.api<{ value: ProvisioningLogRecord[] }>(
            'GET',
            `/api/connections/${conn}/logs?externalId=${ext.upd}`,
          )
        ).body.value.find((r) => r.operationId === operationId),
      { what: 'update applied', timeoutMs: 20_000 },
    );
    expect((await simUser(ids.upd)).jobTitle).toBe('Engineer');
    // update from Microsoft 365 and activate: only the directory changed.
    expect((await userOf(conn, ext.upd2)).desired!.profile!.attributes).toMatchObject({
      jobTitle: 'Edited upd2',
      department: 'Sales',
    });
    expect((await userOf(conn, ext.act)).desired!.lifecycle!.state).toBe('active');
    const writes = (await ctx.sim.controls.requests({ since, surface: 'graph' })).filter((r) => r.method !== 'GET');
    expect(writes.map((w) => `${w.method} ${w.path}`)).toEqual([`PATCH /v1.0/users/${ids.upd}`]);

    // What was not selected is still listed; what was is not.
    const after = (await ctx.app.api<Preview>('GET', `/api/connections/${conn}/import`)).body;
    expect(after.counts).toEqual({ new: 3, update: 0, activate: 0, deactivate: 1 });
    expect((await simUser(ids.deact)).accountEnabled).toBe(false);
  }, 90_000);

  it('applies a user selected in two lists (update from Microsoft 365 and deactivate) both ways, in one request', async () => {
    const conn = await provisioningApi(ctx, 'import').readyConnection();
    const ext = 'imp-both';
    const id = await provision(conn, ext, 'imp.both');
    // By hand in Microsoft 365: a title edit and the account disabled.
    await graph().api(`/users/${id}`).patch({ jobTitle: 'Edited both', accountEnabled: false });
    const preview = (await ctx.app.api<Preview>('GET', `/api/connections/${conn}/import`)).body;
    expect(preview.lists.update!.map((e) => e.externalId)).toContain(ext);
    expect(preview.lists.deactivate!.map((e) => e.externalId)).toContain(ext);

    const since = await lastSeq();
    const applied = await ctx.app.api<{ summary: Record<string, number>; results: { list: string; result: string }[] }>(
      'POST',
      `/api/connections/${conn}/import`,
      { update: [{ externalId: ext, source: 'microsoft365' }], deactivate: [ext] },
    );
    expect(applied.status, applied.text).toBe(200);
    expect(applied.body.summary).toMatchObject({ 'directory-updated': 1, 'directory-deactivated': 1, failed: 0 });
    const user = await userOf(conn, ext);
    expect(user.desired!.profile!.attributes).toMatchObject({ jobTitle: 'Edited both' });
    expect(user.desired!.lifecycle!.state).toBe('inactive');
    const writes = (await ctx.sim.controls.requests({ since, surface: 'graph' })).filter((r) => r.method !== 'GET');
    expect(writes).toEqual([]);
    const after = (await ctx.app.api<Preview>('GET', `/api/connections/${conn}/import`)).body;
    expect([...after.lists.update!, ...after.lists.deactivate!].map((e) => e.externalId)).not.toContain(ext);
  }, 60_000);

  it('refuses an empty or malformed selection with a problem naming the field', async () => {
    const created = await ctx.app.api<ConnectionView>('POST', '/api/connections', {
      name: uniqueName('import'),
      tenantId: contoso.tenantId,
      domain: contoso.domain,
      clientId: contoso.fullApp.clientId,
      clientSecret: contoso.fullApp.secret,
      authorityHost: ctx.sim.authorityHost,
      graphEndpoint: ctx.sim.graphBaseUrl,
    });
    const conn = created.body.id;
    await ctx.app.api('POST', `/api/connections/${conn}/test`);
    const empty = await ctx.app.api<{ code: string }>('POST', `/api/connections/${conn}/import`, {});
    expect(empty.status).toBe(400);
    expect(empty.text).toMatch(/select at least one user/);
    const bad = await ctx.app.api<{ errors: { field: string }[] }>('POST', `/api/connections/${conn}/import`, {
      update: [{ externalId: 'x', source: 'elsewhere' }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e) => e.field)).toEqual(['update.0.source']);
  });
});
