// Use cases: create, read, change and delete connections. Secrets are encrypted before they reach a port and
// never leave as anything but "set". Every configuration write goes through `changeConnection`: conditional on
// the ETag it read (If-Match when the caller sent one), recorded in the audit log.
import { type Actor, type AuditAction, type AuditChange, auditChanges } from '../domain/config-audit.js';
import {
  type Connection,
  type ConnectionCreate,
  type ConnectionUpdate,
  type ConnectionView,
  connectionView,
} from '../domain/connection.js';
import { AppError, isAppError } from '../domain/errors.js';
import { type AuditDeps, recordChange } from './audit.js';
import type { Clock, ConnectionRepository, ConnectionSecrets, SecretProtector } from './ports.js';

export interface ConnectionDeps {
  connections: ConnectionRepository;
  secrets: SecretProtector;
  clock: Clock;
}

/** Who writes, and the caller's precondition. */
export interface ConfigWrite {
  actor: Actor;
  /** If-Match: the connection ETags (as stored) the caller accepts; absent: no precondition. */
  ifMatch?: readonly string[] | undefined;
}

/** A connection as the API shows it, with the ETag of the row it was read from or written to. */
export type Versioned<T> = { value: T; etag: string | undefined };

export const secretAad = (connectionId: string, field: 'clientSecret' | 'refreshToken') =>
  `connection:${connectionId}:${field}`;

/** What the audit log compares of a connection itself (settings and mapping are audited on their own). */
const auditedFields = (c: Connection) => ({
  name: c.name,
  description: c.description,
  tenantId: c.tenantId,
  domain: c.domain,
  clientId: c.clientId,
  authMode: c.authMode,
  cloud: c.cloud,
  authorityHost: c.authorityHost,
  graphEndpoint: c.graphEndpoint,
  authorizationEndpoint: c.authorizationEndpoint,
  tokenEndpoint: c.tokenEndpoint,
  // Ciphertexts: compared only to say set / changed / removed, never recorded.
  clientSecret: c.clientSecretCipher,
  refreshToken: c.refreshTokenCipher,
});
const SECRET_FIELDS = ['clientSecret', 'refreshToken'];
const withoutUndefined = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** The audit changes of a connection's own fields between two versions (either may be absent). */
export const connectionChanges = (before: Connection | undefined, after: Connection | undefined): AuditChange[] =>
  auditChanges(
    before ? withoutUndefined(auditedFields(before)) : {},
    after ? withoutUndefined(auditedFields(after)) : {},
    SECRET_FIELDS,
  );

export const preconditionFailed = (connectionId: string) =>
  new AppError(
    'conflict',
    'precondition-failed',
    'The connection changed since the ETag in If-Match was read: GET it again (its settings or mapping) and retry with the new ETag',
    { connectionId },
  );

/** Refuses when the caller's If-Match names none of the connection's current ETag (RFC 9110 §13.1.1). */
export function requireMatch(connection: Connection, ifMatch: readonly string[] | undefined): void {
  if (ifMatch && !(connection.etag !== undefined && ifMatch.includes(connection.etag)))
    throw preconditionFailed(connection.id);
}

/** A change to a connection: the next version, what the audit log calls it, and what changed (empty: nothing). */
export interface ConnectionChange {
  next: Connection;
  action: AuditAction;
  changes: AuditChange[];
}

/**
 * Read-modify-write of one connection. The write is conditional on the ETag read (Table Storage If-Match), which
 * equals one of the caller's If-Match tags when it sent any: a stale tag, or a write by someone else in between,
 * answers `precondition-failed`. Without If-Match a write that lost such a race is computed again from the newer
 * version (a merge patch applies to what is stored then, so nothing is lost). `change` throws to refuse (nothing
 * is written); a change that changes nothing writes nothing and records nothing. Recorded in the audit log.
 */
export async function changeConnection(
  deps: Pick<ConnectionDeps, 'connections' | 'clock'> & AuditDeps,
  id: string,
  write: ConfigWrite,
  change: (current: Connection) => ConnectionChange,
): Promise<Connection> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await loadConnection(deps, id);
    requireMatch(current, write.ifMatch);
    const { next, action, changes } = change(current);
    if (changes.length === 0) return current;
    let saved: Connection;
    try {
      saved = await deps.connections.replace({
        ...next,
        etag: current.etag,
        updatedAt: deps.clock.now().toISOString(),
      });
    } catch (error) {
      if (!(isAppError(error) && error.code === 'concurrent-update')) throw error;
      if (write.ifMatch) throw preconditionFailed(id);
      continue;
    }
    await recordChange(deps, { connectionId: id, actor: write.actor, action, changes, etag: saved.etag });
    return saved;
  }
  throw new AppError('conflict', 'concurrent-update', `Connection ${id} kept changing meanwhile; try again`, {
    connectionId: id,
  });
}

export async function createConnection(
  deps: ConnectionDeps & AuditDeps,
  input: ConnectionCreate,
  actor: Actor,
): Promise<Versioned<ConnectionView>> {
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
  await recordChange(deps, {
    connectionId: id,
    actor,
    action: 'connection.created',
    changes: connectionChanges(undefined, created),
    etag: created.etag,
  });
  return { value: connectionView(created), etag: created.etag };
}

export async function listConnections(deps: Pick<ConnectionDeps, 'connections'>): Promise<ConnectionView[]> {
  const all = await deps.connections.list();
  return all.sort((a, b) => a.createdAt.localeCompare(b.createdAt)).map((c) => connectionView(c));
}

export async function loadConnection(deps: Pick<ConnectionDeps, 'connections'>, id: string): Promise<Connection> {
  const connection = await deps.connections.get(id);
  if (!connection)
    throw new AppError('not-found', 'connection-not-found', `No connection with id ${id}`, { connectionId: id });
  return connection;
}

export async function getConnection(
  deps: Pick<ConnectionDeps, 'connections'>,
  id: string,
): Promise<Versioned<ConnectionView>> {
  const c = await loadConnection(deps, id);
  return { value: connectionView(c), etag: c.etag };
}

/**
 * Deletes the connection row: conditional on the ETag it was read with when the caller sent If-Match (a write in
 * between answers `precondition-failed`), recorded in the audit log when `write` says who. Its audit log stays.
 */
export async function removeConnection(
  deps: Pick<ConnectionDeps, 'connections'> & AuditDeps,
  connection: Connection,
  write?: ConfigWrite,
): Promise<void> {
  try {
    await deps.connections.delete(connection.id, write?.ifMatch ? connection.etag : undefined);
  } catch (error) {
    if (isAppError(error) && error.code === 'concurrent-update') throw preconditionFailed(connection.id);
    throw error;
  }
  if (write)
    await recordChange(deps, {
      connectionId: connection.id,
      actor: write.actor,
      action: 'connection.deleted',
      changes: connectionChanges(connection, undefined),
    });
}

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
  deps: ConnectionDeps & AuditDeps,
  id: string,
  update: ConnectionUpdate,
  write: ConfigWrite,
): Promise<Versioned<ConnectionView>> {
  const saved = await changeConnection(deps, id, write, (current) => {
    const next = nextConnection(deps, current, update);
    return { next, action: 'connection.updated', changes: connectionChanges(current, next) };
  });
  return { value: connectionView(saved), etag: saved.etag };
}

function nextConnection(deps: ConnectionDeps, current: Connection, update: ConnectionUpdate): Connection {
  const now = deps.clock.now().toISOString();
  const { clientSecret, ...fields } = update;
  const next: Connection = { ...current };
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
    next.clientSecretCipher = deps.secrets.encrypt(clientSecret, secretAad(current.id, 'clientSecret'));
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
  return next;
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
