// Issue 15, point 1: matching never takes over someone else's account. Through the exit doors: the HTTP API, the
// provisioning log (what matching found and why an account was not adopted), the user view, and what the
// simulated tenant received and holds. Real Azurite, @azure/identity, Graph client and simulated tenant.
import { describe, expect, it } from 'vitest';
import type { MatchReport, ProvisioningLogRecord } from '../../shared/domain/user-state.js';
import { useAppWithTenant } from '../support/app-host.js';
import { person, provisioningApi } from '../support/provisioning-api.js';
import { DEFAULT_SEED } from '../support/simulated-tenant.js';
import { uniqueName } from '../support/unique.js';
import { waitFor } from '../support/wait-for.js';

const contoso = DEFAULT_SEED.contoso;
const ctx = useAppWithTenant();
const { readyConnection, submit, logOf } = provisioningApi(ctx, 'match');

const ADMIN = 'b0000000-0000-4000-8000-000000000001';
const ADELE = 'b0000000-0000-4000-8000-000000000002';

interface UserView {
  status: string;
  statusReason?: string;
  inSync: boolean;
  link: { objectId: string; userPrincipalName: string | null } | null;
  lastError: { code: string; message: string } | null;
}
type Outcome = ProvisioningLogRecord & { match?: MatchReport[]; objectId?: string };

const userOf = async (connectionId: string, externalId: string) =>
  (await ctx.app.api<UserView>('GET', `/api/connections/${connectionId}/users/${encodeURIComponent(externalId)}`)).body;
const simUser = (idOrUpn: string) => ctx.sim.controls.user(contoso.tenantId, idOrUpn);
const lastSeq = async () => (await ctx.sim.controls.requests()).at(-1)?.seq ?? 0;
const writesSince = async (seq: number) =>
  (await ctx.sim.controls.requests({ since: seq, surface: 'graph' }))
    .filter((r) => r.method !== 'GET')
    .map((r) => `${r.method} ${r.path}`);
const graph = () =>
  ctx.sim.graphClientFor(ctx.sim.credentialFor(contoso.tenantId, contoso.fullApp.clientId, contoso.fullApp.secret));

/** Submits a version-`version` upsert and waits for its log record. */
async function upsert(
  connectionId: string,
  externalId: string,
  attributes: Record<string, unknown>,
  version = 1,
): Promise<Outcome> {
  const op = await submit(connectionId, { type: 'upsert', externalId, version, attributes });
  return await logOf(connectionId, externalId, op);
}

/** An account made by hand in Microsoft 365 (not by any connection). */
async function accountByHand(userName: string, extra: Record<string, unknown> = {}): Promise<string> {
  const created = (await graph()
    .api('/users')
    .post({
      accountEnabled: true,
      displayName: `By hand ${userName}`,
      mailNickname: userName.replace(/[^a-z0-9]/gi, ''),
      userPrincipalName: `${userName}@${contoso.domain}`,
      passwordProfile: { password: 'Initial-Pa55word!' },
      ...extra,
    })) as { id: string };
  return created.id;
}

describe('the tenant administrator is never adopted (issue 15, finding 1)', () => {
  it('userName "admin": the Global Administrator is not adopted or modified, and the user fails with upn-taken naming it', async () => {
    const conn = await readyConnection();
    const ext = uniqueName('adm');
    const before = await simUser(ADMIN);
    const since = await lastSeq();
    const record = await upsert(conn, ext, person('admin', { jobTitle: 'Intruder' }, 'Eve'));

    expect(record).toMatchObject({ result: 'failed', error: { code: 'upn-taken', kind: 'conflict' } });
    expect(record.error!.message).toContain(`admin@${contoso.domain} is taken by account ${ADMIN}`);
    expect(record.match).toEqual([
      expect.objectContaining({
        rule: 'userPrincipalName',
        objectId: ADMIN,
        adopted: false,
        reason: expect.stringMatching(/holds a directory role/) as unknown,
      }),
    ]);
    expect(await writesSince(since)).toEqual([]);
    const after = await simUser(ADMIN);
    for (const p of ['displayName', 'givenName', 'surname', 'jobTitle', 'accountEnabled'])
      expect(after[p], p).toEqual(before[p]);
    const user = await userOf(conn, ext);
    expect(user).toMatchObject({ status: 'failed', inSync: false, link: null });
  });

  it('with upnCandidates the user gets the next free UPN (an active and a soft-deleted one are skipped), mailNickname and mail follow, and later updates keep it', async () => {
    const conn = await readyConnection({
      upnCandidates: ['{givenName}.{familyName}@{domain}', '{givenName}.{familyName}{n}@{domain}'],
    });
    const family = uniqueName('soft').replace(/[^a-z0-9]/gi, '');
    await accountByHand(`sam.${family}`);
    const deleted = await accountByHand(`sam.${family}2`);
    await graph().api(`/users/${deleted}`).delete();

    const ext = uniqueName('cand');
    const attributes = { ...person('admin', { email: `admin@${contoso.domain}` }, 'Sam'), familyName: family };
    const record = await upsert(conn, ext, attributes);
    expect(record, JSON.stringify(record)).toMatchObject({ result: 'applied', action: 'create' });
    const upn = `sam.${family}3@${contoso.domain}`;
    const user = await userOf(conn, ext);
    expect(user.link?.userPrincipalName).toBe(upn);
    const account = await simUser(user.link!.objectId);
    expect(account).toMatchObject({ userPrincipalName: upn, mailNickname: `sam.${family}3` });
    expect((await simUser(ADMIN)).displayName).toBe('Sim Admin');

    // The generated UPN is the user's from now on: a profile change writes only what changed.
    const since = await lastSeq();
    const update = await upsert(conn, ext, { ...attributes, jobTitle: 'Analyst' }, 2);
    expect(update).toMatchObject({ result: 'applied', action: 'update', changedProperties: ['jobTitle'] });
    expect(await writesSince(since)).toEqual([`PATCH /v1.0/users/${user.link!.objectId}`]);
  });
});

describe('one account, one directory user (issue 15, finding 2)', () => {
  it('a second directory user with the same UPN does not adopt an account linked to the first, on this connection or another one to the tenant', async () => {
    const conn = await readyConnection();
    const userName = uniqueName('twin').toLowerCase();
    const first = uniqueName('a');
    const linked = await upsert(conn, first, person(userName, {}, 'First'));
    expect(linked).toMatchObject({ result: 'applied', action: 'create' });
    const objectId = (await userOf(conn, first)).link!.objectId;
    const before = await simUser(objectId);

    const since = await lastSeq();
    const second = uniqueName('b');
    const same = await upsert(conn, second, person(userName, { jobTitle: 'Other' }, 'Second'));
    expect(same).toMatchObject({ result: 'failed', error: { code: 'upn-taken' } });
    expect(same.match?.[0]).toMatchObject({
      objectId,
      adopted: false,
      reason: `it is linked to directory user ${first}`,
    });

    const other = await readyConnection();
    const third = uniqueName('c');
    const across = await upsert(other, third, person(userName, { jobTitle: 'Other' }, 'Third'));
    expect(across).toMatchObject({ result: 'failed', error: { code: 'upn-taken' } });
    expect(across.match?.[0]?.reason).toBe(`it is linked to directory user ${first} of connection ${conn}`);

    expect(await writesSince(since)).toEqual([]);
    expect(await simUser(objectId)).toMatchObject({ displayName: before.displayName, givenName: 'First' });
    expect((await userOf(conn, second)).link).toBeNull();
    expect((await userOf(other, third)).link).toBeNull();
  });

  it('two directory users created at the same moment with the same UPN: exactly one is linked to the account', async () => {
    const conn = await readyConnection();
    const userName = uniqueName('race').toLowerCase();
    const [a, b] = [uniqueName('ra'), uniqueName('rb')];
    const ops = await Promise.all([
      submit(conn, { type: 'upsert', externalId: a, version: 1, attributes: person(userName, {}, 'Ann') }),
      submit(conn, { type: 'upsert', externalId: b, version: 1, attributes: person(userName, {}, 'Bob') }),
    ]);
    const records = await Promise.all([logOf(conn, a, ops[0]), logOf(conn, b, ops[1])]);
    const links = [(await userOf(conn, a)).link?.objectId, (await userOf(conn, b)).link?.objectId];
    expect(links.filter(Boolean), JSON.stringify(records)).toHaveLength(1);
    expect(records.map((r) => r.result).sort()).toEqual(['applied', 'failed']);
  });
});

describe('a role holder is never modified (issue 15, finding 3)', () => {
  it('an account this connection manages that is later made a User Administrator is not updated, disabled or deleted', async () => {
    const conn = await readyConnection({ removeAction: 'delete' });
    const ext = uniqueName('role');
    const attributes = person(uniqueName('helpdesk').toLowerCase(), { jobTitle: 'Agent' }, 'Rita');
    expect(await upsert(conn, ext, attributes)).toMatchObject({ result: 'applied' });
    const objectId = (await userOf(conn, ext)).link!.objectId;
    await ctx.sim.controls.grantRole(contoso.tenantId, objectId, 'User Administrator');

    const since = await lastSeq();
    const update = await upsert(conn, ext, { ...attributes, jobTitle: 'Changed' }, 2);
    expect(update).toMatchObject({ result: 'failed', error: { code: 'protected-account' } });
    expect(update.error!.message).toMatch(/holds a directory role/);
    const off = (await logOf(
      conn,
      ext,
      await submit(conn, { type: 'deactivate', externalId: ext, version: 3 }),
    )) as Outcome;
    expect(off).toMatchObject({ result: 'failed', error: { code: 'protected-account' } });
    const gone = (await logOf(
      conn,
      ext,
      await submit(conn, { type: 'remove', externalId: ext, version: 4 }),
    )) as Outcome;
    expect(gone).toMatchObject({ result: 'failed', error: { code: 'protected-account' } });
    expect(await writesSince(since)).toEqual([]);
    expect(await simUser(objectId)).toMatchObject({ deleted: false, accountEnabled: true, jobTitle: 'Agent' });
    expect((await userOf(conn, ext)).inSync).toBe(false);
  });
});

describe('adoptExistingAccounts and ordered matching rules', () => {
  it('adoptExistingAccounts never: an account made by hand is not adopted (upn-taken by a name rule, adoption-refused by an identity rule)', async () => {
    const conn = await readyConnection({ adoptExistingAccounts: 'never' });
    const since = await lastSeq();
    const byName = await upsert(conn, uniqueName('nv'), person('adele.vance', { jobTitle: 'X' }, 'Adele'));
    expect(byName).toMatchObject({ result: 'failed', error: { code: 'upn-taken' } });
    expect(byName.match?.[0]).toMatchObject({ objectId: ADELE, adopted: false });
    expect(byName.match?.[0]?.reason).toMatch(/adoptExistingAccounts is never/);

    const byId = await readyConnection({ adoptExistingAccounts: 'never', matchingRules: ['employeeId'] });
    const refused = await upsert(byId, uniqueName('nv'), person('someone.new', { employeeId: 'E1002' }, 'Adele'));
    expect(refused).toMatchObject({ result: 'failed', error: { code: 'adoption-refused' } });
    expect(refused.match?.[0]).toMatchObject({ rule: 'employeeId', objectId: ADELE, adopted: false });
    expect(await writesSince(since)).toEqual([]);
  });

  it('rules are tried in order: the first that finds an account decides, and the log names it; more than one account is a conflict', async () => {
    const employeeId = `M${Date.now() % 1e9}`;
    const userName = uniqueName('ordered').toLowerCase();
    const byHand = await accountByHand(userName, { employeeId });
    const conn = await readyConnection({ matchingRules: ['employeeId', 'mail', 'userPrincipalName'] });
    const ext = uniqueName('ord');
    const adopted = await upsert(conn, ext, person(userName, { employeeId }, 'Olga'));
    expect(adopted).toMatchObject({ result: 'applied', action: 'adopt' });
    expect((await userOf(conn, ext)).link?.objectId).toBe(byHand);
    expect(adopted.match).toEqual([expect.objectContaining({ rule: 'employeeId', objectId: byHand, adopted: true })]);

    const twin = `T${Date.now() % 1e9}`;
    await accountByHand(uniqueName('t1').toLowerCase(), { employeeId: twin });
    await accountByHand(uniqueName('t2').toLowerCase(), { employeeId: twin });
    const since = await lastSeq();
    const ambiguous = await upsert(
      conn,
      uniqueName('amb'),
      person(uniqueName('t3').toLowerCase(), { employeeId: twin }),
    );
    expect(ambiguous).toMatchObject({ result: 'failed', error: { code: 'ambiguous-match' } });
    expect(await writesSince(since)).toEqual([]);
  });
});

describe('unlink and re-match', () => {
  it('unlink leaves the account as it is, holds the user, frees the account for others; re-match links a named account, never one linked elsewhere', async () => {
    const conn = await readyConnection();
    const userName = uniqueName('unl').toLowerCase();
    const ext = uniqueName('u');
    const attributes = person(userName, {}, 'Uma');
    expect(await upsert(conn, ext, attributes)).toMatchObject({ result: 'applied' });
    const objectId = (await userOf(conn, ext)).link!.objectId;

    let since = await lastSeq();
    const unlinked = await ctx.app.api<{ status: string; unlinkedFrom: { objectId: string } }>(
      'POST',
      `/api/connections/${conn}/users/${ext}/unlink`,
    );
    expect(unlinked.status, unlinked.text).toBe(200);
    expect(unlinked.body).toMatchObject({ status: 'unlinked', unlinkedFrom: { objectId } });
    expect(await userOf(conn, ext)).toMatchObject({ status: 'unlinked', link: null, inSync: false });
    const again = await ctx.app.api('POST', `/api/connections/${conn}/users/${ext}/unlink`);
    expect(again.status).toBe(409);

    // Its changes wait for a re-match.
    const held = await upsert(conn, ext, { ...attributes, jobTitle: 'Later' }, 2);
    expect(held).toMatchObject({ result: 'skipped', reason: expect.stringMatching(/Unlinked by an admin/) as unknown });
    expect(await writesSince(since)).toEqual([]);

    // Re-matching by the rules does not take the account back (the admin unlinked it).
    const rematched = await ctx.app.api<Outcome & { result: string }>(
      'POST',
      `/api/connections/${conn}/users/${ext}/rematch`,
    );
    expect(rematched.status, rematched.text).toBe(200);
    expect(rematched.body).toMatchObject({ result: 'failed', error: { code: 'upn-taken' } });

    // The account is free for another directory user now.
    const other = uniqueName('o');
    expect(await upsert(conn, other, person(userName, {}, 'Otto'))).toMatchObject({
      result: 'applied',
      action: 'adopt',
    });

    // Naming it cannot take it from that user…
    const named = await ctx.app.api<Outcome>('POST', `/api/connections/${conn}/users/${ext}/rematch`, { objectId });
    expect(named.body).toMatchObject({ result: 'failed', error: { code: 'adoption-refused' } });
    expect(named.body.match?.[0]?.reason).toBe(`it is linked to directory user ${other}`);

    // …but once that user is unlinked, naming it links it.
    expect((await ctx.app.api('POST', `/api/connections/${conn}/users/${other}/unlink`)).status).toBe(200);
    since = await lastSeq();
    const linked = await ctx.app.api<Outcome>('POST', `/api/connections/${conn}/users/${ext}/rematch`, { objectId });
    expect(linked.body).toMatchObject({ result: 'applied', action: 'adopt', objectId });
    expect(await waitFor(async () => ((await userOf(conn, ext)).link?.objectId === objectId ? true : undefined))).toBe(
      true,
    );
    expect((await simUser(objectId)).jobTitle).toBe('Later');
    expect(await writesSince(since)).toEqual([`PATCH /v1.0/users/${objectId}`]);

    const bad = await ctx.app.api('POST', `/api/connections/${conn}/users/${ext}/rematch`, { objectId: 'nope' });
    expect(bad.status).toBe(400);
  });
});
