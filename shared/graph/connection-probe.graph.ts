// What Test connection asks of a tenant: a token and its permissions, the verified domains, one user read, and the
// app registration's secrets (for the expiry warning).
import type { AccessToken } from '@azure/identity';
import { decodeJwt } from 'jose';
import { graphScope, resolveEndpoints } from '../domain/connection.js';
import { AppError } from '../domain/errors.js';
import type { ApplicationSecret, ConnectionProbe, TokenInfo } from '../provisioning/ports.js';
import type { GraphCall } from './graph-client.js';
import { classifyGraphError } from './graph-errors.js';

export class GraphConnectionProbe implements ConnectionProbe {
  constructor(private readonly core: GraphCall) {}

  async acquireToken(): Promise<TokenInfo> {
    let token: AccessToken | null;
    try {
      token = await this.core.credential.getToken(graphScope(this.core.connection));
    } catch (error) {
      const failure = classifyGraphError(error, 'acquire-token');
      if (failure.kind !== 'transient') throw failure;
      // Say where we tried: a wrong cloud or authority override is the usual cause.
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

  async verifiedDomains(): Promise<string[]> {
    const org = (await this.core.send('read-organization', 'read', 'GET', '/organization', '$select=x', () =>
      this.core.graph.api('/organization').select('verifiedDomains').get(),
    )) as {
      value: { verifiedDomains?: { name: string }[] }[];
    };
    return org.value.flatMap((o) => o.verifiedDomains ?? []).map((d) => d.name.toLowerCase());
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
