// The Graph client core every resource client shares (authentik's clients/base.py is the model): the connection's
// credential (client secret, or a refresh token for authorization-code connections), the Graph client over it,
// pacing by the throttle governor, error classification, request ids for the log, and dry run (writes planned,
// not sent). Resource clients (users, licences, the connection probe; groups next) only say which request to send.
import { AsyncLocalStorage } from 'node:async_hooks';
import { type AccessToken, ClientSecretCredential, type TokenCredential } from '@azure/identity';
import {
  AuthenticationHandler,
  Client,
  type Context,
  HTTPMessageHandler,
  type Middleware,
} from '@microsoft/microsoft-graph-client';
import { CLOUDS, type Connection, graphScope, type ResolvedEndpoints, resolveEndpoints } from '../domain/connection.js';
import { AppError } from '../domain/errors.js';
import type { ConnectionSecrets, GatewayOptions, RequestRecorder } from '../provisioning/ports.js';
import { classifyGraphError, retryAfterMs } from './graph-errors.js';
import { oauthClient } from './oauth-client.js';
import { type RequestKind, resourceUnitCost, type ThrottleGovernor } from './throttle-governor.js';

const KNOWN_AUTHORITY_HOSTS = new Set<string>(Object.values(CLOUDS).map((c) => c.authorityHost));
/** Refresh an access token this long before it expires. */
const EXPIRY_MARGIN_MS = 5 * 60_000;

/** The operation a Graph call belongs to: its recorder and the governor of its app + tenant (set per call). */
const currentCall = new AsyncLocalStorage<{ recorder: RequestRecorder; governor: ThrottleGovernor }>();

/**
 * After each response: tells the governor what Graph said about throttling, and collects the `request-id`
 * (and method, URL, status) into the operation's recorder for the log and the on-demand trace.
 */
class ResponseObserver implements Middleware {
  private next: Middleware | undefined;
  async execute(context: Context): Promise<void> {
    await this.next!.execute(context);
    const call = currentCall.getStore();
    if (!call || !context.response) return;
    const headers = context.response.headers;
    const percentage = Number(headers.get('x-ms-throttle-limit-percentage'));
    call.governor.observe(
      context.response.status,
      retryAfterMs(headers.get('retry-after')),
      Number.isFinite(percentage) && percentage > 0 ? percentage : undefined,
    );
    const recorder = call.recorder;
    const id = context.response.headers.get('request-id') ?? undefined;
    if (id) recorder.requestIds.push(id);
    // The SDK types the request as the DOM's RequestInfo, which this lib (no DOM) lacks: a URL string or a Request.
    const request = context.request as string | { url: string };
    const url = typeof request === 'string' ? request : request.url;
    recorder.requests?.push({
      method: context.options?.method ?? 'GET',
      url,
      status: context.response.status,
      ...(id ? { requestId: id } : {}),
    });
  }
  setNext(next: Middleware): void {
    this.next = next;
  }
}

/** Writes in a dry run are recorded like this: passwords never leave as plain text, even in a plan. */
export function redactPasswords(body: unknown): unknown {
  if (Array.isArray(body)) return body.map(redactPasswords);
  if (body === null || typeof body !== 'object') return body;
  return Object.fromEntries(
    Object.entries(body).map(([k, v]) => [
      k,
      /password/i.test(k) && typeof v === 'string' ? '[redacted]' : redactPasswords(v),
    ]),
  );
}

/** Access tokens from a stored refresh token (authorization-code connections); rotated tokens are persisted. */
class RefreshTokenCredential implements TokenCredential {
  private cached: AccessToken | undefined;
  private inFlight: Promise<AccessToken> | undefined;

  constructor(
    private readonly endpoints: ResolvedEndpoints,
    private readonly clientId: string,
    private readonly clientSecret: string,
    private refreshToken: string,
    private readonly onRotated: (refreshToken: string) => Promise<void>,
  ) {}

  async getToken(scopes: string | string[]): Promise<AccessToken> {
    if (this.cached && this.cached.expiresOnTimestamp - Date.now() > EXPIRY_MARGIN_MS) return this.cached;
    // One refresh at a time: concurrent callers share it (a refresh token may be single-use).
    this.inFlight ??= this.refresh([scopes].flat().join(' ')).finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async refresh(scope: string): Promise<AccessToken> {
    const tokens = await oauthClient.refresh({
      endpoints: this.endpoints,
      clientId: this.clientId,
      clientSecret: this.clientSecret,
      refreshToken: this.refreshToken,
      scope: `${scope} offline_access`,
    });
    if (tokens.refreshToken && tokens.refreshToken !== this.refreshToken) {
      this.refreshToken = tokens.refreshToken;
      await this.onRotated(tokens.refreshToken);
    }
    this.cached = { token: tokens.accessToken, expiresOnTimestamp: Date.now() + tokens.expiresInSeconds * 1000 };
    return this.cached;
  }
}

export function createCredential(
  c: Connection,
  secrets: ConnectionSecrets,
  onRotated: (rt: string) => Promise<void>,
): TokenCredential {
  const endpoints = resolveEndpoints(c);
  if (c.authMode === 'authorization_code') {
    if (!secrets.refreshToken) {
      return {
        getToken: () =>
          Promise.reject(
            new AppError(
              'unauthorized',
              'not-authorized',
              `Not authorised yet: open GET /api/connections/${c.id}/authorize in a browser and consent`,
            ),
          ),
      };
    }
    return new RefreshTokenCredential(endpoints, c.clientId, secrets.clientSecret, secrets.refreshToken, onRotated);
  }
  return new ClientSecretCredential(new URL(endpoints.authority).pathname.slice(1), c.clientId, secrets.clientSecret, {
    authorityHost: endpoints.authorityHost,
    // Instance discovery only knows Microsoft's clouds; an overridden authority (the simulated tenant) skips it.
    disableInstanceDiscovery: !KNOWN_AUTHORITY_HOSTS.has(endpoints.authorityHost),
  });
}

export function createGraphClient(credential: TokenCredential, c: Connection): Client {
  const graphEndpoint = resolveEndpoints(c).graphEndpoint;
  const scope = graphScope(c);
  const auth = new AuthenticationHandler({
    getAccessToken: async () => {
      const token = await credential.getToken(scope);
      if (!token) throw new AppError('unauthorized', 'no-token', 'The identity platform returned no access token');
      return token.token;
    },
  });
  // No RetryHandler: retry policy lives in the queue function (docs/architecture.md, invariant 3), not in the client.
  const observer = new ResponseObserver();
  auth.setNext(observer);
  observer.setNext(new HTTPMessageHandler());
  return Client.initWithMiddleware({
    middleware: auth,
    baseUrl: `${graphEndpoint}/`,
    defaultVersion: 'v1.0',
    // The client only sends the token to Graph's own hosts unless told about others (host names, no port).
    customHosts: new Set([new URL(graphEndpoint).hostname]),
  });
}

/** One connection's calls to Graph within one operation (its recorder, dry run, governor). */
export class GraphCall {
  readonly recorder: RequestRecorder;

  constructor(
    readonly connection: Connection,
    readonly credential: TokenCredential,
    readonly graph: Client,
    private readonly governor: ThrottleGovernor,
    private readonly options: GatewayOptions,
  ) {
    this.recorder = options.recorder ?? { requestIds: [], planned: [] };
  }

  /** `https://graph…/v1.0`: the base of directory-object references (`@odata.id`, `members@odata.bind`). */
  get graphBase(): string {
    return `${resolveEndpoints(this.connection).graphEndpoint}/v1.0`;
  }

  get dryRun(): boolean {
    return Boolean(this.options.dryRun);
  }

  /** In a dry run a write is recorded here instead of sent (passwords redacted). */
  plan(method: string, path: string, body?: unknown): void {
    this.recorder.planned.push({
      method,
      url: `${resolveEndpoints(this.connection).graphEndpoint}/v1.0${path}`,
      ...(body === undefined ? {} : { body: redactPasswords(body) }),
    });
  }

  /** Every Graph call: paced by the governor first (which may refuse with a delay), then classified. */
  async send<T>(
    what: string,
    kind: RequestKind,
    method: string,
    path: string,
    query: string,
    request: () => Promise<T>,
  ): Promise<T> {
    await this.governor.acquire(kind, resourceUnitCost(method, path, new URLSearchParams(query)));
    try {
      return await currentCall.run({ recorder: this.recorder, governor: this.governor }, request);
    } catch (error) {
      throw classifyGraphError(error, what);
    }
  }
}
