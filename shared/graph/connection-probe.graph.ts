// What Test connection asks of a tenant: a token and its permissions, the verified domains (and whether the
// connection's domain is federated), one user read, and the app registration's secrets (for the expiry warning).
// A token that cannot be had is explained: a tenant that does not exist says so (AADSTS90002), not "unreachable".
import type { AccessToken } from '@azure/identity';
import { decodeJwt } from 'jose';
import { graphScope, resolveEndpoints } from '../domain/connection.js';
import { AppError } from '../domain/errors.js';
import type { ApplicationSecret, ConnectionProbe, TokenInfo, VerifiedDomain } from '../provisioning/ports.js';
import type { GraphCall } from './graph-client.js';
import { classifyGraphError, classifyIdentityResponse } from './graph-errors.js';

export class GraphConnectionProbe implements ConnectionProbe {
  constructor(private readonly core: GraphCall) {}

  async acquireToken(): Promise<TokenInfo> {
    let token: AccessToken | null;
    try {
      token = await this.core.credential.getToken(graphScope(this.core.connection));
    } catch (error) {
      let failure = classifyGraphError(error, 'acquire-token');
      // MSAL reports a failed OpenID discovery only as endpoints_resolution_error, whatever the reason: ask the
      // identity platform ourselves, so a tenant that does not exist is named (AADSTS90002), not "unreachable".
      if (failure.details.code === 'endpoints_resolution_error') failure = (await this.discoveryRefusal()) ?? failure;
      if (failure.kind !== 'transient' && failure.code !== 'tenant-not-found') throw failure;
      // Say where we tried: a wrong tenant, cloud or authority override is the usual cause.
      throw new AppError(
        failure.kind,
        failure.code,
        `${failure.message} (authority ${resolveEndpoints(this.core.connection).authority})`,
        failure.details,
      );
    }
    if (!token) throw new AppError('unauthorized', 'no-token', 'The identity platform returned no access token');
    const claims = decodeJwt(token.token) as { roles?: unknown; scp?: unknown };
    const delegated = typeof claims.scp === 'string';
    return {
      kind: delegated ? 'delegated' : 'app-only',
      permissions: delegated
        ? String(claims.scp).split(' ').filter(Boolean)
        : Array.isArray(claims.roles)
          ? claims.roles.map(String)
          : [],
      expiresOn: new Date(token.expiresOnTimestamp),
    };
  }

  /**
   * What the authority's OpenID configuration answers, when it refuses (a 4xx with an identity platform error):
   * undefined when it answers, cannot be reached, or says something else.
   */
  private async discoveryRefusal(): Promise<AppError | undefined> {
    const url = `${resolveEndpoints(this.core.connection).authority}/v2.0/.well-known/openid-configuration`;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      if (res.status < 400 || res.status >= 500) return undefined;
      return classifyIdentityResponse(res.status, await res.json(), 'acquire-token');
    } catch {
      return undefined;
    }
  }

  async verifiedDomains(): Promise<VerifiedDomain[]> {
    const org = (await this.core.send('read-organization', 'read', 'GET', '/organization', '$select=x', () =>
      this.core.graph.api('/organization').select('verifiedDomains').get(),
    )) as {
      value: { verifiedDomains?: { name: string; type?: string | null }[] }[];
    };
    return org.value
      .flatMap((o) => o.verifiedDomains ?? [])
      .map((d) => ({ name: d.name.toLowerCase(), ...(d.type ? { type: d.type } : {}) }));
  }

  async domainAuthenticationType(domain: string): Promise<string | undefined> {
    const path = `/domains/${encodeURIComponent(domain)}`;
    const found = (await this.core.send('read-domain', 'read', 'GET', '/domains', '$select=x', () =>
      this.core.graph.api(path).select('authenticationType').get(),
    )) as { authenticationType?: string | null };
    return found.authenticationType ?? undefined;
  }

  async readOneUser(): Promise<void> {
    await this.core.send('read-users', 'read', 'GET', '/users', '$select=id&$top=1', () =>
      this.core.graph.api('/users').select('id').top(1).get(),
    );
  }

  async applicationSecrets(appId: string): Promise<ApplicationSecret[]> {
    const app = (await this.core.send('read-application', 'read', 'GET', '/applications', '$select=x', () =>
      this.core.graph
        .api(`/applications(appId='${encodeURIComponent(appId)}')`)
        .select('passwordCredentials')
        .get(),
    )) as { passwordCredentials?: ApplicationSecret[] };
    return app.passwordCredentials ?? [];
  }
}
