// SCIM state of each connection, table `scim`:
//   `<connection>~tokens`  one row per bearer token (row key: its id): SHA-256, created, last used.
//   `<connection>~users`   `r~<id>`: a User as received (resource JSON, version, created, lastModified, sealed
//                          password); `n~<sha256(lower(userName))>`: the userName index (id), written in the same
//                          entity-group transaction as the user, so a userName is unique per connection.
//   `<connection>~groups`  `r~<id>`: a Group as received.
// A deletion is made conditional (on the ETag the caller read) by rewriting the row before the transaction that
// deletes it and its index row: a transaction cannot carry If-Match on a delete.
import { createHash } from 'node:crypto';
import type { TableClient, TableEntity, TransactionAction } from '@azure/data-tables';
import { AppError } from '../domain/errors.js';
import type { ScimRecord, ScimStore, ScimTokenRecord, ScimTokenStore } from '../provisioning/ports.js';
import { encodeKey, odataString, readJsonColumn, writeJsonColumn } from './table-keys.js';
import { classifyStorageError, deletePartition, ensureTable, statusOf } from './table-support.js';

const partition = (connectionId: string, what: 'tokens' | 'users' | 'groups') => `${encodeKey(connectionId)}~${what}`;
const resourcePartition = (connectionId: string, kind: ScimRecord['kind']) =>
  partition(connectionId, kind === 'user' ? 'users' : 'groups');
const resourceRow = (id: string) => `r~${encodeKey(id)}`;
const nameRow = (userName: string) => `n~${createHash('sha256').update(userName.toLowerCase(), 'utf8').digest('hex')}`;
const userNameOf = (r: ScimRecord) => (r.kind === 'user' ? String(r.resource.userName) : undefined);

const stale = (what: string) =>
  new AppError('conflict', 'concurrent-update', `The SCIM ${what} changed while this request was written`);
const taken = () => new AppError('conflict', 'scim-uniqueness', 'Another user of this connection has that userName');

export class TableScimTokens implements ScimTokenStore {
  constructor(private readonly table: TableClient) {}

  async add(record: ScimTokenRecord): Promise<void> {
    await ensureTable(this.table);
    const { connectionId, id, ...fields } = record;
    try {
      await this.table.createEntity({
        partitionKey: partition(connectionId, 'tokens'),
        rowKey: encodeKey(id),
        ...fields,
      });
    } catch (error) {
      throw classifyStorageError(error, 'store a SCIM token');
    }
  }

  async get(connectionId: string, id: string): Promise<ScimTokenRecord | undefined> {
    await ensureTable(this.table);
    try {
      return tokenOf(connectionId, await this.table.getEntity(partition(connectionId, 'tokens'), encodeKey(id)));
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw classifyStorageError(error, 'read a SCIM token');
    }
  }

  async list(connectionId: string): Promise<ScimTokenRecord[]> {
    const filter = `PartitionKey eq ${odataString(partition(connectionId, 'tokens'))}`;
    return (await listRows(this.table, filter)).map((e) => tokenOf(connectionId, e));
  }

  async delete(connectionId: string, id: string): Promise<boolean> {
    await ensureTable(this.table);
    try {
      await this.table.deleteEntity(partition(connectionId, 'tokens'), encodeKey(id));
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw classifyStorageError(error, 'revoke a SCIM token');
    }
  }

  async touch(connectionId: string, id: string, at: string): Promise<void> {
    await ensureTable(this.table);
    try {
      await this.table.updateEntity(
        { partitionKey: partition(connectionId, 'tokens'), rowKey: encodeKey(id), lastUsedAt: at },
        'Merge',
      );
    } catch (error) {
      // Revoked meanwhile: nothing to record.
      if (statusOf(error) === 404) return;
      throw classifyStorageError(error, 'record a SCIM token use');
    }
  }
}

async function listRows(table: TableClient, filter: string): Promise<Record<string, unknown>[]> {
  await ensureTable(table);
  const out: Record<string, unknown>[] = [];
  try {
    for await (const page of table.listEntities({ queryOptions: { filter } }).byPage({ maxPageSize: 1000 }))
      out.push(...page);
  } catch (error) {
    throw classifyStorageError(error, 'list SCIM state');
  }
  return out;
}

export class TableScimStore implements ScimStore {
  constructor(private readonly table: TableClient) {}

  async clear(connectionId: string): Promise<void> {
    try {
      for (const what of ['tokens', 'users', 'groups'] as const)
        await deletePartition(this.table, partition(connectionId, what));
    } catch (error) {
      throw classifyStorageError(error, 'clear SCIM tokens and resources');
    }
  }

  async get(connectionId: string, kind: ScimRecord['kind'], id: string): Promise<ScimRecord | undefined> {
    await ensureTable(this.table);
    try {
      return recordOf(
        connectionId,
        kind,
        await this.table.getEntity(resourcePartition(connectionId, kind), resourceRow(id)),
      );
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw classifyStorageError(error, `read a SCIM ${kind}`);
    }
  }

  async list(connectionId: string, kind: ScimRecord['kind']): Promise<ScimRecord[]> {
    const filter = `PartitionKey eq ${odataString(resourcePartition(connectionId, kind))} and RowKey ge 'r~' and RowKey lt 'r~~'`;
    return (await listRows(this.table, filter)).map((e) => recordOf(connectionId, kind, e));
  }

  async delete(current: ScimRecord): Promise<void> {
    await ensureTable(this.table);
    const pk = resourcePartition(current.connectionId, current.kind);
    const userName = userNameOf(current);
    // A transaction cannot make a delete conditional: the ETag is checked by rewriting the row first.
    const checked = await this.replace(current, current);
    await this.transact(
      [
        ['delete', { partitionKey: pk, rowKey: resourceRow(checked.id) }],
        ...(userName ? [['delete', { partitionKey: pk, rowKey: nameRow(userName) }] as TransactionAction] : []),
      ],
      current.kind,
    );
  }

  async idByUserName(connectionId: string, userName: string): Promise<string | undefined> {
    await ensureTable(this.table);
    try {
      const e = await this.table.getEntity<{ id: string }>(partition(connectionId, 'users'), nameRow(userName));
      return e.id;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw classifyStorageError(error, 'look up a SCIM userName');
    }
  }

  async create(record: ScimRecord): Promise<ScimRecord> {
    await ensureTable(this.table);
    const pk = resourcePartition(record.connectionId, record.kind);
    const userName = userNameOf(record);
    const etag = await this.transact(
      [
        ['create', entityOf(record)],
        ...(userName
          ? [['create', { partitionKey: pk, rowKey: nameRow(userName), id: record.id }] as TransactionAction]
          : []),
      ],
      record.kind,
    );
    return { ...record, etag };
  }

  async replace(current: ScimRecord, next: ScimRecord): Promise<ScimRecord> {
    await ensureTable(this.table);
    const pk = resourcePartition(current.connectionId, current.kind);
    const before = userNameOf(current);
    const after = userNameOf(next);
    const renamed = before !== undefined && after !== undefined && before.toLowerCase() !== after.toLowerCase();
    const etag = await this.transact(
      [
        ['update', entityOf(next), 'Replace', { etag: current.etag ?? '*' }],
        ...(renamed
          ? ([
              ['create', { partitionKey: pk, rowKey: nameRow(after), id: next.id }],
              ['delete', { partitionKey: pk, rowKey: nameRow(before) }],
            ] as TransactionAction[])
          : []),
      ],
      current.kind,
    );
    return { ...next, etag };
  }

  /** One entity-group transaction; answers the first entity's new ETag. */
  private async transact(actions: TransactionAction[], kind: ScimRecord['kind']): Promise<string | undefined> {
    try {
      const result = await this.table.submitTransaction(actions);
      return result.subResponses[0]?.etag;
    } catch (error) {
      const status = statusOf(error);
      if (status === 412 || (status === 404 && actions[0]![0] !== 'create')) throw stale(kind);
      if (status === 409) throw taken();
      throw classifyStorageError(error, `write a SCIM ${kind}`);
    }
  }
}

function entityOf(r: ScimRecord): TableEntity<Record<string, unknown>> {
  const entity: TableEntity<Record<string, unknown>> = {
    partitionKey: resourcePartition(r.connectionId, r.kind),
    rowKey: resourceRow(r.id),
    id: r.id,
    version: r.version,
    created: r.created,
    lastModified: r.lastModified,
    ...(r.passwordCipher ? { passwordCipher: r.passwordCipher } : {}),
  };
  writeJsonColumn(entity, 'resource', r.resource);
  return entity;
}

function recordOf(connectionId: string, kind: ScimRecord['kind'], e: Record<string, unknown>): ScimRecord {
  return {
    connectionId,
    kind,
    id: String(e.id),
    resource: readJsonColumn<Record<string, unknown>>(e, 'resource') ?? {},
    version: Number(e.version),
    created: String(e.created),
    lastModified: String(e.lastModified),
    ...(typeof e.passwordCipher === 'string' ? { passwordCipher: e.passwordCipher } : {}),
    ...(typeof e.etag === 'string' ? { etag: e.etag } : {}),
  };
}

function tokenOf(connectionId: string, e: Record<string, unknown>): ScimTokenRecord {
  return {
    connectionId,
    id: decodeURIComponent(String(e.rowKey)),
    hash: String(e.hash),
    createdAt: String(e.createdAt),
    ...(typeof e.description === 'string' ? { description: e.description } : {}),
    ...(typeof e.lastUsedAt === 'string' ? { lastUsedAt: e.lastUsedAt } : {}),
  };
}
