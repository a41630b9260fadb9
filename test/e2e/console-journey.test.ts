// The admin console in a real headless Chromium (Debian's chromium, driven by playwright-core) against the local
// Functions host, Azurite and the simulated Microsoft 365 tenant: the seed journey an admin makes, screen by screen.
// Every screen is checked with axe-core (no serious or critical violation) and photographed into test/artifacts/.
// The steps share one browser tab and build on each other, in order.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useAppWithTenant } from '../support/app-host.js';
import { launchChromium, screenshot, seriousAccessibilityViolations } from '../support/browser.js';
import { DEFAULT_SEED } from '../support/simulated-tenant.js';

const contoso = DEFAULT_SEED.contoso;
const ctx = useAppWithTenant();
let browser: Browser;
let page: Page;
/** Browser errors (uncaught exceptions, CSP refusals): none may happen. */
const pageErrors: string[] = [];
const state = { connectionId: '' };

beforeAll(async () => {
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  // A step that waits for something that never comes fails in 15 s, naming it.
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) pageErrors.push(m.text());
  });
});
afterAll(async () => {
  await browser?.close();
});

const consoleUrl = (hash = '') => `${ctx.app.url}/api/console/${hash}`;

/** The screen as it is now passes axe-core and is photographed. */
async function checkScreen(name: string): Promise<void> {
  await page.locator('main').first().waitFor();
  expect(await seriousAccessibilityViolations(page), name).toEqual([]);
  await screenshot(page, name);
}

const text = (t: string | RegExp) => page.getByText(t).first();

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
  });

  it('raised no browser error and no CSP refusal on the way', () => {
    expect(pageErrors).toEqual([]);
  });
});
