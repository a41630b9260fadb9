// The app as a component: the real local Functions host serving functions/definitions.ts in this process,
// against the suite's Azurite. Keeps every log record and response body so tests can assert on them
// (including that no secret ever appears in either).
import { join } from 'node:path';
import { afterAll, beforeAll, inject } from 'vitest';
import type { LogRecord } from '../../dev/host/host-logger.js';
import { readHostJson } from '../../dev/host/host-settings.js';
import { type RunningLocalHost, startLocalHost } from '../../dev/host/local-host.js';
import { REPO_ROOT } from '../../dev/paths.js';
import { startTestTenant, type TestTenant } from './simulated-tenant.js';

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface AppHost {
  host: RunningLocalHost;
  /** Base URL as `localhost` (the simulated tenant's registered loopback redirect URIs use that name). */
  url: string;
  logs: LogRecord[];
  /** Every response body this harness has seen, for secret scans. */
  transcripts: string[];
  api<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    init?: { headers?: Record<string, string>; key?: boolean },
  ): Promise<ApiResponse<T>>;
  stop(): Promise<void>;
}

export async function startAppHost(): Promise<AppHost> {
  // The app reads its configuration from the environment once per process.
  process.env.AzureWebJobsStorage = inject('storageConnectionString');
  // Poison queues are drained by a timer (every 30 s by default); every 2 s here, so tests see the record soon.
  process.env.POISON_DRAIN_SCHEDULE ??= '*/2 * * * * *';
  const { functionDefinitions } = await import('../../functions/definitions.js');
  const logs: LogRecord[] = [];
  const transcripts: string[] = [];
  const host = await startLocalHost({
    definitions: functionDefinitions,
    settings: readHostJson(join(REPO_ROOT, 'host.json')),
    port: 0,
    log: (r) => logs.push(r),
  });
  const url = `http://localhost:${host.port}`;
  return {
    host,
    url,
    logs,
    transcripts,
    async api<T>(
      method: string,
      path: string,
      body?: unknown,
      init: { headers?: Record<string, string>; key?: boolean } = {},
    ) {
      const res = await fetch(`${url}${path}`, {
        method,
        redirect: 'manual',
        headers: {
          ...(init.key === false ? {} : { 'x-functions-key': host.functionKey }),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...init.headers,
        },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await res.text();
      transcripts.push(`${res.status} ${[...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n${text}`);
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // HTML or plain text bodies stay as text.
      }
      return { status: res.status, headers: res.headers, body: parsed as T, text };
    },
    stop: () => host.stop(),
  };
}

/**
 * For a test file: the simulated tenant and the app host, started before its tests and stopped after.
 * Read `.app` and `.sim` inside tests (they are set once beforeAll has run).
 */
export function useAppWithTenant(): { app: AppHost; sim: TestTenant } {
  const ctx = {} as { app: AppHost; sim: TestTenant };
  beforeAll(async () => {
    ctx.sim = await startTestTenant();
    ctx.app = await startAppHost();
  });
  afterAll(async () => {
    await ctx.app?.stop();
    await ctx.sim?.close();
  });
  return ctx;
}
