// Per-user state in Table Storage: partition = connection, row = escaped externalId; ETag-guarded saves.
import type { TableClient, TableEntityResult } from '@azure/data-tables';
import { AppError } from '../domain/errors.js';
import { reconciledAllChanges, type UserState, type UserStatus } from '../domain/user-state.js';
import type { UserStateRepository } from '../provisioning/ports.js';
import { encodeKey, isJsonColumnPart, odataString, readJsonColumn, writeJsonColumn } from './table-keys.js';
import { classifyStorageError, ensureTable, statusOf } from './table-support.js';

const JSON_FIELDS = [
  'desired',
  'appliedDesired',
  'lastChange',
  'lastError',
  'ownedLicenses',
  'lastApplied',
  'lease',
  'blockedBy',
] as const;

/** Columns only this adapter reads: the object id the link index holds for the row, and the attention flag. */
type StoredUser = UserState & { indexedObjectId?: string; attention?: boolean };

/** The link index (Graph object id → externalId) of a connection lives in its own partition of the same table. */
const linkPartition = (connectionId: string) => `${encodeKey(connectionId)}~links`;

/**
 * Needs reconciliation's attention without a look at Microsoft 365: wanted but never linked, or its latest
 * change not (yet) reconciled. Stored as a column so an incremental run finds these rows with one query.
 */
function needsAttention(state: UserState): boolean {
  const d = state.desired;
  if (!d) return false;
  return !reconciledAllChanges(state) || (!state.objectId && d.lifecycle?.state !== 'removed');
}

function toEntity(state: StoredUser): Record<string, unknown> & { partitionKey: string; rowKey: string } {
  const { etag: _etag, ...fields } = state;
  const entity: Record<string, unknown> & { partitionKey: string; rowKey: string } = {
    partitionKey: encodeKey(state.connectionId),
    rowKey: encodeKey(state.externalId),
  };
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if ((JSON_FIELDS as readonly string[]).includes(key)) writeJsonColumn(entity, key, value);
    else entity[key] = value;
  }
  entity.attention = needsAttention(state);
  return entity;
}

/**
 * A user row exactly as save() writes it, for bulk loads that write rows in entity-group transactions (one
 * partition, up to 100 per request). `linkIndexed`: the caller also writes linkEntity() for the row's objectId.
 */
export function userEntity(
  state: UserState,
  linkIndexed = true,
): Record<string, unknown> & { partitionKey: string; rowKey: string } {
  return toEntity(linkIndexed && state.objectId ? { ...state, indexedObjectId: state.objectId } : state);
}

/** The link-index row: Microsoft 365 account `objectId` is linked to directory user `externalId`. */
export function linkEntity(
  connectionId: string,
  objectId: string,
  externalId: string,
): { partitionKey: string; rowKey: string; externalId: string } {
  return { partitionKey: linkPartition(connectionId), rowKey: encodeKey(objectId), externalId };
}

function fromEntity(e: TableEntityResult<Record<string, unknown>>): UserState {
  const state: Record<string, unknown> = { etag: e.etag };
  for (const [key, value] of Object.entries(e)) {
    if (
      ['partitionKey', 'rowKey', 'etag', 'timestamp', 'attention'].includes(key) ||
      key.startsWith('odata.') ||
      isJsonColumnPart(key)
    )
      continue;
    state[key] = (JSON_FIELDS as readonly string[]).includes(key) ? readJsonColumn(e, key) : value;
  }
  state.ownedLicenses ??= [];
  return state as unknown as UserState;
}

export class TableUserStateRepository implements UserStateRepository {
  constructor(private readonly table: TableClient) {}

  async get(connectionId: string, externalId: string): Promise<UserState | undefined> {
    await ensureTable(this.table);
    try {
      return fromEntity(await this.table.getEntity(encodeKey(connectionId), encodeKey(externalId)));
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw classifyStorageError(error, 'read user state');
    }
  }

  async save(state: UserState): Promise<UserState> {
    await ensureTable(this.table);
    const stored = state as StoredUser;
    if (state.objectId && stored.indexedObjectId !== state.objectId) {
      // Index the link before the row names it: the index may point at a row that does not (yet) link back, which
      // readers check, but a linked row is never missing from it.
      await this.table
        .upsertEntity(linkEntity(state.connectionId, state.objectId, state.externalId), 'Replace')
        .catch((error: unknown) => {
          throw classifyStorageError(error, 'index user link');
        });
      state = { ...state, indexedObjectId: state.objectId } as StoredUser;
    }
    try {
      const { etag } = state.etag
        ? await this.table.updateEntity(toEntity(state), 'Replace', { etag: state.etag })
        : await this.table.createEntity(toEntity(state));
      return { ...state, etag };
    } catch (error) {
      // Someone else wrote this user since we read it (412), or created it meanwhile (409): redo.
      if (statusOf(error) === 412 || statusOf(error) === 409) {
        throw new AppError('conflict', 'concurrent-update', `User ${state.externalId} was changed concurrently`, {
          externalId: state.externalId,
        });
      }
      throw classifyStorageError(error, 'save user state');
    }
  }

  listByStatus(connectionId: string, status: UserStatus): Promise<UserState[]> {
    return this.list(`PartitionKey eq ${odataString(encodeKey(connectionId))} and status eq ${odataString(status)}`);
  }

  listAll(connectionId: string): Promise<UserState[]> {
    return this.list(`PartitionKey eq ${odataString(encodeKey(connectionId))}`);
  }

  /** The user linked to Microsoft 365 account `objectId`, through the link index (two point reads). */
  async findByObjectId(connectionId: string, objectId: string): Promise<UserState | undefined> {
    await ensureTable(this.table);
    let externalId: string;
    try {
      externalId = String(
        (await this.table.getEntity<{ externalId: string }>(linkPartition(connectionId), encodeKey(objectId)))
          .externalId,
      );
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw classifyStorageError(error, 'read user link');
    }
    const user = await this.get(connectionId, externalId);
    return user?.objectId === objectId ? user : undefined;
  }

  /** Every user of the connection, a page at a time (bounded memory for large directories). */
  async *scan(connectionId: string, options: { status?: UserStatus; after?: string } = {}): AsyncIterable<UserState[]> {
    await ensureTable(this.table);
    const clauses = [`PartitionKey eq ${odataString(encodeKey(connectionId))}`];
    if (options.after !== undefined) clauses.push(`RowKey gt ${odataString(encodeKey(options.after))}`);
    if (options.status) clauses.push(`status eq ${odataString(options.status)}`);
    try {
      const pages = this.table
        .listEntities({ queryOptions: { filter: clauses.join(' and ') } })
        .byPage({ maxPageSize: 1000 });
      for await (const page of pages) yield page.map(fromEntity);
    } catch (error) {
      throw classifyStorageError(error, 'list users');
    }
  }

  listNeedingAttention(connectionId: string): Promise<UserState[]> {
    return this.list(`PartitionKey eq ${odataString(encodeKey(connectionId))} and attention eq true`);
  }

  async deleteAll(connectionId: string): Promise<number> {
    const rows = await this.listAll(connectionId);
    await ensureTable(this.table);
    const links: { rowKey: string }[] = [];
    try {
      for await (const e of this.table.listEntities({
        queryOptions: { filter: `PartitionKey eq ${odataString(linkPartition(connectionId))}`, select: ['RowKey'] },
      }))
        links.push({ rowKey: e.rowKey! });
      // Entity group transactions: up to 100 deletes of one partition per request.
      for (const [partitionKey, keys] of [
        [encodeKey(connectionId), rows.map((u) => encodeKey(u.externalId))],
        [linkPartition(connectionId), links.map((l) => l.rowKey)],
      ] as const) {
        for (let i = 0; i < keys.length; i += 100) {
          await this.table.submitTransaction(
            keys.slice(i, i + 100).map((rowKey) => ['delete', { partitionKey, rowKey }] as const),
          );
        }
      }
    } catch (error) {
      throw classifyStorageError(error, 'delete users');
    }
    return rows.length;
  }

  private async list(filter: string): Promise<UserState[]> {
    await ensureTable(this.table);
    const out: UserState[] = [];
    try {
      for await (const e of this.table.listEntities({ queryOptions: { filter } })) out.push(fromEntity(e));
    } catch (error) {
      throw classifyStorageError(error, 'list users');
    }
    return out;
  }

  /** How many users have each status: reads only the status column of the connection's rows. */
  async countByStatus(connectionId: string): Promise<Partial<Record<UserStatus, number>>> {
    await ensureTable(this.table);
    const counts: Partial<Record<UserStatus, number>> = {};
    try {
      for await (const e of this.table.listEntities<{ status?: UserStatus }>({
        queryOptions: { filter: `PartitionKey eq ${odataString(encodeKey(connectionId))}`, select: ['status'] },
      }))
        if (e.status) counts[e.status] = (counts[e.status] ?? 0) + 1;
    } catch (error) {
      throw classifyStorageError(error, 'count users');
    }
    return counts;
  }
}
