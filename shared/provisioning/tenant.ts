// The connection's tenant gateway, with the persistence a rotated refresh token needs.
import type { Connection } from '../domain/connection.js';
import { type ConnectionDeps, connectionSecrets, loadConnection, secretAad } from './connections.js';
import type { GatewayOptions, TenantGateway, TenantGatewayFactory } from './ports.js';

/** The gateway for a connection; a refresh token the identity platform rotates is stored encrypted. */
export function tenantGateway(
  deps: ConnectionDeps & { tenants: TenantGatewayFactory },
  connection: Connection,
  options?: GatewayOptions,
): TenantGateway {
  return deps.tenants.forConnection(
    connection,
    connectionSecrets(deps, connection),
    async (refreshToken) => {
      const latest = await loadConnection(deps, connection.id);
      await deps.connections.replace({
        ...latest,
        refreshTokenCipher: deps.secrets.encrypt(refreshToken, secretAad(connection.id, 'refreshToken')),
      });
    },
    options,
  );
}
