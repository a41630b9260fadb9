// A connection's tenant through Microsoft Graph: the client core (graph-client.ts) and one client per resource.
// Credentials and Graph clients are cached per connection and rebuilt when its credentialVersion changes (new
// secret, tenant, client or endpoints); every operation gets its own call context (recorder, dry run).
import type { TokenCredential } from '@azure/identity';
import type { Client } from '@microsoft/microsoft-graph-client';
import type { Connection } from '../domain/connection.js';
import type { ConnectionSecrets, GatewayOptions, TenantGateway, TenantGatewayFactory } from '../provisioning/ports.js';
import { GraphConnectionProbe } from './connection-probe.graph.js';
import { createCredential, createGraphClient, GraphCall } from './graph-client.js';
import { GraphGroupsClient } from './groups.graph.js';
import { GraphLicensesClient, type SkuCache } from './licenses.graph.js';
import { GovernorRegistry } from './throttle-governor.js';
import { GraphUsersClient } from './users.graph.js';

export class GraphTenantGatewayFactory implements TenantGatewayFactory {
  private readonly cache = new Map<string, { version: string; credential: TokenCredential; graph: Client }>();
  private readonly skuCache: SkuCache = new Map();

  /** `governors` paces Graph calls per app + tenant; share one registry per process. */
  constructor(private readonly governors: GovernorRegistry = new GovernorRegistry()) {}

  writesPerSecond(connection: Pick<Connection, 'clientId' | 'tenantId'>): number {
    return this.governors.for(connection.clientId, connection.tenantId).writesPerSecondNow();
  }

  forConnection(
    connection: Connection,
    secrets: ConnectionSecrets,
    onRefreshTokenRotated: (refreshToken: string) => Promise<void>,
    options: GatewayOptions = {},
  ): TenantGateway {
    let entry = this.cache.get(connection.id);
    if (!entry || entry.version !== connection.credentialVersion) {
      const credential = createCredential(connection, secrets, onRefreshTokenRotated);
      entry = { version: connection.credentialVersion, credential, graph: createGraphClient(credential, connection) };
      this.cache.set(connection.id, entry);
    }
    const core = new GraphCall(
      connection,
      entry.credential,
      entry.graph,
      this.governors.for(connection.clientId, connection.tenantId),
      options,
    );
    return {
      probe: new GraphConnectionProbe(core),
      users: new GraphUsersClient(core),
      licenses: new GraphLicensesClient(core, this.skuCache),
      groups: new GraphGroupsClient(core),
    };
  }
}
