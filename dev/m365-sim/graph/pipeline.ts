// One Graph request, start to finish: fault injection → bearer token (401) → route → throttling (429) →
// permission (403) → handler → Graph error shape and request-id headers. $batch calls this per item.
import { randomUUID } from 'node:crypto';
import type { SimContext } from '../context.js';
import { GRAPH_CODE_BY_STATUS } from '../faults.js';
import type { SimResponse } from '../http.js';
import { type AccessTokenClaims, verifyAccessToken } from '../identity/signing.js';
import { resourceUnitCost } from '../throttling.js';
import { GraphError, graphErrorResponse, type RequestIds } from './errors.js';
import { requireAnyPermission } from './permissions.js';
import { graphRoutes } from './routes.js';
import type { GraphCall } from './types.js';

export interface GraphRequest {
  method: string;
  /** Path after /v1.0, still percent-encoded. */
  rawPath: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: unknown;
  /** Set when the body was not valid JSON. */
  bodyError?: string;
  surface: 'graph' | 'batch-item';
  batchRequestId?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function ids(ctx: SimContext, headers: Record<string, string>): RequestIds {
  const requestId = randomUUID();
  return {
    requestId,
    clientRequestId: headers['client-request-id'] ?? requestId,
    date: new Date(ctx.clock.now()).toISOString().replace(/\.\d+Z$/, ''),
  };
}

function decodePath(rawPath: string): string {
  try {
    return rawPath
      .split('/')
      .map((s) => decodeURIComponent(s))
      .join('/');
  } catch {
    throw new GraphError(400, 'BadRequest', `Invalid request URI '${rawPath}'.`);
  }
}

export async function authenticate(ctx: SimContext, headers: Record<string, string>): Promise<AccessTokenClaims> {
  const header = headers['authorization'] ?? '';
  const wwwAuthenticate = {
    'www-authenticate': `Bearer realm="", authorization_uri="${ctx.baseUrl}/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`,
  };
  const token = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
  if (!token)
    throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token is empty.', undefined, wwwAuthenticate);
  const check = await verifyAccessToken(ctx.keys, token, ctx.clock.now());
  if (!check.ok) throw new GraphError(401, 'InvalidAuthenticationToken', check.message, undefined, wwwAuthenticate);
  return check.claims;
}

export async function handleGraphRequest(ctx: SimContext, req: GraphRequest): Promise<SimResponse> {
  const requestIds = ids(ctx, req.headers);
  const started = ctx.clock.now();
  let tenantId: string | undefined;
  let appId: string | undefined;
  let resourceUnits: number | undefined;
  let faultNote: string | undefined;
  let extraHeaders: Record<string, string> = {};
  let response: SimResponse;
  try {
    const picked = ctx.faults.pick({ surface: 'graph', method: req.method, path: `/v1.0${req.rawPath}` });
    if (picked.latencyMs > 0) {
      faultNote = `latency ${picked.latencyMs}ms`;
      await sleep(picked.latencyMs);
    }
    if (picked.fault?.kind === 'drop' && req.surface === 'graph') {
      faultNote = 'dropped';
      response = { status: 0, headers: {}, drop: true };
    } else if (picked.fault) {
      const status = picked.fault.kind === 'status' ? picked.fault.status : 504;
      faultNote = `status ${status}`;
      const retryAfter = picked.fault.kind === 'status' ? picked.fault.retryAfterSeconds : undefined;
      const code =
        (picked.fault.kind === 'status' && picked.fault.code) || GRAPH_CODE_BY_STATUS[status] || 'UnknownError';
      throw new GraphError(
        status,
        code,
        'Injected fault (simulated tenant).',
        undefined,
        retryAfter !== undefined ? { 'retry-after': String(retryAfter) } : {},
      );
    } else {
      const auth = await authenticate(ctx, req.headers);
      tenantId = auth.tid;
      appId = auth.appid;
      const tenant = ctx.directory.tenant(auth.tid);
      if (!tenant)
        throw new GraphError(
          401,
          'InvalidAuthenticationToken',
          'Access token validation failure. The tenant does not exist.',
        );
      if (req.bodyError)
        throw new GraphError(
          400,
          'BadRequest',
          'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
        );
      // Background work of the directory that is due by now (group-based licensing) is done before the request.
      tenant.processLicenseWork(ctx.clock.now());
      const path = decodePath(req.rawPath);
      const { route, params } = findRoute(req.method, path);
      if (ctx.settings.throttling) {
        resourceUnits = resourceUnitCost(route.baseCost ?? 1, req.query);
        const outcome = ctx.throttle.charge(
          {
            appId: auth.appid,
            tenantId: tenant.id,
            sizeClass: tenant.sizeClass,
            resourceUnits,
            isWrite: req.method !== 'GET',
          },
          ctx.clock.now(),
        );
        extraHeaders = outcome.headers;
        if (outcome.throttled) {
          throw new GraphError(429, 'TooManyRequests', 'Too many requests.', undefined, {
            'retry-after': String(outcome.retryAfterSeconds),
            'x-ms-throttle-scope': outcome.scope,
            'x-ms-throttle-information': outcome.information,
          });
        }
      }
      requireAnyPermission(auth, route.permissions);
      const call: GraphCall = {
        ctx,
        tenant,
        auth,
        method: req.method,
        path,
        query: req.query,
        headers: req.headers,
        body: req.body,
        now: ctx.clock.now(),
        requestId: requestIds.requestId,
      };
      const result = await route.handle(call, params);
      response = { status: result.status, headers: result.headers ?? {}, body: result.body };
    }
  } catch (e) {
    if (!(e instanceof GraphError)) throw e;
    response = graphErrorResponse(e, requestIds);
  }
  response.headers = {
    ...extraHeaders,
    ...response.headers,
    'request-id': requestIds.requestId,
    'client-request-id': requestIds.clientRequestId,
    'x-ms-ags-diagnostic': JSON.stringify({
      ServerInfo: { DataCenter: 'Simulated', Slice: 'E', Ring: '0', ScaleUnit: '000', RoleInstance: 'SIM' },
    }),
  };
  ctx.log.add({
    at: new Date(started).toISOString(),
    surface: req.surface,
    method: req.method,
    path: `/v1.0${req.rawPath}${req.query.size ? `?${req.query.toString()}` : ''}`,
    tenantId,
    appId,
    status: response.status,
    requestId: requestIds.requestId,
    batchRequestId: req.batchRequestId,
    resourceUnits,
    fault: faultNote,
    ...(req.body !== undefined ? { body: redactSecrets(req.body) } : {}),
  });
  return response;
}

function findRoute(method: string, path: string) {
  let pathMatched = false;
  for (const route of graphRoutes()) {
    const m = route.pattern.exec(path);
    if (!m) continue;
    pathMatched = true;
    if (route.method === method) return { route, params: m.slice(1) };
  }
  if (pathMatched)
    throw new GraphError(405, 'Request_BadRequest', `The HTTP method '${method}' is not supported for '${path}'.`);
  const segment = path.split('/').filter(Boolean)[0] ?? '';
  throw new GraphError(400, 'BadRequest', `Resource not found for the segment '${segment}'.`);
}

/** Request bodies go to the log with passwords replaced: tests assert on what was sent, never on secrets. */
export function redactSecrets(body: unknown): unknown {
  if (Array.isArray(body)) return body.map(redactSecrets);
  if (body === null || typeof body !== 'object') return body;
  return Object.fromEntries(
    Object.entries(body).map(([key, value]) => [
      key,
      /password|secret/i.test(key) && typeof value === 'string' ? '[redacted]' : redactSecrets(value),
    ]),
  );
}
