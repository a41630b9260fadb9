// SCIM requests go through the same pipeline as POST …/changes (issue 18): versions assigned at receipt under the
// SCIM row's ETag, so concurrent requests for one user are ordered and none is lost; a PATCH is resolved against
// what was received, not an empty user; the connection's mapping, dry run, logs and user view apply unchanged;
// the password is never kept in plain text. Real local host, Azurite, simulated tenant.
import { TableClient } from '@azure/data-tables';
import { describe, expect, inject, it } from 'vitest';
import { useAppWithTenant } from '../support/app-host.js';
import { accountWhen as accountOf, contosoTenant, scimEndpoint } from '../support/scim-client.js';
import { DEFAULT_SEED } from '../support/simulated-tenant.js';
import { uniqueName } from '../support/unique.js';
import { waitFor } from '../support/wait-for.js';

const ctx = useAppWithTenant();
const domain = DEFAULT_SEED.contoso.domain;
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const CUSTOM = 'urn:ietf:params:scim:schemas:extension:CustomExt:2.0:User';

const newUser = (name: string, extra: Record<string, unknown> = {}) => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  userName: `${name}@source.example`,
  name: { givenName: 'Pat', familyName: 'Lee' },
  displayName: 'Pat Lee',
  password: 'Initial-Pa55word!',
  active: true,
  ...extra,
});

const accountWhen = (upn: string, probe: (a: Record<string, unknown>) => boolean, what: string) =>
  accountOf(ctx, upn, probe, what);

describe('SCIM through the pipeline', { timeout: 90_000 }, () => {
  it('concurrent PATCHes right after the create: each gets its own version, none is lost, the account has all', async () => {
    const scim = await scimEndpoint(ctx);
    const name = uniqueName('conc');
    const created = await scim.send<{ id: string }>('POST', '/Users', newUser(name));
    expect(created.status, created.text).toBe(201);
    const id = created.body.id;
    const edits: [string, unknown][] = [
      ['title', 'Pilot'],
      ['name.givenName', 'Patricia'],
      ['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department', 'Flight Ops'],
      ['addresses[type eq "work"].country', 'NL'],
      ['phoneNumbers[type eq "mobile"].value', '+31 6 1234'],
      ['displayName', 'Patricia Lee'],
    ];
    const answers = await Promise.all(
      edits.map(([path, value]) =>
        scim.send<{ meta: { version: string } }>('PATCH', `/Users/${id}`, {
          schemas: [PATCH_OP],
          Operations: [{ op: 'add', path, value }],
        }),
      ),
    );
    for (const a of answers) expect(a.status, a.text).toBe(200);
    // Versions 2…7, one each: every PATCH was applied to what the ones before it left.
    expect(answers.map((a) => a.body.meta.version).sort()).toEqual([
      'W/"2"',
      'W/"3"',
      'W/"4"',
      'W/"5"',
      'W/"6"',
      'W/"7"',
    ]);
    const final = await scim.send('GET', `/Users/${id}`);
    expect(final.body).toMatchObject({
      title: 'Pilot',
      displayName: 'Patricia Lee',
      name: { givenName: 'Patricia', familyName: 'Lee' },
      addresses: [{ type: 'work', country: 'NL' }],
      meta: { version: 'W/"7"' },
    });
    await accountWhen(
      `${name}@${domain}`,
      (a) =>
        a.jobTitle === 'Pilot' &&
        a.givenName === 'Patricia' &&
        a.surname === 'Lee' &&
        a.department === 'Flight Ops' &&
        a.country === 'NL' &&
        a.mobilePhone === '+31 6 1234' &&
        a.displayName === 'Patricia Lee',
      'every edit in Microsoft 365',
    );
    // The user view shows the provisioning status as for any change, in sync with the latest version.
    const view = await waitFor(
      async () => {
        const v = await ctx.app.api<{ status: string; inSync: boolean; desired: { profile: { version: number } } }>(
          'GET',
          `/api/connections/${scim.connectionId}/users/${id}`,
        );
        return v.body.inSync ? v.body : undefined;
      },
      { what: 'in sync', timeoutMs: 30_000, intervalMs: 150 },
    );
    expect(view).toMatchObject({ status: 'applied', desired: { profile: { version: 7 } } });
  });

  it("the connection's mapping applies unchanged, also to an extension attribute by its URN path", async () => {
    const scim = await scimEndpoint(ctx, {
      mapping: { properties: { officeLocation: { source: `${CUSTOM}:building` } } },
    });
    const name = uniqueName('map');
    const created = await scim.send('POST', '/Users', newUser(name, { [CUSTOM]: { building: 'B7' } }));
    expect(created.status, created.text).toBe(201);
    expect(created.body.schemas).toContain(CUSTOM);
    await accountWhen(`${name}@${domain}`, (a) => a.officeLocation === 'B7', 'officeLocation from the extension');
  });

  it('dry run: the SCIM resource is kept, the pipeline plans and logs, nothing is written to Microsoft 365', async () => {
    const scim = await scimEndpoint(ctx, { settings: { dryRun: true } });
    const name = uniqueName('dry');
    const created = await scim.send<{ id: string }>('POST', '/Users', newUser(name));
    expect(created.status, created.text).toBe(201);
    const record = await waitFor(
      async () =>
        (
          await ctx.app.api<{ value: { result: string; plan?: unknown[] }[] }>(
            'GET',
            `/api/connections/${scim.connectionId}/logs?externalId=${created.body.id}`,
          )
        ).body.value[0],
      { what: 'the log record', timeoutMs: 30_000, intervalMs: 150 },
    );
    expect(record.result).toBe('planned');
    await expect(ctx.sim.controls.user(contosoTenant, `${name}@${domain}`)).rejects.toThrow();
    expect((await scim.send('GET', `/Users/${created.body.id}`)).status).toBe(200);
  });

  it('the password is sealed at rest (never in the SCIM table as text) and never in an answer', async () => {
    const scim = await scimEndpoint(ctx);
    const password = `Unique-${crypto.randomUUID()}`;
    const created = await scim.send<{ id: string }>('POST', '/Users', newUser(uniqueName('pw'), { password }));
    expect(created.status).toBe(201);
    const table = TableClient.fromConnectionString(inject('storageConnectionString'), 'scim', {
      allowInsecureConnection: true,
    });
    const rows: unknown[] = [];
    for await (const e of table.listEntities({
      queryOptions: { filter: `PartitionKey eq '${scim.connectionId}~users'` },
    }))
      rows.push(e);
    expect(rows.length).toBe(2); // the user and its userName index
    expect(JSON.stringify(rows)).not.toContain(password);
    expect(ctx.app.transcripts.join('\n')).not.toContain(password);
    expect(ctx.app.logs.map((l) => l.message).join('\n')).not.toContain(password);
  });

  it('groups pushed right after their members are created: every group gets its member (no lost wake-up)', async () => {
    // The member's create and the group's can run at the same moment: the group finds the user not linked yet and
    // waits for it, while the user's operation, linking it, looks for waiters before the group recorded its wait.
    const scim = await scimEndpoint(ctx);
    const pairs = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const user = await scim.send<{ id: string }>('POST', '/Users', newUser(uniqueName(`race${i}`)));
        expect(user.status, user.text).toBe(201);
        const group = await scim.send<{ id: string }>('POST', '/Groups', {
          displayName: uniqueName(`Race ${i}`),
          members: [{ value: user.body.id }],
        });
        expect(group.status, group.text).toBe(201);
        return group.body.id;
      }),
    );
    for (const id of pairs)
      await waitFor(
        async () => {
          const view = await ctx.app.api<{ inSync: boolean; pending: unknown[] }>(
            'GET',
            `/api/connections/${scim.connectionId}/groups/${id}`,
          );
          return view.body.inSync && view.body.pending.length === 0 ? true : undefined;
        },
        { what: `group ${id} with its member`, timeoutMs: 60_000, intervalMs: 250 },
      );
  });

  it('paging is stable (startIndex/count in id order), totalResults counts every match, count is capped', async () => {
    const scim = await scimEndpoint(ctx);
    for (let i = 0; i < 5; i++)
      expect((await scim.send('POST', '/Users', newUser(uniqueName(`page${i}`)))).status).toBe(201);
    const all = await scim.send<{ totalResults: number; Resources: { id: string }[] }>('GET', '/Users');
    expect(all.body.totalResults).toBe(5);
    const ids = all.body.Resources.map((r) => r.id);
    expect(ids).toEqual([...ids].sort());
    const pages = [];
    for (let start = 1; start <= 5; start += 2) {
      const page = await scim.send<{ startIndex: number; itemsPerPage: number; Resources: { id: string }[] }>(
        'GET',
        `/Users?startIndex=${start}&count=2&attributes=userName`,
      );
      expect(page.body.startIndex).toBe(start);
      pages.push(...page.body.Resources.map((r) => r.id));
      for (const r of page.body.Resources) expect(Object.keys(r).sort()).toEqual(['id', 'schemas', 'userName']);
    }
    expect(pages).toEqual(ids);
    const zero = await scim.send<{ itemsPerPage: number; totalResults: number }>('GET', '/Users?count=0');
    expect(zero.body).toMatchObject({ itemsPerPage: 0, totalResults: 5 });
    expect((await scim.send('GET', '/Users?count=abc')).status).toBe(400);
  });
});
