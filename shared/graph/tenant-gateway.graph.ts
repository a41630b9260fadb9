// A connection's tenant through Microsoft Graph. Credentials and Graph clients are cached per connection and
// rebuilt when its credentialVersion changes (new secret, tenant, client or endpoints).
import { AsyncLocalStorage } from 'node:async_hooks';
import { ClientSecretCredential, type AccessToken, type TokenCredential } from '@azure/identity';
import { AuthenticationHandler, Client, HTTPMessageHandler, type Context, type Middleware } from '@microsoft/microsoft-graph-client';
import { decodeJwt } from 'jose';
import { CLOUDS, graphScope, resolveEndpoints, type Connection, type ResolvedEndpoints } from '../domain/connection.js';
import { AppError } from '../domain/errors.js';
import type { MatchingAttribute } from '../domain/sync-settings.js';
import type {
  ApplicationSecret,
  ConnectionSecrets,
  UserPage,
  GatewayOptions,
  GraphUser,
  RequestRecorder,
  SubscribedSku,
  TenantGateway,
  TenantGatewayFactory,
  TokenInfo,
} from '../provisioning/ports.js';
import { classifyGraphError, retryAfterMs } from './graph-errors.js';
import { GovernorRegistry, resourceUnitCost, type RequestKind, type ThrottleGovernor } from './throttle-governor.js';
import { oauthClient } from './oauth-client.js';

const KNOWN_AUTHORITY_HOSTS = new Set<string>(Object.values(CLOUDS).map((c) => c.authorityHost));
/** Refresh an access token this long before it expires. */
const EXPIRY_MARGIN_MS = 5 * 60_000;

/** Seat counts are read at most this often per connection. */
const SKU_CACHE_MS = 60_000;

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
    call.governor.observe(context.response.status, retryAfterMs(headers.get('retry-after')), Number.isFinite(percentage) && percentage > 0 ? percentage : undefined);
    const recorder = call.recorder;
    const id = context.response.headers.get('request-id') ?? undefined;
    if (id) recorder.requestIds.push(id);
    const url = typeof context.request === 'string' ? context.request : context.request.url;
    recorder.requests?.push({ method: context.options?.method ?? 'GET', url, status: context.response.status, ...(id ? { requestId: id } : {}) });
  }
  setNext(next: Middleware): void {
    this.next = next;
  }
}

/** Writes in a dry run are recorded like this: passwords never leave as plain text, even in a plan. */
export function redactPasswords(body: unknown): unknown {
  if (Array.isArray(body)) return body.map(redactPasswords);
  if (body === null || typeof body !== 'object') return body;
  return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, /password/i.test(k) && typeof v === 'string' ? '[redacted]' : redactPasswords(v)]));
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

function createCredential(c: Connection, secrets: ConnectionSecrets, onRotated: (rt: string) => Promise<void>): TokenCredential {
  const endpoints = resolveEndpoints(c);
  if (c.authMode === 'authorization_code') {
    if (!secrets.refreshToken) {
      return {
        getToken: () =>
          Promise.reject(
            new AppError('unauthorized', 'not-authorized', `Not authorised yet: open GET /api/connections/${c.id}/authorize in a browser and consent`),
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

function createGraphClient(credential: TokenCredential, c: Connection): Client {
  const graphEndpoint = resolveEndpoints(c).graphEndpoint;
  const scope = graphScope(c);
  const auth = new AuthenticationHandler({
    getAccessToken: async () => {
      const token = await credential.getToken(scope);
      if (!token) throw new AppError('unauthorized', 'no-token', 'The identity platform returned no access token');
      return token.token;
    },
  });
  // No RetryHandler: retry policy lives in the queue function (ARCHITECTURE.md invariant 3), not in the client.
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

class GraphTenantGateway implements TenantGateway {
  private readonly recorder: RequestRecorder;

  constructor(
    private readonly connection: Connection,
    private readonly credential: TokenCredential,
    private readonly graph: Client,
    private readonly skuCache: Map<string, { at: number; skus: Promise<SubscribedSku[]> }>,
    private readonly governor: ThrottleGovernor,
    private readonly options: GatewayOptions,
  ) {
    this.recorder = options.recorder ?? { requestIds: [], planned: [] };
  }

  async acquireToken(): Promise<TokenInfo> {
    let token: AccessToken | null;
    try {
      token = await this.credential.getToken(graphScope(this.connection));
    } catch (error) {
      const failure = classifyGraphError(error, 'acquire-token');
      if (failure.kind !== 'transient') throw failure;
      // Say where we tried: a wrong cloud or authority override is the usual cause.
      throw new AppError(failure.kind, failure.code, `${failure.message} (authority ${resolveEndpoints(this.connection).authority})`, failure.details);
    }
    if (!token) throw new AppError('unauthorized', 'no-token', 'The identity platform returned no access token');
    const claims = decodeJwt(token.token) as { roles?: unknown; scp?: unknown };
    const delegated = typeof claims.scp === 'string';
    return {
      kind: delegated ? 'delegated' : 'app-only',
      permissions: delegated ? String(claims.scp).split(' ').filter(Boolean) : Array.isArray(claims.roles) ? claims.roles.map(String) : [],
      expiresOn: new Date(token.expiresOnTimestamp),
    };
  }

  async verifiedDomains(): Promise<string[]> {
    const org = (await this.call('read-organization', 'read', 'GET', '/organization', '$select=x', () => this.graph.api('/organization').select('verifiedDomains').get())) as {
      value: { verifiedDomains?: { name: string }[] }[];
    };
    return org.value.flatMap((o) => o.verifiedDomains ?? []).map((d) => d.name.toLowerCase());
  }

  async readOneUser(): Promise<void> {
    await this.call('read-users', 'read', 'GET', '/users', '$select=id&$top=1', () => this.graph.api('/users').select('id').top(1).get());
  }

  async applicationSecrets(appId: string): Promise<ApplicationSecret[]> {
    const app = (await this.call('read-application', 'read', 'GET', '/applications', '$select=x', () =>
      this.graph.api(`/applications(appId='${encodeURIComponent(appId)}')`).select('passwordCredentials').get(),
    )) as { passwordCredentials?: ApplicationSecret[] };
    return app.passwordCredentials ?? [];
  }

  async findUser(attribute: MatchingAttribute, value: string, select: string[]): Promise<GraphUser | undefined> {
    // OData string literal: a single quote is written twice.
    const filter = `${attribute} eq '${value.replaceAll("'", "''")}'`;
    const page = (await this.call('find-user', 'read', 'GET', '/users', '$select=x&$top=2', () => this.graph.api('/users').filter(filter).select(select.join(',')).top(2).get())) as { value: GraphUser[] };
    if (page.value.length > 1) {
      throw new AppError('conflict', 'ambiguous-match', `More than one Microsoft 365 user has ${attribute} = ${value}; resolve the duplicate or match on another attribute`);
    }
    return page.value[0];
  }

  async getUser(id: string, select: string[]): Promise<GraphUser | undefined> {
    try {
      return (await this.call('get-user', 'read', 'GET', '/users/id', '$select=x', () => this.graph.api(`/users/${encodeURIComponent(id)}`).select(select.join(',')).get())) as GraphUser;
    } catch (error) {
      if (error instanceof AppError && error.kind === 'not-found') return undefined;
      throw error;
    }
  }

  async createUser(body: Record<string, unknown>): Promise<GraphUser> {
    if (this.options.dryRun) {
      this.plan('POST', '/users', body);
      const { passwordProfile: _p, ...visible } = body;
      return { ...visible, id: `planned-${crypto.randomUUID()}` } as GraphUser;
    }
    return (await this.call('create-user', 'write', 'POST', '/users', '', () => this.graph.api('/users').post(body))) as GraphUser;
  }

  async updateUser(id: string, patch: Record<string, unknown>): Promise<void> {
    if (this.options.dryRun) return this.plan('PATCH', `/users/${id}`, patch);
    await this.call('update-user', 'write', 'PATCH', '/users/id', '', () => this.graph.api(`/users/${encodeURIComponent(id)}`).patch(patch));
  }

  async deleteUser(id: string): Promise<void> {
    if (this.options.dryRun) return this.plan('DELETE', `/users/${id}`);
    await this.call('delete-user', 'write', 'DELETE', '/users/id', '', () => this.graph.api(`/users/${encodeURIComponent(id)}`).delete());
  }

  async assignLicenses(id: string, add: { skuId: string; disabledPlans: string[] }[], remove: string[]): Promise<void> {
    const body = { addLicenses: add, removeLicenses: remove };
    if (this.options.dryRun) return this.plan('POST', `/users/${id}/assignLicense`, body);
    try {
      await this.call('assign-license', 'write', 'POST', '/users/id/assignLicense', '', () => this.graph.api(`/users/${encodeURIComponent(id)}/assignLicense`).post(body));
    } finally {
      // Seat counts just changed (or were wrong): read them again next time.
      this.skuCache.delete(this.connection.id);
    }
  }

  subscribedSkus(fresh = false): Promise<SubscribedSku[]> {
    const cached = this.skuCache.get(this.connection.id);
    if (!fresh && cached && Date.now() - cached.at < SKU_CACHE_MS) return cached.skus;
    const skus = this.call('read-subscribed-skus', 'read', 'GET', '/subscribedSkus', '', () => this.graph.api('/subscribedSkus').get()).then((r) =>
      (r as { value: { skuId: string; skuPartNumber: string; prepaidUnits?: { enabled?: number }; consumedUnits?: number; servicePlans?: SubscribedSku['servicePlans'] }[] }).value.map((x) => ({
        skuId: x.skuId.toLowerCase(),
        skuPartNumber: x.skuPartNumber,
        enabled: x.prepaidUnits?.enabled ?? 0,
        consumed: x.consumedUnits ?? 0,
        servicePlans: x.servicePlans ?? [],
      })),
    );
    this.skuCache.set(this.connection.id, { at: Date.now(), skus });
    skus.catch(() => this.skuCache.delete(this.connection.id));
    return skus;
  }

  async restoreDeletedUser(id: string, select: string[]): Promise<GraphUser | undefined> {
    if (this.options.dryRun) {
      this.plan('POST', `/directory/deletedItems/${id}/restore`);
      return undefined;
    }
    let restored: GraphUser;
    try {
      restored = (await this.call('restore-user', 'write', 'POST', '/directory/deletedItems/id/restore', '', () =>
        this.graph.api(`/directory/deletedItems/${encodeURIComponent(id)}/restore`).post({}),
      )) as GraphUser;
    } catch (error) {
      if (error instanceof AppError && error.kind === 'not-found') return undefined;
      throw error;
    }
    // Read it back with the properties the caller compares; right after the restore a read may still miss it
    // (eventual consistency), and the restore's own answer then stands in.
    return (await this.getUser(id, select)) ?? restored;
  }

  async usersDeltaPage(select: string[], link?: string): Promise<UserPage> {
    const page = (await this.call('users-delta', 'read', 'GET', '/users/delta', '', async () => {
      const request = link ? this.graph.api(link) : this.graph.api('/users/delta').select(select.join(','));
      try {
        return (await request.header('Prefer', 'odata.maxpagesize=999').get()) as GraphPage;
      } catch (error) {
        // An expired/unknown token (400 syncStateNotFound) or a synchronization reset (410 Gone): full round.
        const failure = classifyGraphError(error, 'users-delta');
        if (failure.details.status === 410 || failure.details.code === 'syncStateNotFound') {
          throw new AppError('invalid', 'delta-token-expired', `The delta token is no longer valid (${failure.message}): a full round is needed`, failure.details);
        }
        throw failure;
      }
    }));
    return pageOf(page);
  }

  async usersPage(select: string[], nextLink?: string): Promise<UserPage> {
    const page = (await this.call('list-users', 'read', 'GET', '/users', '$select=x&$top=999', () =>
      (nextLink ? this.graph.api(nextLink) : this.graph.api('/users').select(select.join(',')).top(999)).get(),
    )) as GraphPage;
    return pageOf(page);
  }

  private plan(method: string, path: string, body?: unknown): void {
    this.recorder.planned.push({ method, url: `${resolveEndpoints(this.connection).graphEndpoint}/v1.0${path}`, ...(body === undefined ? {} : { body: redactPasswords(body) }) });
  }

  /** Every Graph call: paced by the governor first (which may refuse with a delay), then classified. */
  private async call<T>(what: string, kind: RequestKind, method: string, path: string, query: string, request: () => Promise<T>): Promise<T> {
    await this.governor.acquire(kind, resourceUnitCost(method, path, new URLSearchParams(query)));
    try {
      return await currentCall.run({ recorder: this.recorder, governor: this.governor }, request);
    } catch (error) {
      throw classifyGraphError(error, what);
    }
  }
}

type GraphPage = { value: UserPage['users']; '@odata.nextLink'?: string; '@odata.deltaLink'?: string };
const pageOf = (p: GraphPage): UserPage => ({ users: p.value, ...(p['@odata.nextLink'] ? { nextLink: p['@odata.nextLink'] } : {}), ...(p['@odata.deltaLink'] ? { deltaLink: p['@odata.deltaLink'] } : {}) });

export class GraphTenantGatewayFactory implements TenantGatewayFactory {
  private readonly cache = new Map<string, { version: string; credential: TokenCredential; graph: Client }>();
  private readonly skuCache = new Map<string, { at: number; skus: Promise<SubscribedSku[]> }>();

  /** `governors` paces Graph calls per app + tenant; share one registry per process. */
  constructor(private readonly governors: GovernorRegistry = new GovernorRegistry()) {}

  forConnection(connection: Connection, secrets: ConnectionSecrets, onRefreshTokenRotated: (refreshToken: string) => Promise<void>, options: GatewayOptions = {}): TenantGateway {
    let entry = this.cache.get(connection.id);
    if (!entry || entry.version !== connection.credentialVersion) {
      const credential = createCredential(connection, secrets, onRefreshTokenRotated);
      entry = { version: connection.credentialVersion, credential, graph: createGraphClient(credential, connection) };
      this.cache.set(connection.id, entry);
    }
    const governor = this.governors.for(connection.clientId, connection.tenantId);
    return new GraphTenantGateway(connection, entry.credential, entry.graph, this.skuCache, governor, options);
  }
}
