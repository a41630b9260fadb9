// A real headless Chromium for the console's tests: Debian's `chromium` package (installed by .ci/run when missing)
// driven by playwright-core, which downloads no browser. Each screen is checked with axe-core and photographed
// into test/artifacts/console/ (git-ignored).
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import axe from 'axe-core';
import { type Browser, chromium, type Page } from 'playwright-core';
import { DEV_TLS_DIR, REPO_ROOT } from '../../dev/paths.js';
import { ensureDevCertificates } from '../../dev/tls/dev-certificates.js';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS_DIR = join(REPO_ROOT, 'test', 'artifacts', 'console');

/**
 * Chromium on Linux trusts the system's CAs, not NODE_EXTRA_CA_CERTS: the simulated tenant's certificate (made by the
 * local CA, reached on the consent round trip) is trusted by its public key alone (Chromium's SPKI allow-list), so
 * certificate checking stays on for everything else.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH))
    throw new Error(`No Chromium at ${CHROMIUM_PATH}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  const { serverCert } = await ensureDevCertificates(DEV_TLS_DIR);
  const spki = new X509Certificate(serverCert).publicKey.export({ type: 'spki', format: 'der' });
  const pin = createHash('sha256').update(spki).digest('base64');
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [`--ignore-certificate-errors-spki-list=${pin}`],
  });
}

export interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  nodes: string[];
}

/**
 * axe-core's serious and critical violations on the page as it is now (WCAG 2.x A/AA rules and best practices).
 * The script is evaluated through the DevTools protocol, so the console's CSP (no inline script) stays in force.
 */
export async function seriousAccessibilityViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axe.source);
  // Runs in the page (globalThis is its window; axe.run() checks the whole document).
  const result = await page.evaluate(async () => {
    const run = (globalThis as unknown as { axe: typeof axe }).axe.run({ resultTypes: ['violations'] });
    return (await run).violations.map((v) => ({
      id: v.id,
      impact: v.impact ?? 'unknown',
      help: v.help,
      nodes: v.nodes.map((n) => n.target.join(' ')),
    }));
  });
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** A full-page screenshot of the screen under test/artifacts/console/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
