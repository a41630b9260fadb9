// Issue 16: groups as a second object type on the same queue, through the exit doors — POST …/changes and the queue,
// the group view and log, and what the simulated tenant received and holds. Real Azurite, @azure/identity, Graph
// client and simulated tenant; nothing mocked.
import { TableClient } from '@azure/data-tables';
import { describe, expect, inject, it } from 'vitest';
import { PROVISIONING_QUEUE } from '../../shared/domain/change.js';
import type { PendingReference, ProvisioningLogRecord } from '../../shared/domain/user-state.js';
import { sendChange } from '../../shared/storage/operation-queue.queue.js';
import { useAppWithTenant } from '../support/app-host.js';
import { person, provisioningApi } from '../support/provisioning-api.js';
import { shuffle } from '../support/shuffle.js';
import { DEFAULT_SEED } from '../support/simulated-tenant.js';
import { uniqueName } from '../support/unique.js';
import { waitFor } from '../support/wait-for.js';

const contoso = DEFAULT_SEED.contoso;
const ctx = useAppWithTenant();
const { createConnection, readyConnection, submit, logOf, logsOf, linkedUsers } = provisioningApi(ctx, 'grp');

interface ObjectView {
  status: string;
  statusReason?: string;
  inSync: boolean;
  pending: PendingReference[];
  link: { objectId: string } | null;
}

const graph = () =>
  ctx.sim.graphClientFor(ctx.sim.credentialFor(contoso.tenantId, contoso.fullApp.clientId, contoso.fullApp.secret));
const lastSeq = async () => (await ctx.sim.controls.requests()).at(-1)?.seq ?? 0;
const groupWritesSince = async (seq: number) =>
  (await ctx.sim.controls.requests({ since: seq, surface: 'graph' }))
    .filter((r) => r.method !== 'GET' && /^\/v1\.0\/groups/.test(r.path))
    .map((r) => `${r.method} ${r.path.replace(/[0-9a-f-]{36}/g, '{id}')}`);
const groupOf = async (conn: string, externalId: string) =>
  (await ctx.app.api<ObjectView>('GET', `/api/connections/${conn}/groups/${encodeURIComponent(externalId)}`)).body;
const userOf = async (conn: string, externalId: string) =>
  (await ctx.app.api<ObjectView>('GET', `/api/connections/${conn}/users/${encodeURIComponent(externalId)}`)).body;
const membersOf = async (groupId: string) =>
  (
    (await graph().api(`/groups/${groupId}/members`).select('id').top(999).get()) as { value: { id: string }[] }
  ).value.map((m) => m.id);

const users = (conn: string, count: number) => linkedUsers(conn, count);

async function groupChange(
  conn: string,
  externalId: string,
  attributes: Record<string, unknown>,
  version = 1,
  type = 'upsert',
): Promise<ProvisioningLogRecord> {
  const op = await submit(conn, { objectType: 'group', type, externalId, version, attributes });
  return logOf(conn, externalId, op);
}

const linkedGroup = async (conn: string, externalId: string) =>
  waitFor(async () => (await groupOf(conn, externalId)).link?.objectId, { what: `group ${externalId} linked` });

describe('groups: create, members at Graph’s minimum cost (issue 16)', () => {
  it('creates a 45-member group with 3 membership writes (20 in the create, then 20 and 5 per PATCH)', async () => {
    const conn = await readyConnection();
    const members = await users(conn, 45);
    const ext = uniqueName('g45');
    const since = await lastSeq();
    const record = await groupChange(conn, ext, { displayName: `Team ${ext}`, members: [...members.keys()] });
    expect(record, JSON.stringify(record)).toMatchObject({ result: 'applied', action: 'create', objectType: 'group' });
    expect(await groupWritesSince(since)).toEqual([
      'POST /v1.0/groups',
      'PATCH /v1.0/groups/{id}',
      'PATCH /v1.0/groups/{id}',
    ]);
    const group = await groupOf(conn, ext);
    expect(group).toMatchObject({ status: 'applied', inSync: true, pending: [] });
    expect((await membersOf(group.link!.objectId)).sort()).toEqual([...members.values()].sort());

    // Nothing changed: nothing written.
    const again = await ctx.app.api<{ result: string }>('POST', `/api/connections/${conn}/groups/${ext}/provision`);
    expect(again.body.result).toBe('skipped');
  });

  it('a member submitted before its user is linked waits, and joins by itself when the user is provisioned', async () => {
    const conn = await readyConnection();
    const [present] = [...(await users(conn, 1)).entries()];
    const late = uniqueName('late');
    const ext = uniqueName('gw');
    const record = await groupChange(conn, ext, { displayName: `Waiting ${ext}`, members: [present![0], late] });
    expect(record).toMatchObject({
      result: 'applied',
      pending: [expect.objectContaining({ externalId: late, as: 'member' })],
    });
    const waiting = await groupOf(conn, ext);
    expect(waiting).toMatchObject({ inSync: false, pending: [{ objectType: 'user', externalId: late, as: 'member' }] });
    expect(await membersOf(waiting.link!.objectId)).toEqual([present![1]]);

    const op = await submit(conn, {
      type: 'upsert',
      externalId: late,
      version: 1,
      attributes: person(late.toLowerCase()),
    });
    await logOf(conn, late, op, 'applied');
    const lateId = (await userOf(conn, late)).link!.objectId;
    await waitFor(async () => ((await membersOf(waiting.link!.objectId)).includes(lateId) ? true : undefined), {
      what: 'the late member added',
    });
    expect(await waitFor(async () => ((await groupOf(conn, ext)).inSync ? true : undefined))).toBe(true);
    expect((await groupOf(conn, ext)).pending).toEqual([]);
  });

  it('nested groups are flattened by default and nested as groups with nestedGroups nest', async () => {
    const flat = await readyConnection();
    const m = [...(await users(flat, 2)).entries()];
    const child = uniqueName('child');
    await groupChange(flat, child, { displayName: `Child ${child}`, members: [m[0]![0]] });
    const parent = uniqueName('parent');
    await groupChange(flat, parent, { displayName: `Parent ${parent}`, members: [m[1]![0]], groups: [child] });
    expect((await membersOf(await linkedGroup(flat, parent))).sort()).toEqual([m[0]![1], m[1]![1]].sort());

    const nest = await readyConnection({ nestedGroups: 'nest' });
    const n = [...(await users(nest, 1)).entries()];
    const inner = uniqueName('inner');
    await groupChange(nest, inner, { displayName: `Inner ${inner}`, members: [n[0]![0]] });
    const outer = uniqueName('outer');
    await groupChange(nest, outer, { displayName: `Outer ${outer}`, groups: [inner] });
    expect(await membersOf(await linkedGroup(nest, outer))).toEqual([await linkedGroup(nest, inner)]);
  });
});

describe('the group mapping', () => {
  it('maps a group’s properties like the user mapping (source, constant, expression); PATCH changes one rule; a bad mapping is refused', async () => {
    const conn = await readyConnection();
    const defaults = await ctx.app.api<{ isDefault: boolean; mapping: { properties: Record<string, unknown> } }>(
      'GET',
      `/api/connections/${conn}/group-mapping`,
    );
    expect(defaults.body).toMatchObject({ isDefault: true });
    expect(Object.keys(defaults.body.mapping.properties).sort()).toEqual([
      'description',
      'displayName',
      'mailNickname',
    ]);
    const put = await ctx.app.api('PUT', `/api/connections/${conn}/group-mapping`, {
      properties: {
        displayName: { expression: 'concat("Team ", name)' },
        description: { constant: 'Provisioned from the directory' },
        mailNickname: { expression: 'lower(mailNicknameSafe(concat("team-", name)))' },
      },
    });
    expect(put.status, put.text).toBe(200);
    const ext = uniqueName('mapped');
    const record = await groupChange(conn, ext, { name: `Blue ${ext}` });
    expect(record, JSON.stringify(record)).toMatchObject({ result: 'applied', action: 'create' });
    const groupId = await linkedGroup(conn, ext);
    expect(await graph().api(`/groups/${groupId}`).select('displayName,description,mailNickname').get()).toMatchObject({
      displayName: `Team Blue ${ext}`,
      description: 'Provisioned from the directory',
      mailNickname: `team-blue${ext.toLowerCase().replace(/[^a-z0-9-]/g, '')}`.slice(0, 64),
    });

    const patched = await ctx.app.api<{ mapping: { properties: Record<string, unknown> } }>(
      'PATCH',
      `/api/connections/${conn}/group-mapping`,
      { properties: { description: null } },
    );
    expect(patched.status, patched.text).toBe(200);
    expect(Object.keys(patched.body.mapping.properties).sort()).toEqual(['displayName', 'mailNickname']);

    const bad = await ctx.app.api<{ errors: { field: string }[] }>('PUT', `/api/connections/${conn}/group-mapping`, {
      properties: { displayName: { source: 'name' }, visibility: { constant: 'Private' } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e) => e.field).sort()).toEqual(['properties.mailNickname', 'properties.visibility']);
    // At the edge, the connection's group mapping decides what a group change must give.
    const refused = await ctx.app.api<{ errors: { field: string }[] }>('POST', `/api/connections/${conn}/changes`, {
      objectType: 'group',
      type: 'upsert',
      externalId: uniqueName('nomap'),
      version: 1,
      attributes: { displayName: 'Has a displayName but no name' },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.errors.map((e) => e.field)).toContain('attributes.displayName');
  });
});

describe('membership modes and removed users', () => {
  it('additive keeps a member added by hand; authoritative removes it; a removed user leaves the group', async () => {
    for (const mode of ['additive', 'authoritative'] as const) {
      const conn = await readyConnection({ groupMembership: mode, removeAction: 'disable' });
      const m = [...(await users(conn, 2)).entries()];
      const ext = uniqueName(mode);
      await groupChange(conn, ext, { displayName: `${mode} ${ext}`, members: [m[0]![0], m[1]![0]] });
      const groupId = await linkedGroup(conn, ext);
      const byHand = (await graph()
        .api('/users')
        .post({
          accountEnabled: true,
          displayName: 'By hand',
          mailNickname: uniqueName('hand').replace(/[^a-z0-9]/gi, ''),
          userPrincipalName: `${uniqueName('hand').toLowerCase()}@${contoso.domain}`,
          passwordProfile: { password: 'Initial-Pa55word!' },
        })) as { id: string };
      await graph()
        .api(`/groups/${groupId}/members/$ref`)
        .post({ '@odata.id': `${ctx.sim.graphBaseUrl}/v1.0/directoryObjects/${byHand.id}` });

      // The directory drops the second member; the first is removed at the source.
      await groupChange(conn, ext, { displayName: `${mode} ${ext}`, members: [m[0]![0]] }, 2);
      const expected = mode === 'additive' ? [m[0]![1], byHand.id] : [m[0]![1]];
      expect((await membersOf(groupId)).sort()).toEqual(expected.sort());

      const op = await submit(conn, { type: 'remove', externalId: m[0]![0], version: 2 });
      await logOf(conn, m[0]![0], op, 'applied');
      const left = mode === 'additive' ? [byHand.id] : [];
      await waitFor(async () => ((await membersOf(groupId)).sort().join() === left.sort().join() ? true : undefined), {
        what: `${mode}: the removed user leaves`,
      });
    }
  });
});

describe('the manager link', () => {
  it('a manager provisioned after the report is linked by itself, not failed', async () => {
    const conn = await readyConnection();
    const [report, boss] = [uniqueName('rep'), uniqueName('boss')];
    const first = await logOf(
      conn,
      report,
      await submit(conn, {
        type: 'upsert',
        externalId: report,
        version: 1,
        attributes: person(report.toLowerCase(), { managerExternalId: boss }),
      }),
    );
    expect(first).toMatchObject({
      result: 'applied',
      pending: [expect.objectContaining({ externalId: boss, as: 'manager' })],
    });
    expect((await userOf(conn, report)).inSync).toBe(false);
    await logOf(
      conn,
      boss,
      await submit(conn, { type: 'upsert', externalId: boss, version: 1, attributes: person(boss.toLowerCase()) }),
      'applied',
    );
    const [reportId, bossId] = [(await userOf(conn, report)).link!.objectId, (await userOf(conn, boss)).link!.objectId];
    const manager = await waitFor(
      async () =>
        (
          (await graph()
            .api(`/users/${reportId}/manager`)
            .get()
            .catch(() => undefined)) as { id: string } | undefined
        )?.id,
      { what: 'the manager linked' },
    );
    expect(manager).toBe(bossId);
    expect(await waitFor(async () => ((await userOf(conn, report)).inSync ? true : undefined))).toBe(true);
  });
});

describe('group changes: order, duplicates, edge', () => {
  it('shuffled, duplicated group changes end in the in-order state', async () => {
    const conn = await readyConnection();
    const m = [...(await users(conn, 3)).entries()];
    const ext = uniqueName('ord');
    const versions = [1, 2, 3].map((v) => ({
      objectType: 'group' as const,
      type: 'upsert' as const,
      connectionId: conn,
      externalId: ext,
      version: v,
      attributes: { displayName: `Order ${ext} v${v}`, members: m.slice(0, v).map(([id]) => id) },
    }));
    await Promise.all(
      shuffle([...versions, ...versions], 7).map((c) =>
        sendChange(inject('storageConnectionString'), c, PROVISIONING_QUEUE),
      ),
    );
    const groupId = await linkedGroup(conn, ext);
    await waitFor(
      async () => {
        const logs = await logsOf(conn, ext);
        return logs.length >= 6 && (await groupOf(conn, ext)).inSync ? true : undefined;
      },
      { what: 'all six copies handled', timeoutMs: 30_000 },
    );
    const group = (await graph().api(`/groups/${groupId}`).select('displayName').get()) as { displayName: string };
    expect(group.displayName).toBe(`Order ${ext} v3`);
    expect((await membersOf(groupId)).sort()).toEqual(m.map(([, id]) => id).sort());
  });

  it('a dry run plans the group and its members without sending a write', async () => {
    const conn = await readyConnection();
    const m = [...(await users(conn, 1)).entries()];
    expect((await ctx.app.api('PATCH', `/api/connections/${conn}/settings`, { dryRun: true })).status).toBe(200);
    const ext = uniqueName('dry');
    const since = await lastSeq();
    const record = await groupChange(conn, ext, { displayName: `Dry ${ext}`, members: [m[0]![0]] });
    expect(record).toMatchObject({ result: 'planned', objectType: 'group' });
    expect(record.plan?.map((p) => `${p.method} ${new URL(p.url).pathname}`)).toEqual(['POST /v1.0/groups']);
    expect(JSON.stringify(record.plan)).toContain('members@odata.bind');
    expect(await groupWritesSince(since)).toEqual([]);
  });

  it('a group change for a connection that is not ready is held, and applied once a test makes it ready', async () => {
    const conn = await createConnection();
    const ext = uniqueName('held');
    const held = await groupChange(conn, ext, { displayName: `Held ${ext}` });
    expect(held).toMatchObject({ result: 'held', objectType: 'group' });
    expect((await groupOf(conn, ext)).status).toBe('held');
    const tested = await ctx.app.api<{ status: string; releasedOperations?: number }>(
      'POST',
      `/api/connections/${conn}/test`,
    );
    expect(tested.body).toMatchObject({ status: 'ready', releasedOperations: 1 });
    expect(await linkedGroup(conn, ext)).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('deleting the connection removes its group rows and waits; the Microsoft 365 group stays', async () => {
    const conn = await readyConnection();
    const ext = uniqueName('del');
    await groupChange(conn, ext, { displayName: `Del ${ext}`, members: [uniqueName('never')] });
    const groupId = await linkedGroup(conn, ext);
    const rows = async (table: string, partitionKey: string) => {
      const client = TableClient.fromConnectionString(inject('storageConnectionString'), table, {
        allowInsecureConnection: true,
      });
      const found = [];
      for await (const e of client.listEntities({ queryOptions: { filter: `PartitionKey eq '${partitionKey}'` } }))
        found.push(e);
      return found.length;
    };
    expect(await rows('groups', conn)).toBe(1);
    expect(await rows('users', `${conn}~waits`)).toBe(1);
    expect((await ctx.app.api('DELETE', `/api/connections/${conn}?provisionedUsers=keep`)).status).toBe(200);
    expect(await rows('groups', conn)).toBe(0);
    expect(await rows('users', `${conn}~waits`)).toBe(0);
    expect(await graph().api(`/groups/${groupId}`).get()).toMatchObject({ id: groupId });
  });

  it('refuses at the edge a group Graph cannot hold (mail-enabled security group, no name, bad kind, activate)', async () => {
    const conn = await readyConnection();
    const res = await ctx.app.api<{ errors: { field: string; message: string }[] }>(
      'POST',
      `/api/connections/${conn}/changes`,
      {
        changes: [
          {
            objectType: 'group',
            type: 'upsert',
            externalId: 'g1',
            version: 1,
            attributes: { displayName: 'X', mailEnabled: true },
          },
          { objectType: 'group', type: 'upsert', externalId: 'g2', version: 1, attributes: { kind: 'distribution' } },
          { objectType: 'group', type: 'activate', externalId: 'g3', version: 1 },
        ],
      },
    );
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e) => e.field)).toEqual([
      'changes.0.attributes.mailEnabled',
      'changes.1.attributes.displayName',
      'changes.1.attributes.kind',
      'changes.2.type',
    ]);
  });
});
