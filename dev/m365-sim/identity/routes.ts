// Routes of the login surface ({authorityHost}/{tenant}/…), with fault injection and request logging.
import type { SimContext } from '../context.js';
import type { SimResponse } from '../http.js';
import { adminConsent, authorize } from './authorize.js';
import { IdentityError, identityErrorResponse } from './errors.js';
import { instanceDiscovery, jwks, openIdConfiguration } from './metadata.js';
import { tokenEndpoint } from './token.js';

export interface IdentityRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  rawBody: string;
}

async function route(ctx: SimContext, req: IdentityRequest): Promise<SimResponse | undefined> {
  const m = /^\/([^/]+)(\/.*)$/.exec(req.path);
  if (!m) return undefined;
  const segment = decodeURIComponent(m[1]!);
  const rest = m[2]!;
  if (req.method === 'GET') {
    if (rest === '/v2.0/.well-known/openid-configuration' || rest === '/.well-known/openid-configuration')
      return openIdConfiguration(ctx, segment);
    if (rest === '/discovery/v2.0/keys' || rest === '/discovery/keys') return jwks(ctx);
    if (segment === 'common' && rest === '/discovery/instance') return instanceDiscovery(ctx, req.query);
    if (rest === '/oauth2/v2.0/authorize') return authorize(ctx, segment, req.query);
    if (rest === '/v2.0/adminconsent' || rest === '/adminconsent') return adminConsent(ctx, segment, req.query);
  }
  // The sign-in page's form (sign-in-page.ts) posts back to the authorize endpoint.
  if (req.method === 'POST' && rest === '/oauth2/v2.0/authorize')
    return authorize(ctx, segment, new URLSearchParams(req.rawBody), true);
  if (req.method === 'POST' && rest === '/oauth2/v2.0/token') {
    return tokenEndpoint(
      ctx,
      segment,
      new URLSearchParams(req.rawBody),
      req.headers['authorization'],
      req.headers['origin'],
    );
  }
  return undefined;
}

export async function handleIdentityRequest(ctx: SimContext, req: IdentityRequest): Promise<SimResponse> {
  const started = ctx.clock.now();
  const params = req.method === 'POST' ? new URLSearchParams(req.rawBody) : req.query;
  const tenantSegment = /^\/([^/]+)/.exec(req.path)?.[1];
  const tenantId = tenantSegment ? ctx.directory.tenant(decodeURIComponent(tenantSegment))?.id : undefined;
  let response: SimResponse;
  let faultNote: string | undefined;
  try {
    const picked = ctx.faults.pick({ surface: 'identity', method: req.method, path: req.path, tenantId });
    if (picked.latencyMs > 0) {
      faultNote = `latency ${picked.latencyMs}ms`;
      await new Promise((r) => setTimeout(r, picked.latencyMs));
    }
    if (picked.fault?.kind === 'drop') {
      faultNote = 'dropped';
      response = { status: 0, headers: {}, drop: true };
    } else if (picked.fault) {
      const status = picked.fault.kind === 'status' ? picked.fault.status : 504;
      faultNote = `status ${status}`;
      const err = identityErrorResponse(
        new IdentityError(
          status,
          'temporarily_unavailable',
          90033,
          'A transient error has occurred. Please try again. (injected fault)',
        ),
        ctx.clock.now(),
      );
      if (picked.fault.kind === 'status' && picked.fault.retryAfterSeconds !== undefined)
        err.headers['retry-after'] = String(picked.fault.retryAfterSeconds);
      response = err;
    } else {
      response =
        (await route(ctx, req)) ??
        identityErrorResponse(
          new IdentityError(
            404,
            'invalid_request',
            900561,
            `The endpoint ${req.method} ${req.path} is not served by the simulated tenant.`,
          ),
          ctx.clock.now(),
        );
    }
  } catch (e) {
    if (!(e instanceof IdentityError)) throw e;
    response = identityErrorResponse(e, ctx.clock.now(), req.headers['client-request-id']);
  }
  // Browser apps (single-page apps with MSAL) read discovery, keys and tokens cross-origin: the identity platform
  // answers them with CORS headers; its endpoints take no cookies from such calls.
  if (req.headers['origin'] && response.status !== 302) response.headers['access-control-allow-origin'] = '*';
  ctx.log.add({
    at: new Date(started).toISOString(),
    surface: 'identity',
    method: req.method,
    // Query strings of the browser endpoints carry no secrets; token request bodies do, so only grant_type is kept.
    path: req.method === 'GET' && req.query.size ? `${req.path}?${req.query.toString()}` : req.path,
    tenantId,
    appId: params.get('client_id')?.toLowerCase() ?? undefined,
    grantType: params.get('grant_type') ?? undefined,
    status: response.status,
    fault: faultNote,
  });
  return response;
}
