// Per-user state in Table Storage: partition = connection, row = escaped externalId; ETag-guarded saves.
import type { TableClient, TableEntityResult } from '@azure/data-tables';
import { AppError } from '../domain/errors.js';
import { reconciledAllChanges, type UserState, type UserStatus } from '../domain/user-state.js';
import type { LinkClaim, ObjectRef, UserStateRepository } from '../provisioning/ports.js';
import { encodeKey, isJsonColumnPart, odataString, readJsonColumn, writeJsonColumn } from './table-keys.js';
import { classifyStorageError, deletePartition, ensureTable, readingAhead, statusOf } from './table-support.js';

const JSON_FIELDS = [
  'desired',
  'appliedDesired',
  'lastChange',
  'lastError',
  'ownedLicenses',
  'lastApplied',
  'lease',
  'blockedBy',
  'generated',
  'unlinkedFrom',
  'pending',
  'ownedMembers',
] as const;

/** Columns only this adapter reads: the object id the link index holds for the row, and the attention flag. */
type StoredUser = UserState & { indexedObjectId?: string; attention?: boolean };

/** The link index (Graph object id → externalId) of a connection lives in its own partition of the same table. */
const linkPartition = (connectionId: string) => `${encodeKey(connectionId)}~links`;
/** Who waits for whom to be linked (a group for a member, a user for a manager): `<on>|<waiter>` rows. */
const waitPartition = (connectionId: string) => `${encodeKey(connectionId)}~waits`;
const refKey = (r: ObjectRef) => `${r.objectType}:${encodeKey(r.externalId)}`;
/** Link claims (Graph object id → connection + externalId) of every connection to one tenant: one partition. */
const claimPartition = (tenantId: string) => `${encodeKey(tenantId.toLowerCase())}~claims`;

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
    let unindex: string | undefined;
    if (state.objectId && stored.indexedObjectId !== state.objectId) {
      // Index the link before the row names it: the index may point at a row that does not (yet) link back, which
      // readers check, but a linked row is never missing from it.
      await this.table
        .upsertEntity(linkEntity(state.connectionId, state.objectId, state.externalId), 'Replace')
        .catch((error: unknown) => {
          throw classifyStorageError(error, 'index user link');
        });
      state = { ...state, indexedObjectId: state.objectId } as StoredUser;
    } else if (!state.objectId && stored.indexedObjectId) {
      // Unlinked: the index row goes too (after the row no longer names it, readers already ignore it).
      state = { ...state, indexedObjectId: undefined } as StoredUser;
      unindex = stored.indexedObjectId;
    }
    try {
      const { etag } = state.etag
        ? await this.table.updateEntity(toEntity(state), 'Replace', { etag: state.etag })
        : await this.table.createEntity(toEntity(state));
      if (unindex) {
        await this.table.deleteEntity(linkPartition(state.connectionId), encodeKey(unindex)).catch((e: unknown) => {
          if (statusOf(e) !== 404) throw e;
        });
      }
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
  async *scan(
    connectionId: string,
    options: { status?: UserStatus; after?: string; linkedTo?: ReadonlySet<string> } = {},
  ): AsyncIterable<UserState[]> {
    await ensureTable(this.table);
    const clauses = [`PartitionKey eq ${odataString(encodeKey(connectionId))}`];
    if (options.after !== undefined) clauses.push(`RowKey gt ${odataString(encodeKey(options.after))}`);
    if (options.status) clauses.push(`status eq ${odataString(options.status)}`);
    try {
      const pages = readingAhead(
        this.table.listEntities({ queryOptions: { filter: clauses.join(' and ') } }).byPage({ maxPageSize: 1000 }),
      );
      const { linkedTo } = options;
      for await (const page of pages)
        yield (linkedTo ? page.filter((e) => typeof e.objectId === 'string' && linkedTo.has(e.objectId)) : page).map(
          fromEntity,
        );
    } catch (error) {
      throw classifyStorageError(error, 'list users');
    }
  }

  async linkClaim(tenantId: string, objectId: string): Promise<LinkClaim | undefined> {
    await ensureTable(this.table);
    try {
      const e = await this.table.getEntity<Omit<LinkClaim, 'etag'>>(claimPartition(tenantId), encodeKey(objectId));
      return {
        connectionId: String(e.connectionId),
        externalId: String(e.externalId),
        claimedAt: String(e.claimedAt),
        etag: e.etag,
      };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw classifyStorageError(error, 'read link claim');
    }
  }

  async claimLink(
    tenantId: string,
    objectId: string,
    holder: Omit<LinkClaim, 'etag'>,
    replacing?: string,
  ): Promise<boolean> {
    await ensureTable(this.table);
    const entity = { partitionKey: claimPartition(tenantId), rowKey: encodeKey(objectId), ...holder };
    try {
      // Insert fails (409) when a claim exists; replace fails (412) when it changed since it was read: either way
      // another writer got there first, and only one of two concurrent claims can win.
      if (replacing) await this.table.updateEntity(entity, 'Replace', { etag: replacing });
      else await this.table.createEntity(entity);
      return true;
    } catch (error) {
      if (statusOf(error) === 409 || statusOf(error) === 412) return false;
      throw classifyStorageError(error, 'claim link');
    }
  }

  async addWaits(connectionId: string, waiter: ObjectRef, on: ObjectRef[]): Promise<void> {
    if (on.length === 0) return;
    await ensureTable(this.table);
    const partitionKey = waitPartition(connectionId);
    try {
      for (let i = 0; i < on.length; i += 100) {
        await this.table.submitTransaction(
          on.slice(i, i + 100).map(
            (o) =>
              [
                'upsert',
                {
                  partitionKey,
                  rowKey: `${refKey(o)}|${refKey(waiter)}`,
                  objectType: waiter.objectType,
                  externalId: waiter.externalId,
                },
                'Replace',
              ] as const,
          ),
        );
      }
    } catch (error) {
      throw classifyStorageError(error, 'record waits');
    }
  }

  async takeWaits(connectionId: string, on: ObjectRef): Promise<ObjectRef[]> {
    await ensureTable(this.table);
    const partitionKey = waitPartition(connectionId);
    // `|` is encoded by encodeKey, so `<on>|` … `<on>}` is exactly the rows of `on`.
    const prefix = `${refKey(on)}|`;
    const filter = `PartitionKey eq ${odataString(partitionKey)} and RowKey ge ${odataString(prefix)} and RowKey lt ${odataString(`${refKey(on)}}`)}`;
    const waiters: (ObjectRef & { rowKey: string })[] = [];
    try {
      for await (const e of this.table.listEntities<{ objectType: string; externalId: string }>({
        queryOptions: { filter },
      }))
        waiters.push({
          objectType: e.objectType === 'group' ? 'group' : 'user',
          externalId: String(e.externalId),
          rowKey: e.rowKey!,
        });
      for (let i = 0; i < waiters.length; i += 100) {
        await this.table.submitTransaction(
          waiters.slice(i, i + 100).map((w) => ['delete', { partitionKey, rowKey: w.rowKey }] as const),
        );
      }
    } catch (error) {
      throw classifyStorageError(error, 'take waits');
    }
    return waiters.map(({ objectType, externalId }) => ({ objectType, externalId }));
  }

  async releaseLink(tenantId: string, objectId: string, etag: string): Promise<void> {
    await ensureTable(this.table);
    await this.table.deleteEntity(claimPartition(tenantId), encodeKey(objectId), { etag }).catch((error: unknown) => {
      // Gone already, or claimed anew meanwhile (not ours to delete any more).
      if (statusOf(error) === 404 || statusOf(error) === 412) return;
      throw classifyStorageError(error, 'release link');
    });
  }

  listNeedingAttention(connectionId: string): Promise<UserState[]> {
    return this.list(`PartitionKey eq ${odataString(encodeKey(connectionId))} and attention eq true`);
  }

  async deleteAll(connectionId: string): Promise<number> {
    try {
      for (const partitionKey of [linkPartition(connectionId), waitPartition(connectionId)])
        await deletePartition(this.table, partitionKey);
      return await deletePartition(this.table, encodeKey(connectionId));
    } catch (error) {
      throw classifyStorageError(error, 'delete users');
    }
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
