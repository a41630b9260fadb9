// Use cases: create, read, change and delete connections. Secrets are encrypted before they reach a port and
// never leave as anything but "set".
import {
  type Connection,
  type ConnectionCreate,
  type ConnectionUpdate,
  type ConnectionView,
  connectionView,
} from '../domain/connection.js';
import { AppError } from '../domain/errors.js';
import type { Clock, ConnectionRepository, ConnectionSecrets, SecretProtector } from './ports.js';

export interface ConnectionDeps {
  connections: ConnectionRepository;
  secrets: SecretProtector;
  clock: Clock;
}

export const secretAad = (connectionId: string, field: 'clientSecret' | 'refreshToken') =>
  `connection:${connectionId}:${field}`;

export async function createConnection(deps: ConnectionDeps, input: ConnectionCreate): Promise<ConnectionView> {
  const id = crypto.randomUUID();
  const now = deps.clock.now().toISOString();
  const { clientSecret, ...fields } = input;
  const created = await deps.connections.create({
    ...fields,
    id,
    status: 'draft',
    statusReason: 'Not tested yet: run POST /api/connections/{id}/test.',
    clientSecretCipher: deps.secrets.encrypt(clientSecret, secretAad(id, 'clientSecret')),
    clientSecretUpdatedAt: now,
    credentialVersion: crypto.randomUUID(),
    authorization: input.authMode === 'authorization_code' ? { status: 'not-authorized' } : { status: 'not-required' },
    createdAt: now,
    updatedAt: now,
  });
  return connectionView(created);
}

export async function listConnections(deps: Pick<ConnectionDeps, 'connections'>): Promise<ConnectionView[]> {
  const all = await deps.connections.list();
  return all.sort((a, b) => a.createdAt.localeCompare(b.createdAt)).map(connectionView);
}

export async function loadConnection(deps: Pick<ConnectionDeps, 'connections'>, id: string): Promise<Connection> {
  const connection = await deps.connections.get(id);
  if (!connection)
    throw new AppError('not-found', 'connection-not-found', `No connection with id ${id}`, { connectionId: id });
  return connection;
}

export const getConnection = async (deps: Pick<ConnectionDeps, 'connections'>, id: string) =>
  connectionView(await loadConnection(deps, id));

/** Fields whose change makes earlier tests and consents meaningless. */
const CREDENTIAL_FIELDS = [
  'tenantId',
  'clientId',
  'clientSecret',
  'authMode',
  'cloud',
  'authorityHost',
  'authorizationEndpoint',
  'tokenEndpoint',
] as const;
const AUTHORIZATION_FIELDS = [
  'tenantId',
  'clientId',
  'authMode',
  'cloud',
  'authorityHost',
  'authorizationEndpoint',
  'tokenEndpoint',
] as const;

export async function updateConnection(
  deps: ConnectionDeps,
  id: string,
  update: ConnectionUpdate,
): Promise<ConnectionView> {
  const current = await loadConnection(deps, id);
  const now = deps.clock.now().toISOString();
  const { clientSecret, ...fields } = update;
  const next: Connection = { ...current, updatedAt: now };
  for (const [key, value] of Object.entries(fields)) {
    // null clears an optional field.
    if (value === null) delete (next as unknown as Record<string, unknown>)[key];
    else (next as unknown as Record<string, unknown>)[key] = value;
  }
  const changed = (key: string) =>
    key === 'clientSecret'
      ? clientSecret !== undefined
      : key in fields &&
        (fields as Record<string, unknown>)[key] !== (current as unknown as Record<string, unknown>)[key];

  if (clientSecret !== undefined) {
    next.clientSecretCipher = deps.secrets.encrypt(clientSecret, secretAad(id, 'clientSecret'));
    next.clientSecretUpdatedAt = now;
  }
  if (CREDENTIAL_FIELDS.some(changed) || changed('domain') || changed('graphEndpoint')) {
    next.credentialVersion = crypto.randomUUID();
    next.status = 'draft';
    next.statusReason = 'Connection settings changed: run POST /api/connections/{id}/test again.';
  }
  if (AUTHORIZATION_FIELDS.some(changed)) {
    delete next.refreshTokenCipher;
    next.authorization =
      next.authMode === 'authorization_code' ? { status: 'not-authorized' } : { status: 'not-required' };
  }
  return connectionView(await deps.connections.replace(next));
}

/** The connection with every secret re-encrypted under the active key (after a key rotation). */
export function rewrapSecrets(deps: Pick<ConnectionDeps, 'secrets'>, c: Connection): Connection {
  const rewrap = (cipher: string, field: 'clientSecret' | 'refreshToken') =>
    deps.secrets.needsRewrap(cipher)
      ? deps.secrets.encrypt(deps.secrets.decrypt(cipher, secretAad(c.id, field)), secretAad(c.id, field))
      : cipher;
  return {
    ...c,
    clientSecretCipher: rewrap(c.clientSecretCipher, 'clientSecret'),
    ...(c.refreshTokenCipher ? { refreshTokenCipher: rewrap(c.refreshTokenCipher, 'refreshToken') } : {}),
  };
}

/** The connection's secrets in clear text, for the adapters that use them. */
export function connectionSecrets(deps: Pick<ConnectionDeps, 'secrets'>, c: Connection): ConnectionSecrets {
  return {
    clientSecret: deps.secrets.decrypt(c.clientSecretCipher, secretAad(c.id, 'clientSecret')),
    ...(c.refreshTokenCipher
      ? { refreshToken: deps.secrets.decrypt(c.refreshTokenCipher, secretAad(c.id, 'refreshToken')) }
      : {}),
  };
}
