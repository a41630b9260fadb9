// Issue 16: import lists for groups (new / update / readOnly) with the same confirm step as users, through the exit
// doors — GET and POST …/import?objectType=group, the group view, the provisioning log, and what the simulated tenant
// holds and received. Real Azurite, @azure/identity, Graph client and simulated tenant; nothing mocked.
import { describe, expect, it } from 'vitest';
import { useAppWithTenant } from '../support/app-host.js';
import { provisioningApi } from '../support/provisioning-api.js';
import { DEFAULT_SEED } from '../support/simulated-tenant.js';
import { uniqueName } from '../support/unique.js';
import { waitFor } from '../support/wait-for.js';

const contoso = DEFAULT_SEED.contoso;
/** default-seed.json: "Finance", a mail-enabled security group made in Exchange (read-only through Graph). */
const FINANCE = 'c0000000-0000-4000-8000-000000000003';
const ctx = useAppWithTenant();
const { readyConnection, submit, logOf, linkedUsers } = provisioningApi(ctx, 'gimp');

interface GroupEntry {
  group: { objectId: string; displayName?: string; mailNickname?: string; kind: string; mailEnabled?: boolean };
  externalId?: string;
  differences?: { property: string; directory: unknown; microsoft365: unknown }[];
  reason?: string;
}
interface GroupPreview {
  objectType: string;
  matchingRules: string[];
  counts: Record<'new' | 'update' | 'readOnly', number>;
  lists: Partial<Record<'new' | 'update' | 'readOnly', GroupEntry[]>>;
  continuation?: string | null;
}
interface Applied {
  objectType: string;
  summary: Record<string, number>;
  results: {
    list: string;
    objectId?: string;
    externalId?: string;
    result: string;
    detail: string;
    operationId?: string;
    notImported?: { objectId: string; reason: string }[];
  }[];
}
interface GroupView {
  status: string;
  inSync: boolean;
  link: { objectId: string } | null;
  desired: { profile?: { version: number; attributes: Record<string, unknown> } } | null;
}

const graph = () =>
  ctx.sim.graphClientFor(ctx.sim.credentialFor(contoso.tenantId, contoso.fullApp.clientId, contoso.fullApp.secret));
const lastSeq = async () => (await ctx.sim.controls.requests()).at(-1)?.seq ?? 0;
const writesSince = async (seq: number) =>
  (await ctx.sim.controls.requests({ since: seq, surface: 'graph' }))
    .filter((r) => r.method !== 'GET')
    .map((r) => `${r.method} ${r.path}`);
const groupOf = async (conn: string, externalId: string) =>
  (await ctx.app.api<GroupView>('GET', `/api/connections/${conn}/groups/${encodeURIComponent(externalId)}`)).body;
const preview = async (conn: string, query = '') => {
  const res = await ctx.app.api<GroupPreview>('GET', `/api/connections/${conn}/import?objectType=group${query}`);
  expect(res.status, res.text).toBe(200);
  return res.body;
};
const apply = async (conn: string, selection: Record<string, unknown>) => {
  const res = await ctx.app.api<Applied>('POST', `/api/connections/${conn}/import`, {
    objectType: 'group',
    ...selection,
  });
  expect(res.status, res.text).toBe(200);
  return res.body;
};
const simGroup = async (id: string) =>
  (await graph().api(`/groups/${id}`).select('id,displayName,description,mailNickname').get()) as {
    displayName: string;
    mailNickname: string;
  };
const membersOf = async (groupId: string) =>
  (
    (await graph().api(`/groups/${groupId}/members`).select('id').top(999).get()) as { value: { id: string }[] }
  ).value.map((m) => m.id);

/** Users linked through the pipeline: object ids by externalId. */
const users = (conn: string, count: number) => linkedUsers(conn, count);

async function groupChange(conn: string, externalId: string, attributes: Record<string, unknown>, version = 1) {
  const op = await submit(conn, { objectType: 'group', type: 'upsert', externalId, version, attributes });
  return logOf(conn, externalId, op);
}

describe('import groups from Microsoft 365 (issue 16)', () => {
  it('lists a hand-made group as new; importing it links it with its linked members (the rest reported), and a later change updates it; a mail-enabled group is reported, never imported', async () => {
    const conn = await readyConnection();
    const members = await users(conn, 2);
    const nick = uniqueName('handmade').toLowerCase();
    const ref = (id: string) => `${ctx.sim.graphBaseUrl}/v1.0/directoryObjects/${id}`;
    const hand = (await graph()
      .api('/groups')
      .post({
        displayName: `Hand made ${nick}`,
        description: 'Made in the portal',
        mailNickname: nick,
        mailEnabled: false,
        securityEnabled: true,
        groupTypes: [],
        'members@odata.bind': [...members.values(), contoso.users.adele].map(ref),
      })) as { id: string };

    const listed = await preview(conn);
    expect(listed.objectType).toBe('group');
    expect(listed.matchingRules).toEqual(['mailNickname']);
    // The seeded "Licensed staff" and "All staff", and the hand-made one; Finance is read-only.
    expect(listed.counts).toEqual({ new: 3, update: 0, readOnly: 1 });
    expect(listed.lists.new!.map((e) => e.group.objectId).sort()).toEqual(
      [contoso.groups.licensedStaff, contoso.groups.allStaff, hand.id].sort(),
    );
    expect(listed.lists.new!.find((e) => e.group.objectId === hand.id)).toMatchObject({
      group: { displayName: `Hand made ${nick}`, mailNickname: nick, kind: 'security' },
    });
    expect(listed.lists.readOnly).toEqual([
      expect.objectContaining({
        group: expect.objectContaining({ objectId: FINANCE, mailEnabled: true }),
        reason: expect.stringMatching(/mail-enabled/),
      }),
    ]);
    // One list, paged.
    const page = await preview(conn, '&list=new&limit=2');
    expect(page.lists.new).toHaveLength(2);
    expect(page.continuation).toBe('2');
    expect(Object.keys(page.lists)).toEqual(['new']);

    const since = await lastSeq();
    const applied = await apply(conn, { new: [{ objectId: hand.id }, { objectId: FINANCE }] });
    expect(applied.objectType).toBe('group');
    expect(applied.summary).toMatchObject({ imported: 1, skipped: 1, failed: 0 });
    expect(applied.results).toContainEqual(
      expect.objectContaining({
        list: 'new',
        objectId: hand.id,
        externalId: nick,
        result: 'imported',
        notImported: [{ objectId: contoso.users.adele, reason: expect.stringMatching(/not a linked user/) }],
      }),
    );
    expect(applied.results).toContainEqual(
      expect.objectContaining({
        list: 'new',
        objectId: FINANCE,
        result: 'skipped',
        detail: expect.stringMatching(/read-only/),
      }),
    );
    // Import writes nothing to Microsoft 365.
    expect(await writesSince(since)).toEqual([]);

    const imported = await groupOf(conn, nick);
    expect(imported).toMatchObject({
      status: 'applied',
      inSync: true,
      link: { objectId: hand.id },
      desired: {
        profile: {
          version: 0,
          attributes: {
            displayName: `Hand made ${nick}`,
            description: 'Made in the portal',
            mailNickname: nick,
            kind: 'security',
          },
        },
      },
    });
    expect((imported.desired!.profile!.attributes.members as string[]).sort()).toEqual([...members.keys()].sort());
    expect((await preview(conn)).counts).toEqual({ new: 2, update: 0, readOnly: 1 });
    // Finance was not imported.
    expect((await ctx.app.api('GET', `/api/connections/${conn}/groups/finance`)).status).toBe(404);

    // The source's first change for it updates the linked group: no second group.
    const beforeChange = await lastSeq();
    const record = await groupChange(conn, nick, {
      displayName: `Renamed ${nick}`,
      mailNickname: nick,
      members: [...members.keys()],
    });
    expect(record, JSON.stringify(record)).toMatchObject({ result: 'applied', action: 'update' });
    expect(await writesSince(beforeChange)).toEqual([`PATCH /v1.0/groups/${hand.id}`]);
    expect((await simGroup(hand.id)).displayName).toBe(`Renamed ${nick}`);
    expect((await membersOf(hand.id)).sort()).toEqual([...members.values(), contoso.users.adele].sort());
  }, 120_000);

  it('lists a linked group changed by hand as update; "directory" writes the directory’s values back, "microsoft365" takes Microsoft 365’s', async () => {
    const conn = await readyConnection({ groupMembership: 'authoritative' });
    const members = [...(await users(conn, 2)).entries()];
    const [first, second] = [members[0]!, members[1]!];
    const a = uniqueName('ga');
    const b = uniqueName('gb');
    for (const ext of [a, b])
      expect(await groupChange(conn, ext, { displayName: `Team ${ext}`, members: [first[0]] })).toMatchObject({
        result: 'applied',
        action: 'create',
      });
    const idA = (await groupOf(conn, a)).link!.objectId;
    const idB = (await groupOf(conn, b)).link!.objectId;
    // By hand: both renamed; b also gets a member.
    await graph()
      .api(`/groups/${idA}`)
      .patch({ displayName: `Edited ${a}` });
    await graph()
      .api(`/groups/${idB}`)
      .patch({ displayName: `Edited ${b}` });
    await graph()
      .api(`/groups/${idB}/members/$ref`)
      .post({ '@odata.id': `${ctx.sim.graphBaseUrl}/v1.0/directoryObjects/${second[1]}` });

    const listed = await preview(conn);
    expect(listed.counts.update).toBe(2);
    expect(listed.lists.update!.find((e) => e.externalId === a)).toMatchObject({
      group: { objectId: idA },
      differences: [{ property: 'displayName', directory: `Team ${a}`, microsoft365: `Edited ${a}` }],
    });
    expect(listed.lists.update!.find((e) => e.externalId === b)!.differences).toEqual([
      { property: 'displayName', directory: `Team ${b}`, microsoft365: `Edited ${b}` },
      {
        property: 'members',
        directory: [],
        microsoft365: [{ objectId: second[1], externalId: second[0] }],
        counts: { directory: 0, microsoft365: 1 },
      },
    ]);

    const since = await lastSeq();
    const applied = await apply(conn, {
      update: [
        { externalId: a, source: 'directory' },
        { externalId: b, source: 'microsoft365' },
        { externalId: 'no-such-group', source: 'directory' },
      ],
    });
    expect(applied.summary).toMatchObject({ enqueued: 1, 'directory-updated': 1, skipped: 1, failed: 0 });
    const operationId = applied.results.find((r) => r.externalId === a)!.operationId!;
    const record = await logOf(conn, a, operationId);
    expect(record).toMatchObject({ result: 'applied', action: 'update' });
    expect((await simGroup(idA)).displayName).toBe(`Team ${a}`);
    // Only a's correction was written; b's values went into the directory.
    expect(await writesSince(since)).toEqual([`PATCH /v1.0/groups/${idA}`]);
    const groupB = await groupOf(conn, b);
    expect(groupB.desired!.profile!.attributes).toMatchObject({ displayName: `Edited ${b}` });
    expect((groupB.desired!.profile!.attributes.members as string[]).sort()).toEqual([first[0], second[0]].sort());
    await waitFor(async () => ((await preview(conn)).counts.update === 0 ? true : undefined), {
      what: 'no group left to update',
    });
  }, 120_000);

  it('refuses lists groups do not have with a problem naming the field', async () => {
    const conn = await readyConnection();
    const list = await ctx.app.api<{ errors: { field: string }[] }>(
      'GET',
      `/api/connections/${conn}/import?objectType=group&list=activate`,
    );
    expect(list.status, list.text).toBe(400);
    expect(list.body.errors.map((e) => e.field)).toEqual(['list']);
    const body = await ctx.app.api<{ errors: { field: string }[] }>('POST', `/api/connections/${conn}/import`, {
      objectType: 'group',
      activate: ['x'],
    });
    expect(body.status, body.text).toBe(400);
    expect(body.body.errors.map((e) => e.field)).toEqual(['activate']);
    const users = await ctx.app.api<{ errors: { field: string }[] }>(
      'GET',
      `/api/connections/${conn}/import?list=readOnly`,
    );
    expect(users.status, users.text).toBe(400);
  });
});
