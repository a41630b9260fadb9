// GET /api/console/…: the admin console's built files (dist/console, made by `npm run build` from console/).
// Anonymous: the files hold nothing secret; every API call the console makes carries the caller's credentials.
// Paths are resolved inside the console folder only; a path without a file extension is a deep link and gets
// index.html (the console routes in the hash, so this only matters for hand-typed URLs).
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { getConfig, signInSettings } from '../../shared/config.js';
import { httpFunction } from '../define.js';
import { problemResponse } from '../problem.js';
import { routeNotFound } from './not-found.js';

/**
 * Compiled (dist/functions/http/console-static.js) the files are in dist/console; run from source (the local host
 * under tsx) they are in <repo>/dist/console.
 */
export const CONSOLE_FILES_DIR = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? '../../dist/console/' : '../../console/', import.meta.url),
);

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.json': 'application/json',
};

/**
 * Scripts, styles and API calls from this origin only; no inline script, no framing, no plugins; forms post only
 * here; consent pages are reached by navigation (not restricted by CSP). With Entra ID sign-in the console also
 * calls the authority (its OpenID metadata and the token request, which a single-page app makes cross-origin):
 * that origin, from the configuration, is the only other one it may connect to.
 */
export function consoleCsp(authorityOrigin?: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    authorityOrigin ? `connect-src 'self' ${authorityOrigin}` : "connect-src 'self'",
    "font-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function securityHeaders(): Record<string, string> {
  const signIn = signInSettings(getConfig());
  return {
    'content-security-policy': consoleCsp(signIn ? new URL(signIn.authorityHost).origin : undefined),
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=()',
  };
}

const notFound = (method: string) => problemResponse(routeNotFound(method), { 'x-content-type-options': 'nosniff' });

/** The file a request path names inside `root`, or undefined when it would leave it (or is not a plain path). */
export function resolveConsolePath(root: string, path: string): string | undefined {
  // The host has already percent-decoded the segments: `..`, backslashes and NUL can only mean escaping.
  if (path.includes('\0') || path.includes('\\')) return undefined;
  const segments = path.split('/').filter(Boolean);
  if (segments.some((s) => s === '..' || s === '.' || s.startsWith('.'))) return undefined;
  const full = normalize(join(root, ...segments));
  return full.startsWith(root.endsWith(sep) ? root : root + sep) ? full : undefined;
}

async function readIfFile(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch {
    return undefined;
  }
}

export async function serveConsole(request: HttpRequest): Promise<HttpResponseInit> {
  const url = new URL(request.url);
  const headers = securityHeaders();
  // /api/console → /api/console/ (so the console's relative URLs and the hash routes have one base).
  if (!url.pathname.endsWith('/') && !request.params.path)
    return { status: 308, headers: { location: `${url.pathname}/${url.search}`, ...headers } };
  const path = request.params.path ?? '';
  const file = resolveConsolePath(CONSOLE_FILES_DIR, path);
  if (!file) return notFound(request.method);
  const extension = extname(file);
  const deepLink = path === '' || extension === '';
  const target = deepLink ? join(CONSOLE_FILES_DIR, 'index.html') : file;
  const body = await readIfFile(target);
  if (!body) {
    if (deepLink)
      return problemResponse(
        {
          status: 503,
          code: 'console-not-built',
          title: 'The console is not built',
          detail: 'Run `npm run build` (it builds the console into dist/console)',
        },
        headers,
      );
    return notFound(request.method);
  }
  const type = CONTENT_TYPES[deepLink ? '.html' : extension] ?? 'application/octet-stream';
  // index.html is revalidated every time (it names the current bundles); the bundles are named by their hash.
  const hashed = /-[A-Z0-9]{8}\.(js|css)$/.test(file);
  return {
    status: 200,
    headers: {
      'content-type': type,
      'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
      ...headers,
    },
    body: request.method === 'HEAD' ? undefined : body,
  };
}

export const consoleStaticFunction = httpFunction({
  name: 'console-static',
  route: 'console/{*path}',
  methods: ['GET', 'HEAD'],
  authLevel: 'anonymous',
  handler: serveConsole,
  openapi: {
    summary: 'The admin console (single-page app): index.html for /api/console/ and any deep link, then its bundles',
    responses: {
      200: { description: 'A file of the console', html: true },
      308: { description: '/api/console → /api/console/', redirect: true },
      404: { description: 'No such file (problem+json route-not-found)' },
      503: { description: 'The console was not built (problem+json console-not-built)' },
    },
  },
});
