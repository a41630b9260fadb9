// GET /api/console/…: the built console served by the app itself (functions/http/console-static.ts).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_FILES_DIR } from '../../functions/http/console-static.js';
import { type AppHost, startAppHost } from '../support/app-host.js';

let app: AppHost;
beforeAll(async () => {
  app = await startAppHost();
});
afterAll(() => app?.stop());

const raw = (path: string, init: RequestInit = {}) => fetch(`${app.url}${path}`, { redirect: 'manual', ...init });

/** The bundles index.html names (their file names carry a content hash). */
async function assets(): Promise<string[]> {
  const html = await (await raw('/api/console/')).text();
  return [...html.matchAll(/(?:src|href)="(\/api\/console\/[^"]+)"/g)].map((m) => m[1]!);
}

describe('the console files', () => {
  it('answers index.html for /api/console/ without a key, with a CSP and security headers, revalidated each time', async () => {
    const res = await raw('/api/console/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    // Sign-in off: the console talks to this origin only (sign-in.test.ts: with sign-in, the authority too).
    expect(csp.split('; ')).toContain("connect-src 'self'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await res.text();
    expect(html).toContain('<div id="app">');
    expect(html).not.toMatch(/<script>/);
  });

  it('serves the hashed bundles with their content types, cached for a year, and the whole console is ≤ 200 kB gzip', async () => {
    const names = await assets();
    expect(names.map((n) => n.replace(/-[A-Z0-9]{8}\./, '-<hash>.'))).toEqual([
      '/api/console/main-<hash>.css',
      '/api/console/main-<hash>.js',
    ]);
    let gzipBytes = gzipSync(await (await raw('/api/console/')).arrayBuffer()).length;
    for (const name of names) {
      const res = await raw(name);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(
        name.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8',
      );
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      const body = Buffer.from(await res.arrayBuffer());
      expect(body.equals(await readFile(join(CONSOLE_FILES_DIR, name.split('/').pop()!)))).toBe(true);
      gzipBytes += gzipSync(body).length;
    }
    expect(gzipBytes).toBeLessThanOrEqual(200 * 1024);
  });

  it('answers index.html for a deep link, and redirects /api/console to /api/console/', async () => {
    const deep = await raw('/api/console/connections/8f1b7a52-0000-4000-8000-000000000000/users');
    expect(deep.status).toBe(200);
    expect(await deep.text()).toContain('<div id="app">');
    const bare = await raw('/api/console');
    expect(bare.status).toBe(308);
    expect(bare.headers.get('location')).toBe('/api/console/');
  });

  it('answers HEAD with the headers and no body', async () => {
    const res = await raw('/api/console/', { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await res.text()).toBe('');
  });

  it.each([
    '/api/console/..%2f..%2fpackage.json',
    '/api/console/%2e%2e/%2e%2e/package.json',
    '/api/console/..%5c..%5cpackage.json',
    '/api/console/%2e%2e%2f%2e%2e%2fdist%2ffunctions%2findex.js',
    '/api/console/.hidden.json',
    '/api/console/missing-file.js',
    '/api/console/main.js%00.html',
  ])('never leaves the console folder nor invents a file: %s is 404 problem+json', async (path) => {
    const res = await raw(path);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const body = await res.text();
    expect(JSON.parse(body)).toMatchObject({ code: 'route-not-found' });
    expect(body).not.toContain('devDependencies');
    expect(body).not.toContain('registerFunctions');
  });

  it('is not a write route: POST answers 404 like any unknown operation', async () => {
    const res = await raw('/api/console/', { method: 'POST' });
    expect(res.status).toBe(404);
  });
});
