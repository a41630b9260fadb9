// SCIM bearer tokens per connection: made on request and shown once, kept only as a SHA-256, several active at
// once (rotation), each revocable, its last use recorded. A token names its connection's token row; it is looked
// up in that connection's partition only, so a token of one connection never opens another.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Actor } from '../../domain/config-audit.js';
import { AppError } from '../../domain/errors.js';
import { ScimError } from '../../domain/scim/scim-error.js';
import { recordChange } from '../audit.js';
import { loadConnection } from '../connections.js';
import type { AuditLog, Clock, ConnectionRepository, ScimTokenRecord, ScimTokenStore } from '../ports.js';

export interface ScimTokenDeps {
  scimTokens: ScimTokenStore;
  connections: ConnectionRepository;
  audit: AuditLog;
  clock: Clock;
}

/** `m365scim.<token id>.<43 characters of base64url: 256 random bits>` */
const TOKEN = /^m365scim\.([0-9a-f-]{36})\.([A-Za-z0-9_-]{43})$/;
/** A token's last use is written at most this often (a write per SCIM request would double the storage cost). */
export const LAST_USED_RESOLUTION_MS = 60_000;
/** Active tokens per connection: enough for rotation, bounded so a leaked function key cannot mint without end. */
export const MAX_TOKENS = 20;

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();

export type ScimTokenView = Omit<ScimTokenRecord, 'connectionId' | 'hash'>;
const viewOf = ({ connectionId: _c, hash: _h, ...view }: ScimTokenRecord): ScimTokenView => view;

export async function createScimToken(
  deps: ScimTokenDeps,
  connectionId: string,
  actor: Actor,
  description?: string,
): Promise<ScimTokenView & { token: string }> {
  await loadConnection(deps, connectionId);
  if ((await deps.scimTokens.list(connectionId)).length >= MAX_TOKENS)
    throw new AppError(
      'conflict',
      'scim-token-limit',
      `This connection already has ${MAX_TOKENS} SCIM tokens: revoke one before making another`,
    );
  const id = crypto.randomUUID();
  const token = `m365scim.${id}.${randomBytes(32).toString('base64url')}`;
  const record: ScimTokenRecord = {
    connectionId,
    id,
    hash: sha256(token).toString('hex'),
    createdAt: deps.clock.now().toISOString(),
    ...(description ? { description } : {}),
  };
  await deps.scimTokens.add(record);
  await recordChange(deps, {
    connectionId,
    actor,
    action: 'scim-token.created',
    changes: [{ path: `scimTokens.${id}`, secret: 'set' }],
  });
  return { ...viewOf(record), token };
}

export async function listScimTokens(
  deps: Pick<ScimTokenDeps, 'scimTokens' | 'connections'>,
  connectionId: string,
): Promise<ScimTokenView[]> {
  await loadConnection(deps, connectionId);
  return (await deps.scimTokens.list(connectionId)).map(viewOf).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

export async function revokeScimToken(
  deps: ScimTokenDeps,
  connectionId: string,
  tokenId: string,
  actor: Actor,
): Promise<void> {
  await loadConnection(deps, connectionId);
  if (!(await deps.scimTokens.delete(connectionId, tokenId)))
    throw new AppError('not-found', 'scim-token-not-found', `This connection has no SCIM token ${tokenId}`);
  await recordChange(deps, {
    connectionId,
    actor,
    action: 'scim-token.revoked',
    changes: [{ path: `scimTokens.${tokenId}`, secret: 'removed' }],
  });
}

const unauthorized = () =>
  new ScimError(401, 'Authorization: Bearer <a SCIM token of this connection> is required, and this one is not valid');
const DUMMY = sha256('no such token');

/**
 * The token in an Authorization header, checked against this connection's tokens: its id, or a 401. The stored
 * hash is compared in constant time (and a token whose row does not exist is compared with a dummy, so both
 * take the same path).
 */
export async function authenticateScim(
  deps: Pick<ScimTokenDeps, 'scimTokens' | 'clock'>,
  connectionId: string,
  authorization: string | null,
): Promise<string> {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
  const parsed = bearer ? TOKEN.exec(bearer) : null;
  if (!bearer || !parsed) throw unauthorized();
  const record = await deps.scimTokens.get(connectionId, parsed[1]!);
  const presented = sha256(bearer);
  const stored = record ? Buffer.from(record.hash, 'hex') : DUMMY;
  const same = stored.length === presented.length && timingSafeEqual(stored, presented);
  if (!record || !same) throw unauthorized();
  const now = deps.clock.now();
  if (!record.lastUsedAt || now.getTime() - Date.parse(record.lastUsedAt) >= LAST_USED_RESOLUTION_MS)
    await deps.scimTokens.touch(connectionId, record.id, now.toISOString());
  return record.id;
}
