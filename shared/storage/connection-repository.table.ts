// Connections in Table Storage: one partition ("connections"), one row per connection, ETag-guarded writes.
// Nested values are stored as JSON strings; secrets arrive here already encrypted.
import type { TableClient, TableEntityResult } from '@azure/data-tables';
import type { Connection } from '../domain/connection.js';
import { AppError } from '../domain/errors.js';
import type { ConnectionRepository } from '../provisioning/ports.js';
import { decodeKey, encodeKey } from './table-keys.js';
import { classifyStorageError, ensureTable, statusOf } from './table-support.js';

const PARTITION = 'connections';
const JSON_FIELDS = [
  'authorization',
  'adminConsent',
  'lastTest',
  'lastAuthorizationError',
  'mapping',
  'groupMapping',
  'settings',
  'quarantine',
  'stagedOperations',
  'deletion',
] as const;

type Entity = Record<string, unknown> & { partitionKey: string; rowKey: string };

function toEntity(c: Connection): Entity {
  const { id, etag: _etag, ...rest } = c;
  const entity: Entity = { partitionKey: PARTITION, rowKey: encodeKey(id) };
  for (const [key, value] of Object.entries(rest)) {
    if (value === undefined) continue;
    entity[key] = (JSON_FIELDS as readonly string[]).includes(key) ? JSON.stringify(value) : value;
  }
  return entity;
}

function fromEntity(e: TableEntityResult<Record<string, unknown>>): Connection {
  const { partitionKey: _p, rowKey, etag, timestamp: _t, ...rest } = e;
  const c: Record<string, unknown> = { id: decodeKey(rowKey ?? ''), etag };
  for (const [key, value] of Object.entries(rest)) {
    if (key.startsWith('odata.')) continue;
    c[key] = (JSON_FIELDS as readonly string[]).includes(key) && typeof value === 'string' ? JSON.parse(value) : value;
  }
  return c as unknown as Connection;
}

export class TableConnectionRepository implements ConnectionRepository {
  constructor(private readonly table: TableClient) {}

  async create(connection: Connection): Promise<Connection> {
    await ensureTable(this.table);
    try {
      const { etag } = await this.table.createEntity(toEntity(connection));
      return { ...connection, etag };
    } catch (error) {
      if (statusOf(error) === 409)
        throw new AppError('conflict', 'connection-exists', `A connection with id ${connection.id} already exists`);
      throw classifyStorageError(error, 'create connection');
    }
  }

  async get(id: string): Promise<Connection | undefined> {
    await ensureTable(this.table);
    try {
      return fromEntity(await this.table.getEntity(PARTITION, encodeKey(id)));
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw classifyStorageError(error, 'read connection');
    }
  }

  async list(): Promise<Connection[]> {
    await ensureTable(this.table);
    const out: Connection[] = [];
    try {
      for await (const e of this.table.listEntities({ queryOptions: { filter: `PartitionKey eq '${PARTITION}'` } }))
        out.push(fromEntity(e));
    } catch (error) {
      throw classifyStorageError(error, 'list connections');
    }
    return out;
  }

  /** Replace with If-Match = the connection's ETag: the write only happens if nobody wrote it since it was read. */
  async replace(connection: Connection): Promise<Connection> {
    await ensureTable(this.table);
    try {
      const { etag } = await this.table.updateEntity(toEntity(connection), 'Replace', { etag: connection.etag ?? '*' });
      return { ...connection, etag };
    } catch (error) {
      if (statusOf(error) === 412) throw concurrentUpdate(connection.id);
      if (statusOf(error) === 404)
        throw new AppError('not-found', 'connection-not-found', `No connection with id ${connection.id}`);
      throw classifyStorageError(error, 'update connection');
    }
  }

  async delete(id: string, etag?: string): Promise<boolean> {
    await ensureTable(this.table);
    try {
      await this.table.deleteEntity(PARTITION, encodeKey(id), { etag: etag ?? '*' });
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      if (statusOf(error) === 412) throw concurrentUpdate(id);
      throw classifyStorageError(error, 'delete connection');
    }
  }
}

const concurrentUpdate = (connectionId: string) =>
  new AppError(
    'conflict',
    'concurrent-update',
    'The connection was changed by someone else meanwhile; read it again and retry',
    { connectionId },
  );
