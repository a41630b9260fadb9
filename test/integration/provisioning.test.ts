// The provisioning pipeline through its exit doors: changes in over HTTP (or straight onto the queue), the
// queue-triggered executor on the local host, what the simulated tenant received and holds, the user state and
// the provisioning log. Real Azurite, @azure/identity, Graph client and simulated tenant; nothing mocked.
import { QueueClient } from '@azure/storage-queue';
import { describe, expect, inject, it } from 'vitest';
import { PROVISIONING_QUEUE } from '../../shared/domain/change.js';
import type { ConnectionView } from '../../shared/domain/connection.js';
import type { ProvisioningLogRecord } from '../../shared/domain/user-state.js';
import { encodeMessage } from '../../shared/storage/operation-queue.queue.js';
import { useAppWithTenant } from '../support/app-host.js';
import { person, provisioningApi } from '../support/provisioning-api.js';
import { DEFAULT_SEED } from '../support/simulated-tenant.js';
import { uniqueName } from '../support/unique.js';
import { waitFor } from '../support/wait-for.js';

const contoso = DEFAULT_SEED.contoso;
const ctx = useAppWithTenant();

interface UserView {
  status: string;
  statusReason?: string;
  appliedVersion: number;
  link: { objectId: string; userPrincipalName: string | null } | null;
  lastError: { code: string; message: string } | null;
  ownedLicenses: string[];
  desired: { profile?: { attributes: Record<string, unknown> } } | null;
  inSync: boolean;
  blockedBy: { setting: string; properties: string[] }[] | null;
}

const { readyConnection, submit, logOf } = provisioningApi(ctx, 'prov');

const userOf = async (connectionId: string, externalId: string) =>
  (await ctx.app.api<UserView>('GET', `/api/connections/${connectionId}/users/${encodeURIComponent(externalId)}`)).body;
/** Creates the user's account with a version-1 upsert, waits until it is applied, and answers its object id. */
async function created(connectionId: string, externalId: string, attributes: Record<string, unknown>): Promise<string> {
  await logOf(
    connectionId,
    externalId,
    await submit(connectionId, { type: 'upsert', externalId, version: 1, attributes }),
    'applied',
  );
  return (await userOf(connectionId, externalId)).link!.objectId;
}
const simUser = (idOrUpn: string) => ctx.sim.controls.user(contoso.tenantId, idOrUpn);
const lastSeq = async () => (await ctx.sim.controls.requests()).at(-1)?.seq ?? 0;
const writesSince = async (seq: number) =>
  (await ctx.sim.controls.requests({ since: seq, surface: 'graph' })).filter((r) => r.method !== 'GET');

describe('create, adopt, update', () => {
  it('creates the account from the mapped attributes, links it, and logs property names but never values', async () => {
    const conn = await readyConnection();
    const ext = uniqueName('emp');
    const op = await submit(conn, {
      type: 'upsert',
      externalId: ext,
      version: 1,
      attributes: person('nora.create', { jobTitle: 'Analyst', department: 'Finance' }),
    });
    const record = await logOf(conn, ext, op);
    expect(record).toMatchObject({ result: 'applied', action: 'create', type: 'upsert', version: 1 });
    expect(record.changedProperties).toEqual(
      expect.arrayContaining(['userPrincipalName', 'displayName', 'jobTitle', 'department', 'accountEnabled']),
    );
    expect(record.graphRequestIds.length).toBeGreaterThan(0);
    const account = await simUser(`nora.create@${contoso.domain}`);
    expect(account).toMatchObject({
      displayName: 'Test nora.create',
      jobTitle: 'Analyst',
      department: 'Finance',
      accountEnabled: true,
      mailNickname: 'nora.create',
    });
    const user = await userOf(conn, ext);
    expect(user).toMatchObject({
      status: 'applied',
      appliedVersion: 1,
      link: { objectId: account.id, userPrincipalName: `nora.create@${contoso.domain}` },
    });
    expect(user.desired!.profile!.attributes.password).toBe('[set]');
    expect(JSON.stringify(record)).not.toContain('Analyst');
    expect(JSON.stringify([record, user])).not.toContain('Initial-Pa55word!');
  });

  it('adopts an existing account found by the matching attribute instead of creating a second one', async () => {
    const conn = await readyConnection();
    const ext = uniqueName('emp');
    const since = await lastSeq();
    const op = await submit(conn, {
      type: 'upsert',
      externalId: ext,
      version: 1,
      attributes: person('adele.vance', { givenName: 'Adele', familyName: 'Vance', displayName: 'Adele Vance' }),
    });
    expect(await logOf(conn, ext, op)).toMatchObject({ result: 'applied', action: 'adopt' });
    expect((await writesSince(since)).filter((r) => r.method === 'POST' && r.path === '/v1.0/users')).toEqual([]);
    expect((await userOf(conn, ext)).link!.objectId).toBe(contoso.users.adele);
  });

  it('patches only the properties that differ, and writes nothing when nothing differs', async () => {
    const conn = await readyConnection();
    const ext = uniqueName('emp');
    const attributes = person('omar.update', { jobTitle: 'Engineer', city: 'Lyon' });
    await logOf(conn, ext, await submit(conn, { type: 'upsert', externalId: ext, version: 1, attributes }));
    const objectId = (await userOf(conn, ext)).link!.objectId;

    const promoted = { ...attributes, jobTitle: 'Senior Engineer' };
    const upsert = async (version: number) =>
      logOf(conn, ext, await submit(conn, { type: 'upsert', externalId: ext, version, attributes: promoted }));
    const graphRequestsSince = (seq: number) => ctx.sim.controls.requests({ since: seq, surface: 'graph' });

    let since = await lastSeq();
    expect(await upsert(2)).toMatchObject({ result: 'applied', action: 'update', changedProperties: ['jobTitle'] });
    expect((await writesSince(since)).map((r) => [r.method, r.path, r.body])).toEqual([
      ['PATCH', `/v1.0/users/${objectId}`, { jobTitle: 'Senior Engineer' }],
    ]);
    expect((await simUser(objectId)).jobTitle).toBe('Senior Engineer');

    // Only the version moved: no Graph request at all (reconciliation, not every change, finds hand edits).
    since = await lastSeq();
    expect(await upsert(3)).toMatchObject({
      result: 'skipped',
      action: 'none',
      reason: expect.stringMatching(/^Nothing new/),
    });
    expect(await graphRequestsSince(since)).toEqual([]);
    expect(await userOf(conn, ext)).toMatchObject({ status: 'skipped', inSync: true });

    // The mapping changed since the last apply: the same change is applied under it (a read, then the write).
    const mapped = await ctx.app.api(
      'PATCH',
      `/api/connections/${conn}/mapping`,
      { properties: { officeLocation: { source: null, constant: 'HQ' } } },
      { headers: { 'content-type': 'application/merge-patch+json' } },
    );
    expect(mapped.status, mapped.text).toBe(200);
    since = await lastSeq();
    expect(await upsert(4)).toMatchObject({
      result: 'applied',
      action: 'update',
      changedProperties: ['officeLocation'],
    });
    expect((await writesSince(since)).map((r) => [r.method, r.body])).toEqual([['PATCH', { officeLocation: 'HQ' }]]);

    // Applied, then nothing new again: no Graph request.
    since = await lastSeq();
    expect(await upsert(5)).toMatchObject({ result: 'skipped' });
    expect(await graphRequestsSince(since)).toEqual([]);
  });

  it('fails with upn-taken, naming the account, when the UPN belongs to another account that does not match (and never modifies it)', async () => {
    const conn = await readyConnection({ matchingRules: ['employeeId'] });
    const ext = uniqueName('emp');
    const since = await lastSeq();
    const op = await submit(conn, {
      type: 'upsert',
      externalId: ext,
      version: 1,
      attributes: person('alex.wilber', { employeeId: 'E-NOT-ALEX' }),
    });
    const record = await logOf(conn, ext, op);
    expect(record).toMatchObject({ result: 'failed', error: { code: 'upn-taken', kind: 'conflict' } });
    expect(record.error!.message).toMatch(
      /alex\.wilber@contoso\.example is taken by account b0000000-0000-4000-8000-000000000003/,
    );
    expect(record.match).toEqual([
      expect.objectContaining({ rule: 'create', objectId: 'b0000000-0000-4000-8000-000000000003', adopted: false }),
    ]);
    expect((await userOf(conn, ext)).status).toBe('failed');
    // The only write was the refused create: Alex's account was never patched.
    expect((await writesSince(since)).map((r) => r.method)).toEqual(['POST']);
  });
});

describe('what policy blocks is said, never called in sync (issue 15, point 2)', () => {
  it('allowUpdate off: a profile change is logged blocked with the setting and the properties, nothing is written, and the user is not in sync', async () => {
    const conn = await readyConnection({ allowUpdate: false });
    const ext = uniqueName('emp');
    const attributes = person('bea.blocked', { jobTitle: 'Engineer', department: 'R&D' });
    const objectId = await created(conn, ext, attributes);
    const since = await lastSeq();
    const op = await submit(conn, {
      type: 'upsert',
      externalId: ext,
      version: 2,
      attributes: { ...attributes, jobTitle: 'Manager', department: 'Sales' },
    });
    const record = await logOf(conn, ext, op);
    expect(record).toMatchObject({
      result: 'blocked',
      action: 'none',
      reason: 'Blocked by allowUpdate: jobTitle, department would change',
    });
    expect(record.blockedBy).toEqual([{ setting: 'allowUpdate', properties: ['jobTitle', 'department'] }]);
    expect(await writesSince(since)).toEqual([]);
    expect((await simUser(objectId)).jobTitle).toBe('Engineer');
    expect(await userOf(conn, ext)).toMatchObject({
      status: 'blocked',
      inSync: false,
      blockedBy: [{ setting: 'allowUpdate', properties: ['jobTitle', 'department'] }],
    });
    expect(JSON.stringify(record)).not.toContain('Manager');
  });

  it('allowDeactivate off: a deactivation is blocked and the account stays enabled', async () => {
    const conn = await readyConnection({ allowDeactivate: false });
    const ext = uniqueName('emp');
    const objectId = await created(conn, ext, person('dan.blocked'));
    const record = await logOf(conn, ext, await submit(conn, { type: 'deactivate', externalId: ext, version: 2 }));
    expect(record).toMatchObject({
      result: 'blocked',
      blockedBy: [{ setting: 'allowDeactivate', properties: ['accountEnabled'] }],
    });
    expect((await simUser(objectId)).accountEnabled).toBe(true);
    expect(await userOf(conn, ext)).toMatchObject({ inSync: false, status: 'blocked' });
  });

  it('activateOnAssign off: an upsert saying active: true keeps a disabled account disabled; an activate change enables it', async () => {
    const conn = await readyConnection({ activateOnAssign: false });
    const ext = uniqueName('emp');
    const attributes = person('ada.assign');
    const objectId = await created(conn, ext, attributes);
    await logOf(conn, ext, await submit(conn, { type: 'deactivate', externalId: ext, version: 2 }), 'applied');
    expect((await simUser(objectId)).accountEnabled).toBe(false);
    const assigned = await logOf(
      conn,
      ext,
      await submit(conn, { type: 'upsert', externalId: ext, version: 3, attributes: { ...attributes, active: true } }),
    );
    expect(assigned).toMatchObject({
      result: 'blocked',
      blockedBy: [{ setting: 'activateOnAssign', properties: ['accountEnabled'] }],
    });
    expect((await simUser(objectId)).accountEnabled).toBe(false);
    const activated = await logOf(
      conn,
      ext,
      await submit(conn, { type: 'activate', externalId: ext, version: 4 }),
      'applied',
    );
    expect(activated.action).toBe('activate');
    expect((await simUser(objectId)).accountEnabled).toBe(true);
    expect(await userOf(conn, ext)).toMatchObject({ status: 'applied', inSync: true, blockedBy: null });
  });
});

describe('activate, deactivate, remove', () => {
  it('deactivates and activates through accountEnabled', async () => {
    const conn = await readyConnection();
    const ext = uniqueName('emp');
    await logOf(
      conn,
      ext,
      await submit(conn, { type: 'upsert', externalId: ext, version: 1, attributes: person('ida.toggle') }),
    );
    const id = (await userOf(conn, ext)).link!.objectId;
    expect(
      await logOf(conn, ext, await submit(conn, { type: 'deactivate', externalId: ext, version: 2 })),
    ).toMatchObject({ result: 'applied', action: 'deactivate' });
    expect((await simUser(id)).accountEnabled).toBe(false);
    expect(await logOf(conn, ext, await submit(conn, { type: 'activate', externalId: ext, version: 3 }))).toMatchObject(
      { result: 'applied', action: 'activate' },
    );
    expect((await simUser(id)).accountEnabled).toBe(true);
  });

  it('removes by disabling by default, and by soft delete when removeAction is delete', async () => {
    const disabling = await readyConnection();
    const ext1 = uniqueName('emp');
    await logOf(
      disabling,
      ext1,
      await submit(disabling, { type: 'upsert', externalId: ext1, version: 1, attributes: person('rae.disable') }),
    );
    expect(
      await logOf(disabling, ext1, await submit(disabling, { type: 'remove', externalId: ext1, version: 2 })),
    ).toMatchObject({ result: 'applied', action: 'disable' });
    expect(await simUser(`rae.disable@${contoso.domain}`)).toMatchObject({ accountEnabled: false, deleted: false });

    const deleting = await readyConnection({ removeAction: 'delete' });
    const ext2 = uniqueName('emp');
    await logOf(
      deleting,
      ext2,
      await submit(deleting, { type: 'upsert', externalId: ext2, version: 1, attributes: person('del.delete') }),
    );
    const objectId = (await userOf(deleting, ext2)).link!.objectId;
    expect(
      await logOf(deleting, ext2, await submit(deleting, { type: 'remove', externalId: ext2, version: 2 })),
    ).toMatchObject({ result: 'applied', action: 'delete' });
    expect((await simUser(objectId)).deleted).toBe(true);
    // Removing again finds nothing to remove: idempotent.
    expect(
      await logOf(deleting, ext2, await submit(deleting, { type: 'remove', externalId: ext2, version: 3 })),
    ).toMatchObject({ result: 'skipped' });
  });

  it('honours the policy toggles: nothing is created when allowCreate is off', async () => {
    const conn = await readyConnection({ allowCreate: false });
    const ext = uniqueName('emp');
    const since = await lastSeq();
    expect(
      await logOf(
        conn,
        ext,
        await submit(conn, { type: 'upsert', externalId: ext, version: 1, attributes: person('no.create') }),
      ),
    ).toMatchObject({ result: 'skipped', reason: expect.stringMatching(/allowCreate/) });
    expect(await writesSince(since)).toEqual([]);
  });
});

describe('licenses', () => {
  it('assigns licenses (usage location first) and removes only the ones this connection assigned', async () => {
    const conn = await readyConnection();
    const ext = uniqueName('emp');
    await logOf(
      conn,
      ext,
      await submit(conn, {
        type: 'upsert',
        externalId: ext,
        version: 1,
        attributes: person('lia.license', { country: 'FR' }),
        licenses: ['ENTERPRISEPACK'],
      }),
    );
    const id = (await userOf(conn, ext)).link!.objectId;
    const licensed = await simUser(id);
    expect(licensed.usageLocation).toBe('FR');
    expect((licensed.assignedLicenses as { skuId: string }[]).map((l) => l.skuId)).toEqual([
      contoso.skus.enterprisePack,
    ]);
    expect((await userOf(conn, ext)).ownedLicenses).toEqual([contoso.skus.enterprisePack]);

    const removed = await logOf(
      conn,
      ext,
      await submit(conn, {
        type: 'upsert',
        externalId: ext,
        version: 2,
        attributes: person('lia.license', { country: 'FR' }),
        licenses: [],
      }),
    );
    expect(removed.changedProperties).toContain('assignedLicenses');
    expect((await simUser(id)).assignedLicenses).toEqual([]);
  });

  it('fails with "no free seats" (visible on the user and in the log) when the SKU is used up', async () => {
    const conn = await readyConnection({ usageLocation: 'US' });
    const seats = (await ctx.sim.controls.skus(contoso.tenantId)).find((s) => s.skuPartNumber === 'SPE_E3')!;
    const results: ProvisioningLogRecord[] = [];
    for (let i = 0; i <= seats.free; i++) {
      const ext = uniqueName('emp');
      results.push(
        await logOf(
          conn,
          ext,
          await submit(conn, {
            type: 'upsert',
            externalId: ext,
            version: 1,
            attributes: person(`seat${i}.${ext.slice(-4)}`),
            licenses: ['SPE_E3'],
          }),
        ),
      );
    }
    const failed = results.at(-1)!;
    expect(results.slice(0, -1).every((r) => r.result === 'applied')).toBe(true);
    expect(failed).toMatchObject({
      result: 'failed',
      error: { code: 'no-free-seats', message: expect.stringMatching(/No free seats for SKU SPE_E3/) },
    });
    expect((await userOf(conn, failed.externalId)).lastError).toMatchObject({ code: 'no-free-seats' });
  });
});

describe('ordering, holding, dry run, on demand', () => {
  it('skips a stale version and keeps the newer state', async () => {
    const conn = await readyConnection();
    const ext = uniqueName('emp');
    await logOf(
      conn,
      ext,
      await submit(conn, {
        type: 'upsert',
        externalId: ext,
        version: 5,
        attributes: person('sol.stale', { jobTitle: 'v5' }),
      }),
    );
    const stale = await logOf(
      conn,
      ext,
      await submit(conn, {
        type: 'upsert',
        externalId: ext,
        version: 4,
        attributes: person('sol.stale', { jobTitle: 'v4' }),
      }),
    );
    expect(stale).toMatchObject({ result: 'skipped', reason: expect.stringMatching(/Stale: version 4/) });
    expect((await simUser(`sol.stale@${contoso.domain}`)).jobTitle).toBe('v5');
  });

  it('holds changes for a connection that is not ready and applies them once a test makes it ready', async () => {
    const created = await ctx.app.api<ConnectionView>('POST', '/api/connections', {
      name: 'not yet',
      tenantId: contoso.tenantId,
      domain: contoso.domain,
      clientId: contoso.fullApp.clientId,
      clientSecret: contoso.fullApp.secret,
      authorityHost: ctx.sim.authorityHost,
      graphEndpoint: ctx.sim.graphBaseUrl,
    });
    const conn = created.body.id;
    const ext = uniqueName('emp');
    const op = await submit(conn, { type: 'upsert', externalId: ext, version: 1, attributes: person('hal.held') });
    expect(await logOf(conn, ext, op, 'held')).toMatchObject({
      result: 'held',
      reason: expect.stringMatching(/connection is draft/),
    });
    expect((await userOf(conn, ext)).status).toBe('held');
    const tested = await ctx.app.api<{ status: string; releasedOperations?: number }>(
      'POST',
      `/api/connections/${conn}/test`,
    );
    expect(tested.body).toMatchObject({ status: 'ready', releasedOperations: 1 });
    expect(await logOf(conn, ext, op, 'applied')).toMatchObject({ action: 'create' });
    expect((await simUser(`hal.held@${contoso.domain}`)).accountEnabled).toBe(true);
  });

  it('holds the very next operation once the connection is no longer ready (the pipeline keeps a copy of the connection, issue 19)', async () => {
    const conn = await readyConnection();
    const ext = uniqueName('emp');
    const first = await submit(conn, {
      type: 'upsert',
      externalId: ext,
      version: 1,
      attributes: person('ida.instant'),
    });
    expect(await logOf(conn, ext, first)).toMatchObject({ result: 'applied', action: 'create' });
    // The copy the operation before read is still fresh: a new secret makes the connection draft, at once.
    const patched = await ctx.app.api<ConnectionView>('PATCH', `/api/connections/${conn}`, {
      clientSecret: contoso.fullApp.secret,
    });
    expect(patched.body.status).toBe('draft');
    const since = await lastSeq();
    // Straight onto the queue (as reconciliation's corrections arrive): no API call reads the connection first.
    const queue = new QueueClient(inject('storageConnectionString'), PROVISIONING_QUEUE);
    const next = uniqueName('op');
    await queue.sendMessage(
      encodeMessage({
        type: 'upsert',
        connectionId: conn,
        externalId: ext,
        version: 2,
        operationId: next,
        attributes: person('ida.instant', { jobTitle: 'Held at once' }),
      }),
    );
    expect(await logOf(conn, ext, next, 'held')).toMatchObject({
      result: 'held',
      reason: expect.stringMatching(/draft/),
    });
    expect(await writesSince(since)).toEqual([]);
  });

  it("plans instead of writing in a dry run: the would-be requests are the operation's plan", async () => {
    const conn = await readyConnection({ dryRun: true });
    const ext = uniqueName('emp');
    const since = await lastSeq();
    const record = await logOf(
      conn,
      ext,
      await submit(conn, {
        type: 'upsert',
        externalId: ext,
        version: 1,
        attributes: person('dry.run', { country: 'US' }),
        licenses: ['ENTERPRISEPACK'],
      }),
    );
    expect(record, JSON.stringify(record.error)).toMatchObject({ result: 'planned', action: 'create' });
    expect(record.plan![0]).toMatchObject({
      method: 'POST',
      url: `${ctx.sim.graphBaseUrl}/v1.0/users`,
      body: { userPrincipalName: `dry.run@${contoso.domain}`, passwordProfile: { password: '[redacted]' } },
    });
    expect(record.plan!.map((p) => p.method)).toEqual(['POST', 'POST']);
    expect(await writesSince(since)).toEqual([]);
    expect((await userOf(conn, ext)).status).toBe('planned');
  });

  it('provisions on demand and answers the step trace', async () => {
    const conn = await readyConnection();
    const ext = uniqueName('emp');
    const res = await ctx.app.api<{
      result: string;
      action: string;
      trace: { step: string; detail: string }[];
      graphRequestIds: string[];
      objectId: string;
    }>('POST', `/api/connections/${conn}/users/${ext}/provision`, {
      type: 'upsert',
      version: 1,
      attributes: person('pod.demand'),
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ result: 'applied', action: 'create', objectId: expect.any(String) });
    expect(res.body.trace.map((t) => t.step)).toEqual(['version', 'connection', 'match', 'action']);
    expect(res.body.trace[2]!.detail).toMatch(/No account has userPrincipalName = pod\.demand@/);
    // Without a body: re-applies the current desired state (nothing to change now).
    const again = await ctx.app.api<{ result: string }>('POST', `/api/connections/${conn}/users/${ext}/provision`);
    expect(again.body.result).toBe('skipped');
  });
});

describe('deleting a connection with provisioned users', () => {
  it('requires a choice; keep leaves the accounts; deprovision removes them first, then the connection can go', async () => {
    const conn = await readyConnection();
    const ext = uniqueName('emp');
    await logOf(
      conn,
      ext,
      await submit(conn, { type: 'upsert', externalId: ext, version: 1, attributes: person('del.choice') }),
    );
    const objectId = (await userOf(conn, ext)).link!.objectId;

    const refused = await ctx.app.api<{ code: string; provisionedUsers: number; detail: string }>(
      'DELETE',
      `/api/connections/${conn}`,
    );
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({
      code: 'provisioned-users-choice-required',
      provisionedUsers: 1,
      detail: expect.stringMatching(/provisionedUsers=keep.*provisionedUsers=deprovision/),
    });

    const deprovisioning = await ctx.app.api<{ deleted: boolean; provisionedUsers: { count: number; action: string } }>(
      'DELETE',
      `/api/connections/${conn}?provisionedUsers=deprovision`,
    );
    expect(deprovisioning.status).toBe(202);
    expect(deprovisioning.body).toMatchObject({
      deleted: false,
      provisionedUsers: { count: 1, action: 'deprovisioning' },
    });
    await waitFor(async () => (await simUser(objectId)).accountEnabled === false, {
      what: 'the account to be disabled',
      timeoutMs: 20_000,
    });
    await waitFor(async () => (await userOf(conn, ext)).appliedVersion === 2, { what: 'the remove to be recorded' });
    const deleted = await ctx.app.api<{ deleted: boolean }>('DELETE', `/api/connections/${conn}`);
    expect(deleted.body).toMatchObject({ deleted: true, provisionedUsers: { count: 0 } });
    expect((await ctx.app.api('GET', `/api/connections/${conn}/users/${ext}`)).status).toBe(404);

    const kept = await readyConnection();
    const ext2 = uniqueName('emp');
    await logOf(
      kept,
      ext2,
      await submit(kept, { type: 'upsert', externalId: ext2, version: 1, attributes: person('del.keep') }),
    );
    const keep = await ctx.app.api<{ deleted: boolean; provisionedUsers: { action: string } }>(
      'DELETE',
      `/api/connections/${kept}?provisionedUsers=keep`,
    );
    expect(keep.body).toMatchObject({ deleted: true, provisionedUsers: { count: 1, action: 'kept' } });
    expect(await simUser(`del.keep@${contoso.domain}`)).toMatchObject({ accountEnabled: true, deleted: false });
    expect(
      (await ctx.app.api<{ errors: { field: string }[] }>('DELETE', `/api/connections/${kept}?provisionedUsers=maybe`))
        .status,
    ).toBe(400);
  });
});

describe('throttling and transient faults', () => {
  it('defers a throttled create by Retry-After (a new queue message, no sleeping) and then applies it once', async () => {
    const conn = await readyConnection();
    const ext = uniqueName('emp');
    const since = await lastSeq();
    await ctx.sim.controls.addFault({
      match: { surface: 'graph', method: 'POST', path: '^/v1.0/users$' },
      fault: { kind: 'status', status: 429, retryAfterSeconds: 1 },
      count: 1,
    });
    try {
      const op = await submit(conn, {
        type: 'upsert',
        externalId: ext,
        version: 1,
        attributes: person('tom.throttle'),
      });
      expect(await logOf(conn, ext, op, 'applied')).toMatchObject({ action: 'create' });
      const posts = (await ctx.sim.controls.requests({ since, surface: 'graph' })).filter(
        (r) => r.method === 'POST' && r.path === '/v1.0/users',
      );
      expect(posts.map((r) => r.status)).toEqual([429, 201]);
      const [throttled, created] = posts;
      expect(Date.parse(created!.at) - Date.parse(throttled!.at)).toBeGreaterThanOrEqual(1000);
    } finally {
      await ctx.sim.controls.clearFaults();
    }
  });
});

describe('failures stay visible and retryable', () => {
  it('records a malformed queue message as failed and completes it (no five retries)', async () => {
    const conn = await readyConnection();
    const queue = new QueueClient(inject('storageConnectionString'), PROVISIONING_QUEUE);
    await queue.createIfNotExists();
    const ext = uniqueName('emp');
    await queue.sendMessage(
      encodeMessage({
        type: 'upsert',
        connectionId: conn,
        externalId: ext,
        version: 'one',
        operationId: 'malformed-1',
      }),
    );
    const record = await logOf(conn, ext, 'malformed-1');
    expect(record).toMatchObject({
      result: 'failed',
      error: { code: 'malformed-message', message: expect.stringMatching(/version/) },
    });
  });

  it('records a message drained from the poison queue on the user and in the log', async () => {
    const conn = await readyConnection();
    const ext = uniqueName('emp');
    const poison = new QueueClient(inject('storageConnectionString'), `${PROVISIONING_QUEUE}-poison`);
    await poison.createIfNotExists();
    await poison.sendMessage(
      encodeMessage({
        type: 'upsert',
        connectionId: conn,
        externalId: ext,
        version: 3,
        operationId: 'poisoned-1',
        attributes: person('poi.son'),
      }),
    );
    expect(await logOf(conn, ext, 'poisoned-1')).toMatchObject({
      result: 'failed',
      error: { code: 'retries-exhausted' },
    });
    expect((await userOf(conn, ext)).status).toBe('failed');
    // The failed change can be retried by an admin: it runs again and applies.
    const retried = await ctx.app.api<{ operationId: string }>('POST', `/api/connections/${conn}/users/${ext}/retry`);
    expect(retried.status).toBe(202);
    expect(await logOf(conn, ext, 'poisoned-1', 'applied')).toMatchObject({ action: 'create' });
    // Now applied: nothing to retry, said as a 409 problem (its detail `status` must not replace the HTTP status).
    const again = await ctx.app.api<{ status: number; code: string }>(
      'POST',
      `/api/connections/${conn}/users/${ext}/retry`,
    );
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ status: 409, code: 'nothing-to-retry' });
  });

  it('rejects a request with any bad change, naming each, and enqueues none of them', async () => {
    const conn = await readyConnection();
    const good = { type: 'upsert', externalId: uniqueName('emp'), version: 1, attributes: person('never.enqueued') };
    const res = await ctx.app.api<{ errors: { field: string }[] }>('POST', `/api/connections/${conn}/changes`, {
      changes: [good, { type: 'rename', externalId: 'x', version: 1 }, { type: 'upsert', externalId: 'y', version: 0 }],
    });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e) => e.field)).toEqual(['changes.1.type', 'changes.2.version']);
    await new Promise((r) => setTimeout(r, 2500));
    expect((await ctx.app.api('GET', `/api/connections/${conn}/users/${good.externalId}`)).status).toBe(404);
  });
});
