// The admin console in a real headless Chromium (Debian's chromium, driven by playwright-core) against the local
// Functions host, Azurite and the simulated Microsoft 365 tenant: the seed journey an admin makes, screen by screen.
// Every screen is checked with axe-core (no serious or critical violation) and photographed into test/artifacts/.
// The steps share one browser tab and build on each other, in order.
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { useAppWithTenant } from '../support/app-host.js';
import { launchChromium, screenshot, seriousAccessibilityViolations } from '../support/browser.js';
import { person } from '../support/provisioning-api.js';
import { DEFAULT_SEED } from '../support/simulated-tenant.js';
import { type ReadyProcess, spawnReady } from '../support/spawn-ready.js';
import { uniqueName } from '../support/unique.js';
import { waitFor } from '../support/wait-for.js';

const contoso = DEFAULT_SEED.contoso;
const ctx = useAppWithTenant();
let browser: Browser;
let page: Page;
/** Browser errors (uncaught exceptions, CSP refusals): none may happen. */
const pageErrors: string[] = [];
const state = { connectionId: '', userA: 'emp-a-console', userB: 'emp-b-console', objectA: '', objectB: '' };

/** A new tab whose errors are collected into pageErrors. */
async function newTab(): Promise<Page> {
  const tab = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  // A step that waits for something that never comes fails in 15 s, naming it.
  tab.setDefaultTimeout(15_000);
  tab.on('pageerror', (e) => pageErrors.push(e.message));
  tab.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) pageErrors.push(m.text());
  });
  return tab;
}

beforeAll(async () => {
  browser = await launchChromium();
  page = await newTab();
});
afterAll(async () => {
  await browser?.close();
});

const consoleUrl = (hash = '') => `${ctx.app.url}/api/console/${hash}`;

/** The screen as it is now passes axe-core and is photographed. */
async function checkScreen(name: string, tab: Page = page): Promise<void> {
  await tab.locator('main').first().waitFor();
  expect(await seriousAccessibilityViolations(tab), name).toEqual([]);
  await screenshot(tab, name);
}

const text = (t: string | RegExp) => page.getByText(t).first();
interface UserState {
  status: string;
  appliedVersion: number;
  inSync: boolean;
  link: { objectId: string } | null;
}

const tab = (name: string) => page.getByRole('navigation', { name: 'Connection' }).getByRole('link', { name });
const row = (target: string) => page.locator(`tr[data-target="${target}"]`);

/** A producer's change, through the API (the console shows what it did). */
async function submitChange(change: Record<string, unknown>): Promise<void> {
  const res = await ctx.app.api('POST', `/api/connections/${state.connectionId}/changes`, change);
  expect(res.status, res.text).toBe(202);
}

/** The user's view once `ready` says it is there. */
async function userView(externalId: string, ready: (u: UserState) => boolean): Promise<UserState> {
  let last = '';
  return waitFor(
    async () => {
      const u = await ctx.app.api<UserState>('GET', `/api/connections/${state.connectionId}/users/${externalId}`);
      last = u.text;
      return u.status === 200 && ready(u.body) ? u.body : undefined;
    },
    { what: `${externalId} applied`, timeoutMs: 20_000, intervalMs: 200 },
  ).catch((e: Error) => {
    throw new Error(`${e.message}; last seen: ${last}`);
  });
}

const graph = () =>
  ctx.sim.graphClientFor(ctx.sim.credentialFor(contoso.tenantId, contoso.fullApp.clientId, contoso.fullApp.secret));

describe('the admin console, through a real browser', () => {
  it('asks for the function key once, keeps it in the tab only, and lists no connection yet', async () => {
    await page.goto(consoleUrl());
    await page.getByRole('heading', { name: 'Sign in to the provisioning console' }).waitFor();
    await checkScreen('sign-in');
    await page.getByLabel('Function key').fill(ctx.app.host.functionKey);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Connections' }).waitFor();
    // Kept in this tab's sessionStorage, nowhere else (no cookie, no localStorage, not in the URL).
    expect(await page.evaluate('Object.values(sessionStorage)')).toEqual([ctx.app.host.functionKey]);
    expect(await page.evaluate('localStorage.length')).toBe(0);
    expect(await page.evaluate('document.cookie')).toBe('');
    expect(page.url()).not.toContain(ctx.app.host.functionKey);
    await checkScreen('connections-empty');
  });

  it('creates a connection with the wizard, in the order name → tenant → credentials → cloud', async () => {
    await page.getByRole('link', { name: 'New connection' }).click();
    await page.getByRole('heading', { name: 'New connection' }).waitFor();
    await checkScreen('new-connection');
    await page.getByLabel('Name (required)').fill('Contoso (console)');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel('Domain (required)').fill(contoso.domain);
    await page.getByLabel('Directory (tenant) ID (required)').fill(contoso.tenantId);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel('Application (client) ID (required)').fill(contoso.fullApp.clientId);
    // A wrong secret: the first test must fail and say what to do.
    await page.getByLabel('Client secret (required)').fill('not-the-secret');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel('Login host override (optional)').fill(ctx.sim.authorityHost);
    await page.getByLabel('Graph endpoint override (optional)').fill(ctx.sim.graphBaseUrl);
    await page.getByRole('button', { name: 'Create connection' }).click();
    await page.getByRole('heading', { name: 'Contoso (console)' }).waitFor();
    state.connectionId = /#\/connections\/([0-9a-f-]{36})/.exec(page.url())![1]!;
    const stored = await ctx.app.api<{ name: string; status: string }>('GET', `/api/connections/${state.connectionId}`);
    expect(stored.body).toMatchObject({ name: 'Contoso (console)', status: 'draft' });
    await checkScreen('connection-overview');
  });

  it('tests the connection: the token check fails with what to do; fixed secret, every check passes', async () => {
    await page.getByRole('button', { name: 'Test connection' }).click();
    await text('Some checks failed').waitFor();
    const checks = page.getByRole('list', { name: 'Connection checks' });
    expect(await checks.innerText()).toMatch(/token: failed/);
    expect(await checks.innerText()).toMatch(/What to do: Check the tenant ID, client ID and secret/);
    await checkScreen('connection-test-failed');

    await page.getByRole('button', { name: 'Edit credentials' }).click();
    await page.getByLabel('New client secret').fill(contoso.fullApp.secret);
    await page.getByRole('button', { name: 'Save credentials' }).click();
    await page.getByRole('form', { name: 'Edit credentials' }).waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Test connection' }).click();
    await text('All checks passed').waitFor();
    expect(await checks.innerText()).not.toMatch(/failed/);
    expect(await checks.innerText()).toMatch(/permissions: passed/);
    const stored = await ctx.app.api<{ status: string }>('GET', `/api/connections/${state.connectionId}`);
    expect(stored.body.status).toBe('ready');
  });

  it('grants admin consent: the tenant consent round trip comes back to the console', async () => {
    await page.getByRole('button', { name: 'Grant admin consent' }).click();
    await page.getByRole('heading', { name: 'Permissions granted' }).waitFor();
    await page.getByRole('link', { name: 'Back to the console' }).click();
    await page.getByRole('heading', { name: 'Contoso (console)' }).waitFor();
    await text('admin consent granted').waitFor();
    const stored = await ctx.app.api<{ adminConsent: { at: string } | null }>(
      'GET',
      `/api/connections/${state.connectionId}`,
    );
    expect(stored.body.adminConsent).not.toBeNull();
    // A consent sends the connection back to draft until it is tested again.
    await text('run POST /api/connections/{id}/test to make it ready').waitFor();
    await page.getByRole('button', { name: 'Test connection' }).click();
    await text('All checks passed').waitFor();
    const ready = await ctx.app.api<{ status: string }>('GET', `/api/connections/${state.connectionId}`);
    expect(ready.body.status).toBe('ready');
  });

  it('maps a constant and an expression, previewed live on a real user next to Microsoft 365, errors inline', async () => {
    // A producer's first change, so there is a real user to preview on.
    await submitChange({
      type: 'upsert',
      externalId: state.userA,
      version: 1,
      attributes: person('ann.console', { jobTitle: 'Engineer' }, 'Ann'),
    });
    state.objectA = (await userView(state.userA, (u) => u.status === 'applied' && u.link !== null)).link!.objectId;

    await tab('Mapping').click();
    await page.getByRole('heading', { name: 'Attribute mapping' }).waitFor();
    await page.getByLabel('Preview on user').selectOption(state.userA);
    // A hard-coded value where the default mapping reads an attribute, and a new rule for a property not mapped yet.
    await page.getByLabel('Mapping type of officeLocation').selectOption('constant');
    await page.getByLabel('Value of officeLocation').fill('HQ Building 7');
    await page.getByLabel('Microsoft 365 property').selectOption('preferredLanguage');
    await page.getByLabel('Mapping type', { exact: true }).selectOption('constant');
    await page.getByLabel('Value', { exact: true }).fill('en-GB');
    await page.getByRole('button', { name: 'Add mapping' }).click();
    await row('preferredLanguage').locator('.preview-value', { hasText: 'en-GB' }).waitFor();
    await row('officeLocation').locator('.preview-value', { hasText: 'HQ Building 7' }).waitFor();
    expect(await row('officeLocation').innerText()).toMatch(/would change/);

    await page.getByLabel('Mapping type of jobTitle').selectOption('expression');
    await page.getByLabel('Value of jobTitle').fill('upper(jobTitle');
    await row('jobTitle').locator('.field-error').first().waitFor();
    await page.getByLabel('Value of jobTitle').fill('upper(jobTitle)');
    await row('jobTitle').locator('.preview-value', { hasText: 'ENGINEER' }).waitFor();
    expect(await row('jobTitle').locator('.field-error').count()).toBe(0);
    // What Microsoft 365 holds now, beside it.
    expect(await row('jobTitle').innerText()).toContain('Engineer');
    await checkScreen('mapping-editor');

    await page.getByRole('button', { name: 'Save mapping' }).click();
    await text('Mapping saved.').waitFor();
    const saved = await ctx.app.api<{ mapping: { properties: Record<string, unknown> } }>(
      'GET',
      `/api/connections/${state.connectionId}/mapping`,
    );
    expect(saved.body.mapping.properties.officeLocation).toEqual({ constant: 'HQ Building 7', applyOn: 'always' });
    expect(saved.body.mapping.properties.preferredLanguage).toEqual({ constant: 'en-GB', applyOn: 'always' });
    expect(saved.body.mapping.properties.jobTitle).toEqual({ expression: 'upper(jobTitle)', applyOn: 'always' });
  });

  it('changes settings with their descriptions: usage location and the accidental-deletion threshold', async () => {
    await tab('Settings').click();
    await page.getByRole('group', { name: 'Reconciliation and safety' }).waitFor();
    expect(await page.getByRole('group', { name: 'Provisioning actions' }).innerText()).toContain(
      'Create a Microsoft 365 account when a user is assigned',
    );
    await checkScreen('settings');
    await page.getByLabel('usageLocation').fill('DE');
    await page.getByLabel('accidentalDeletionThreshold').fill('0');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await text('Settings saved.').waitFor();
    const settings = await ctx.app.api<Record<string, unknown>>(
      'GET',
      `/api/connections/${state.connectionId}/settings`,
    );
    expect(settings.body).toMatchObject({ usageLocation: 'DE', accidentalDeletionThreshold: 0, allowCreate: true });
  });

  it('shows a submitted change applied in the users list, and in the simulated tenant as mapped', async () => {
    await submitChange({
      type: 'upsert',
      externalId: state.userB,
      version: 1,
      attributes: person('bo.console', { jobTitle: 'Designer' }, 'Bo'),
      licenses: ['ENTERPRISEPACK'],
    });
    state.objectB = (await userView(state.userB, (u) => u.status === 'applied' && u.link !== null)).link!.objectId;
    await tab('Users and groups').click();
    await page.getByLabel('Status').selectOption('applied');
    const listed = page.getByRole('row', { name: new RegExp(state.userB) });
    await listed.waitFor();
    expect(await listed.innerText()).toMatch(/applied/);
    expect(page.url()).toContain('status=applied');
    await checkScreen('users');
    const account = await ctx.sim.controls.user(contoso.tenantId, state.objectB);
    expect(account).toMatchObject({
      officeLocation: 'HQ Building 7',
      preferredLanguage: 'en-GB',
      jobTitle: 'DESIGNER',
      usageLocation: 'DE',
    });
  });

  it('provisions on demand from the user page, showing the step trace and desired vs Microsoft 365', async () => {
    await page.getByLabel('Status').selectOption('');
    await page.getByRole('link', { name: state.userA, exact: true }).click();
    await page.getByRole('heading', { name: state.userA }).waitFor();
    const sideBySide = page.getByRole('table', { name: 'Desired and Microsoft 365 values' });
    await sideBySide.waitFor();
    expect(await sideBySide.getByRole('row', { name: /officeLocation/ }).innerText()).toMatch(
      /HQ Building 7[\s\S]*differs/,
    );
    await checkScreen('user-detail');
    await page.getByRole('button', { name: 'Provision on demand' }).click();
    const trace = page.getByRole('region', { name: 'Provisioning steps' });
    await trace.waitFor();
    expect(await trace.innerText()).toMatch(/applied/);
    expect(await trace.innerText()).toMatch(/officeLocation/);
    await checkScreen('provision-on-demand');
    expect(await ctx.sim.controls.user(contoso.tenantId, state.objectA)).toMatchObject({
      officeLocation: 'HQ Building 7',
      jobTitle: 'ENGINEER',
    });
  });

  it('filters the log and exports it as CSV', async () => {
    await tab('Logs').click();
    // By keyboard: choose the result, type the user, Enter submits the filters.
    await page.getByLabel('Result').selectOption('applied');
    await page.getByLabel('User (external ID)').fill(state.userA);
    await page.getByLabel('User (external ID)').press('Enter');
    await page.getByRole('cell', { name: 'update' }).first().waitFor();
    expect(page.url()).toContain(`externalId=${state.userA}`);
    await checkScreen('logs');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    const csv = await readFile(await download.path(), 'utf8');
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toBe(
      'time,externalId,objectType,action,result,reason,changedProperties,durationMs,operationId,version',
    );
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines.slice(1).every((l) => l.includes(`"${state.userA}"`) && l.includes('"applied"'))).toBe(true);
  });

  it('imports a selected account from Microsoft 365 and shows the result per user', async () => {
    // An account someone made by hand in Microsoft 365, that no directory user has.
    const upn = `${uniqueName('hand').toLowerCase()}@${contoso.domain}`;
    const made = (await graph()
      .api('/users')
      .post({
        accountEnabled: true,
        displayName: 'Made by hand',
        mailNickname: upn.split('@')[0],
        userPrincipalName: upn,
        passwordProfile: { password: 'Hand-Made-Pa55word!' },
      })) as { id: string };
    await tab('Import').click();
    await page.getByRole('heading', { name: /^New \(\d+\)$/ }).waitFor();
    await checkScreen('import');
    // By keyboard: Space ticks the row, Enter on the focused button confirms.
    await page.getByLabel(`Select ${upn} (New)`).press('Space');
    await page.getByRole('button', { name: 'Confirm (1 selected)' }).press('Enter');
    const results = page.getByRole('table', { name: 'Import results' });
    await results.waitFor();
    expect(await results.innerText()).toMatch(new RegExp(`new\\s+${upn.replaceAll('.', '\\.')}\\s+imported`));
    const imported = await ctx.app.api<{ link: { objectId: string } | null }>(
      'GET',
      `/api/connections/${state.connectionId}/users/${encodeURIComponent(upn)}`,
    );
    expect(imported.body.link?.objectId).toBe(made.id);
  });

  it('runs a reconciliation with a progress bar, then approves the staged deletion', async () => {
    // Bo leaves: deactivated. Then someone enables the account by hand and renames Ann in Microsoft 365.
    await submitChange({ type: 'deactivate', externalId: state.userB, version: 2 });
    await userView(state.userB, (u) => u.appliedVersion === 2 && u.inSync);
    await graph().api(`/users/${state.objectB}`).patch({ accountEnabled: true });
    await graph().api(`/users/${state.objectA}`).patch({ displayName: 'Renamed by hand' });

    await tab('Reconciliation').click();
    await page.getByRole('button', { name: 'Run now' }).click();
    const bar = page.locator('progress#run-progress');
    await bar.waitFor();
    await page.getByText('Done.').waitFor();
    expect(await bar.getAttribute('value')).toBe('100');
    const drift = await page.getByRole('table', { name: 'Drift by kind' }).innerText();
    const items = await page.getByRole('table', { name: 'Run items' }).innerText();
    expect(drift, items).toMatch(/enabled\s+1/);
    expect(items).toMatch(new RegExp(`${state.userB}\\s+enabled\\s+staged`));
    expect(items).toMatch(new RegExp(`${state.userA}\\s+profile\\s+enqueued`));
    // The disable is held back by the threshold (0): staged for an admin.
    const staged = page.getByRole('region', { name: /Staged deletions \(1\)/ });
    await staged.waitFor();
    expect(await staged.innerText()).toContain(state.userB);
    await checkScreen('reconciliation');
    // The run's profile correction put Ann's name back.
    expect((await ctx.sim.controls.user(contoso.tenantId, state.objectA)).displayName).toBe('Ann ann.console');
    expect((await ctx.sim.controls.user(contoso.tenantId, state.objectB)).accountEnabled).toBe(true);

    await staged.getByRole('button', { name: 'Approve all' }).click();
    await text('Staged operations approved.').waitFor();
    await waitFor(async () => (await ctx.sim.controls.user(contoso.tenantId, state.objectB)).accountEnabled === false, {
      what: 'the approved disable applied',
      timeoutMs: 20_000,
      intervalMs: 200,
    });
  });

  it("shows the tenant's licences with seats and the users this connection licensed", async () => {
    await tab('Licences').click();
    const skus = page.getByRole('table', { name: 'Subscriptions' });
    await skus.waitFor();
    const sim = (await ctx.sim.controls.skus(contoso.tenantId)).find((s) => s.skuPartNumber === 'ENTERPRISEPACK')!;
    expect(await skus.getByRole('row', { name: /ENTERPRISEPACK/ }).innerText()).toMatch(
      new RegExp(`ENTERPRISEPACK\\s+${sim.enabled}\\s+${sim.consumed}\\s+${sim.free}`),
    );
    expect(await page.getByRole('table', { name: 'Users this connection licensed' }).innerText()).toContain(
      state.userB,
    );
    await checkScreen('licences');
  });

  it('unlinks a user from its account and re-matches it to the account an admin names', async () => {
    await tab('Users and groups').click();
    await page.getByRole('link', { name: state.userA, exact: true }).click();
    await page.getByRole('heading', { name: state.userA }).waitFor();
    await page.getByRole('button', { name: 'Unlink' }).click();
    await text('unlink done.').waitFor();
    expect((await userView(state.userA, (u) => u.link === null)).status).toBe('unlinked');
    await page.getByLabel('Account object ID to link (optional)').fill(state.objectA);
    await page.getByRole('button', { name: 'Re-match' }).click();
    await text('rematch done.').waitFor();
    expect(await page.getByRole('region', { name: 'Provisioning steps' }).innerText()).toMatch(/applied/);
    expect((await userView(state.userA, (u) => u.link !== null)).link?.objectId).toBe(state.objectA);
  });

  it('shows the connection in the list with its users per status and last run', async () => {
    await page.getByRole('link', { name: 'Connections', exact: true }).click();
    const listed = page.getByRole('row', { name: /Contoso \(console\)/ });
    await listed.getByText(/in all/).waitFor();
    expect(await listed.innerText()).toMatch(/ready/);
    expect(await listed.innerText()).toMatch(/\(3 in all\)/);
    await checkScreen('connections');
  });

  describe('with Entra ID sign-in (a second host, sign-in on, on the same storage)', () => {
    let signInHost: ReadyProcess<{ hostUrl: string }>;
    let tab2: Page;
    beforeAll(async () => {
      // Sign-in is read once per process: a host of its own, as `npm start -- --sign-in` runs it.
      signInHost = await spawnReady<{ hostUrl: string }>('dev/host/main.ts', {
        PORT: '0',
        AzureWebJobsStorage: inject('storageConnectionString'),
        ENTRA_TENANT_ID: contoso.tenantId,
        ENTRA_CLIENT_ID: contoso.consoleApp.clientId,
        ENTRA_AUTHORITY_HOST: ctx.sim.authorityHost,
      });
      // A tab of its own: its sessionStorage starts empty.
      tab2 = await newTab();
    });
    afterAll(async () => {
      await tab2?.close();
      await signInHost?.stop();
    });

    /** Through the console's "Sign in with Microsoft" and the identity platform's sign-in page, as `upn`. */
    async function signInThroughBrowser(upn: string): Promise<void> {
      await tab2.getByRole('heading', { name: 'Sign in to the provisioning console' }).waitFor();
      await tab2.getByRole('button', { name: 'Sign in with Microsoft' }).click();
      await tab2.getByLabel('Email, phone, or Skype').fill(upn);
      await tab2.getByRole('button', { name: 'Next' }).click();
      await tab2.waitForURL(`${signInHost.ready.hostUrl}/api/console/**`);
    }

    /** A change of the connection sent from the page with the token the console holds (as a crafted request would). */
    const renameFromPage = (name: string) =>
      tab2.evaluate(
        async ({ id, name }) => {
          // Runs in the page (globalThis is its window).
          const storage = (globalThis as unknown as { sessionStorage: { getItem(k: string): string } }).sessionStorage;
          const token = JSON.parse(storage.getItem('m365prov.accessToken')) as { accessToken: string };
          const res = await fetch(`/api/connections/${id}`, {
            method: 'PATCH',
            headers: {
              authorization: `Bearer ${token.accessToken}`,
              'content-type': 'application/merge-patch+json',
              'x-requested-with': 'm365-provisioner-console',
            },
            body: JSON.stringify({ name }),
          });
          return { status: res.status, type: res.headers.get('content-type'), body: await res.json() };
        },
        { id: state.connectionId, name },
      );
    const storedName = async () =>
      (await ctx.app.api<{ name: string }>('GET', `/api/connections/${state.connectionId}`)).body.name;

    it('read-only role refused a write: the Reader signs in through the browser, sees no write action, a write is refused 403', async () => {
      // A code this tab did not ask for (no state it made): refused, and gone from the address bar.
      await tab2.goto(`${signInHost.ready.hostUrl}/api/console/?code=planted-code&state=planted-state`);
      await tab2.getByText('The sign-in did not complete').waitFor();
      expect(tab2.url()).toBe(`${signInHost.ready.hostUrl}/api/console/`);
      expect(await tab2.evaluate('Object.keys(sessionStorage)')).toEqual([]);
      // A sign-in started here, answered with another state (a code injected by someone else): refused too.
      await tab2.getByRole('button', { name: 'Sign in with Microsoft' }).click();
      await tab2.getByLabel('Email, phone, or Skype').waitFor();
      await tab2.goto(`${signInHost.ready.hostUrl}/api/console/?code=injected-code&state=another-state`);
      await tab2.getByText(/The sign-in did not complete/).waitFor();
      expect(await tab2.getByRole('alert').innerText()).toMatch(/state/i);
      expect(tab2.url()).toBe(`${signInHost.ready.hostUrl}/api/console/`);
      expect(await tab2.evaluate('Object.keys(sessionStorage)')).toEqual([]);
      await checkScreen('sign-in-entra-id', tab2);
      await signInThroughBrowser('adele.vance@contoso.example');
      await tab2.getByRole('heading', { name: 'Connections' }).waitFor();
      await expect
        .poll(() => tab2.getByTestId('who').innerText())
        .toBe('adele.vance@contoso.example · Reader (read-only)');
      // The code and state are gone from the address bar; the token is in this tab's sessionStorage only.
      expect(tab2.url()).toBe(`${signInHost.ready.hostUrl}/api/console/`);
      expect(await tab2.evaluate('Object.keys(sessionStorage)')).toEqual(['m365prov.accessToken']);
      expect(await tab2.evaluate('localStorage.length')).toBe(0);
      expect(await tab2.evaluate('document.cookie')).toBe('');
      await tab2.getByRole('row', { name: /Contoso \(console\)/ }).waitFor();
      expect(await tab2.getByRole('link', { name: 'New connection' }).count()).toBe(0);
      await checkScreen('connections-reader', tab2);

      const before = await storedName();
      const refused = await renameFromPage('Renamed by a reader');
      expect(refused.status).toBe(403);
      expect(refused.type).toContain('application/problem+json');
      expect(refused.body).toMatchObject({ status: 403, code: 'read-only-role' });
      expect(await storedName()).toBe(before);
    });

    it('the Admin signs in after the Reader signed out, and the same write succeeds; when the token expires, sign in again', async () => {
      await tab2.getByRole('button', { name: 'Sign out' }).click();
      expect(await tab2.evaluate('Object.keys(sessionStorage)')).toEqual([]);
      // The page's clock, so that the token's hour can pass (it keeps running as usual until fast-forwarded).
      await tab2.clock.install();
      await signInThroughBrowser(contoso.admin);
      await expect.poll(() => tab2.getByTestId('who').innerText()).toBe(`${contoso.admin} · Administrator`);
      await tab2.getByRole('link', { name: 'New connection' }).waitFor();
      const done = await renameFromPage('Contoso (console, renamed by its admin)');
      expect(done.status, JSON.stringify(done.body)).toBe(200);
      expect(await storedName()).toBe('Contoso (console, renamed by its admin)');

      await tab2.clock.fastForward('01:00:00');
      await tab2.getByRole('button', { name: 'Sign in with Microsoft' }).waitFor();
      expect(await tab2.evaluate('Object.keys(sessionStorage)')).toEqual([]);
      await signInThroughBrowser(contoso.admin);
      await expect.poll(() => tab2.getByTestId('who').innerText()).toBe(`${contoso.admin} · Administrator`);
    });

    it('a user without an app role sees a clear "no access" message', async () => {
      await tab2.getByRole('button', { name: 'Sign out' }).click();
      await signInThroughBrowser('alex.wilber@contoso.example');
      await tab2.getByRole('heading', { name: 'No access to the provisioning console' }).waitFor();
      expect(await tab2.getByRole('alert').innerText()).toMatch(/without an app role/);
      await checkScreen('no-access', tab2);
    });
  });

  it('raised no browser error and no CSP refusal on the way', () => {
    expect(pageErrors).toEqual([]);
  });
});
