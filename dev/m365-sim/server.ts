// The simulated Microsoft 365 tenant: one HTTPS listener serving the identity platform
// ({authorityHost}/{tenant}/…), Microsoft Graph ({graphBaseUrl}/v1.0/…) and the /_sim/ controls.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createClock, type SimClock } from './clock.js';
import type { SimContext, SimSettings } from './context.js';
import { handleControl } from './controls.js';
import { FaultInjector } from './faults.js';
import { handleBatch } from './graph/batch.js';
import { handleGraphRequest } from './graph/pipeline.js';
import { flattenHeaders, jsonResponse, readBody, type SimResponse } from './http.js';
import { handleIdentityRequest } from './identity/routes.js';
import { createSigningKeys } from './identity/signing.js';
import { serializeSimState, SimStateFile } from './persistence.js';
import { RequestLog } from './request-log.js';
import { loadDefaultSeed, type ParsedSeed, parseSeed, type SeedDocument } from './seed.js';
import { DirectoryState, type TenantState } from './state.js';
import { ThrottleModel } from './throttling.js';

export interface SimulatedTenantOptions {
  /** 0 (default) = OS-chosen. */
  port?: number;
  host?: string;
  tls: { cert: string; key: string };
  /** Defaults to dev/m365-sim/default-seed.json. */
  seed?: SeedDocument | ParsedSeed;
  /** > 1 shrinks throttling windows (and Retry-After) by this factor. Default 1. */
  timeScale?: number;
  /** Identity-and-access throttling model. Default true; functional tests usually turn it off. */
  throttling?: boolean;
  /** Eventual consistency: new objects appear in lists/filters this long after creation. Default 0. */
  replicationDelayMs?: number;
  /** Group-based licensing: members get a group's licences this long after the change. Default 0 (the next request). */
  groupLicenseDelayMs?: number;
  /** Injected clock (simulated time still moves with /_sim/clock/advance). */
  clock?: SimClock;
  /**
   * Keep the directory in this file: loaded at start (an unreadable file is reported and the seed used), saved
   * shortly after requests and on close. In memory only when absent.
   */
  stateFile?: string;
  /** Where the simulator reports what humans should know (an unreadable state file). Default: stderr. */
  report?: (message: string) => void;
}

export interface TenantReadyInfo {
  tenantId: string;
  displayName: string;
  domains: string[];
  clientId: string;
  clientSecret: string;
  /** The app registration of an API with app roles (the provisioner's own sign-in app), if the tenant has one. */
  signInApp?: { clientId: string; scope: string };
}

export interface RunningSimulatedTenant {
  url: string;
  authorityHost: string;
  graphBaseUrl: string;
  port: number;
  tenants: TenantReadyInfo[];
  /** With `stateFile`: the file, and whether the directory was loaded from it (false: started from the seed). */
  state?: { file: string; restored: boolean };
  /** Replace the data with the seed (or the start-up seed) and clear faults, logs, throttling usage. */
  reset(seed?: SeedDocument): void;
  close(): Promise<void>;
}

/** The line `npm run tenant` prints (and `npm start` reuses): where to point a connection, and with what. */
export function buildReadyInfo(
  sim: Pick<RunningSimulatedTenant, 'authorityHost' | 'graphBaseUrl' | 'tenants'>,
  caCertPath: string,
) {
  return {
    event: 'ready' as const,
    authorityHost: sim.authorityHost,
    graphBaseUrl: sim.graphBaseUrl,
    tenants: sim.tenants.map(({ tenantId, domains, clientId, clientSecret }) => ({
      tenantId,
      domains,
      clientId,
      clientSecret,
    })),
    caCertPath,
  };
}

/** Per tenant, the app with the most permissions and its longest-lived secret (dev-only values). */
function tenantsInfo(ctx: SimContext): TenantReadyInfo[] {
  const now = ctx.clock.now();
  return [...ctx.directory.tenants.values()].flatMap((t) => {
    const app = [...t.apps.values()].sort(
      (a, b) => b.applicationPermissions.length - a.applicationPermissions.length,
    )[0];
    const secret = app?.secrets.filter((s) => s.endDateTime > now).sort((a, b) => b.endDateTime - a.endDateTime)[0];
    if (!app || !secret) return [];
    return [
      {
        tenantId: t.id,
        displayName: t.displayName,
        domains: t.domains.map((d) => d.name),
        clientId: app.appId,
        clientSecret: secret.value,
        ...signInAppOf(t),
      },
    ];
  });
}

/** The first app that exposes a scope and defines app roles: what `npm start -- --sign-in` signs in to. */
function signInAppOf(t: TenantState): Pick<TenantReadyInfo, 'signInApp'> {
  const app = [...t.apps.values()].find((a) => a.appRoles.length > 0 && a.api.oauth2PermissionScopes.length > 0);
  if (!app) return {};
  const resource = app.identifierUris[0] ?? app.appId;
  return { signInApp: { clientId: app.appId, scope: `${resource}/${app.api.oauth2PermissionScopes[0]!.value}` } };
}

const GRAPH_CONTENT_TYPE =
  'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

function send(res: ServerResponse, response: SimResponse, graph: boolean): void {
  if (response.drop) {
    res.socket?.destroy();
    return;
  }
  const headers: Record<string, string> = { ...response.headers };
  let payload: string | undefined;
  if (response.text !== undefined) payload = response.text;
  else if (response.body !== undefined) {
    payload = JSON.stringify(response.body);
    headers['content-type'] ??= graph ? GRAPH_CONTENT_TYPE : 'application/json; charset=utf-8';
  }
  res.writeHead(response.status, headers);
  res.end(payload);
}

export async function startSimulatedTenant(options: SimulatedTenantOptions): Promise<RunningSimulatedTenant> {
  const clock = options.clock ?? createClock();
  const initialSeed: ParsedSeed = options.seed ? parseSeed(options.seed) : loadDefaultSeed();
  const initialSettings: SimSettings = {
    throttling: options.throttling ?? true,
    timeScale: options.timeScale ?? 1,
    replicationDelayMs: options.replicationDelayMs ?? 0,
    groupLicenseDelayMs: options.groupLicenseDelayMs ?? 0,
    apiTokenBackdateSeconds: 0,
  };
  const settings = { ...initialSettings };
  const ctx: SimContext = {
    baseUrl: '',
    clock,
    directory: new DirectoryState(),
    seed: initialSeed,
    keys: await createSigningKeys(),
    settings,
    log: new RequestLog(),
    faults: new FaultInjector(),
    throttle: new ThrottleModel(() => settings.timeScale),
    interactive: { decision: 'approve' },
    authCodes: new Map(),
    refreshTokens: new Map(),
  };

  const reset = (seed?: unknown) => {
    if (seed !== undefined) ctx.seed = parseSeed(seed);
    clock.reset();
    ctx.directory.load(ctx.seed, clock.now());
    Object.assign(ctx.settings, initialSettings);
    ctx.log.clear();
    ctx.faults.clear();
    ctx.throttle.reset();
    ctx.interactive = { decision: 'approve' };
    ctx.authCodes.clear();
    ctx.refreshTokens.clear();
  };
  reset();
  const report = options.report ?? ((message: string) => process.stderr.write(`[m365-sim] ${message}\n`));
  const stateFile = options.stateFile
    ? new SimStateFile(options.stateFile, () => serializeSimState(ctx), report)
    : undefined;
  const restored = stateFile?.restoreInto(ctx).restored ?? false;

  const hooks = {
    reset,
    readyInfo: () => ({ authorityHost: ctx.baseUrl, graphBaseUrl: ctx.baseUrl, tenants: tenantsInfo(ctx) }),
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', ctx.baseUrl);
    const method = (req.method ?? 'GET').toUpperCase();
    const headers = flattenHeaders(req);
    const rawBody = await readBody(req);
    const first = url.pathname.split('/')[1] ?? '';
    if (first === '_sim') {
      let body: unknown;
      try {
        body = rawBody ? JSON.parse(rawBody) : undefined;
      } catch {
        return send(
          res,
          jsonResponse(400, { error: { code: 'InvalidJson', message: 'control body is not JSON' } }),
          false,
        );
      }
      return send(res, handleControl(ctx, hooks, method, url.pathname, url.searchParams, body), false);
    }
    if (first === 'v1.0' || first === 'beta') {
      const rawPath = url.pathname.slice(first.length + 1) || '/';
      let body: unknown;
      let bodyError: string | undefined;
      if (rawBody) {
        try {
          body = JSON.parse(rawBody);
        } catch (e) {
          bodyError = (e as Error).message;
        }
      }
      if (first === 'beta') {
        return send(
          res,
          jsonResponse(400, {
            error: { code: 'BadRequest', message: 'The simulated tenant serves Microsoft Graph v1.0 only.' },
          }),
          true,
        );
      }
      const graphReq = {
        method,
        rawPath,
        query: url.searchParams,
        headers,
        body,
        bodyError,
        surface: 'graph' as const,
      };
      const response =
        rawPath === '/$batch' && method === 'POST'
          ? await handleBatch(ctx, graphReq)
          : await handleGraphRequest(ctx, graphReq);
      return send(res, response, true);
    }
    return send(
      res,
      await handleIdentityRequest(ctx, { method, path: url.pathname, query: url.searchParams, headers, rawBody }),
      false,
    );
  }

  const server: Server = createServer({ cert: options.tls.cert, key: options.tls.key }, (req, res) => {
    const done = handle(req, res).catch((e: unknown) => {
      // A bug in the simulator must be loud, but must not kill the process other tests share.
      console.error('[m365-sim] internal error', e);
      if (!res.headersSent)
        send(res, jsonResponse(500, { error: { code: 'SimulatorInternalError', message: String(e) } }), false);
      else res.end();
    });
    // Once it is answered, any request but a control read may have changed what is kept (even a GET: delta hands
    // out new links).
    if (stateFile && !(req.method === 'GET' && req.url?.startsWith('/_sim/'))) {
      void done.finally(() => stateFile.changed());
    }
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  ctx.baseUrl = `https://${host}:${port}`;

  return {
    url: ctx.baseUrl,
    authorityHost: ctx.baseUrl,
    graphBaseUrl: ctx.baseUrl,
    port,
    get tenants() {
      return tenantsInfo(ctx);
    },
    ...(stateFile ? { state: { file: stateFile.path, restored } } : {}),
    reset: (seed) => reset(seed),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => {
          // After the last request: what it changed is in the file before the process goes.
          stateFile?.flush();
          if (err) reject(err);
          else resolve();
        });
        server.closeAllConnections();
      }),
  };
}
