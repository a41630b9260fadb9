// Per-user state in Table Storage: partition = connection, row = escaped externalId; ETag-guarded saves.
import type { TableClient, TableEntityResult } from '@azure/data-tables';
import { AppError } from '../domain/errors.js';
import type { UserState, UserStatus } from '../domain/user-state.js';
import type { UserStateRepository } from '../provisioning/ports.js';
import { classifyStorageError, ensureTable, statusOf } from './table-support.js';
import { encodeKey, odataString, parseJsonColumn } from './table-keys.js';

const JSON_FIELDS = ['desired', 'appliedDesired', 'lastChange', 'lastError', 'ownedLicenses', 'lastApplied', 'lease'] as const;

function toEntity(state: UserState): Record<string, unknown> & { partitionKey: string; rowKey: string } {
  const { etag: _etag, ...fields } = state;
  const entity: Record<string, unknown> & { partitionKey: string; rowKey: string } = { partitionKey: state.connectionId, rowKey: encodeKey(state.externalId) };
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    entity[key] = (JSON_FIELDS as readonly string[]).includes(key) ? JSON.stringify(value) : value;
  }
  return entity;
}

function fromEntity(e: TableEntityResult<Record<string, unknown>>): UserState {
  const state: Record<string, unknown> = { etag: e.etag };
  for (const [key, value] of Object.entries(e)) {
    if (['partitionKey', 'rowKey', 'etag', 'timestamp'].includes(key) || key.startsWith('odata.')) continue;
    state[key] = (JSON_FIELDS as readonly string[]).includes(key) ? parseJsonColumn(value) : value;
  }
  state.ownedLicenses ??= [];
  return state as unknown as UserState;
}

export class TableUserStateRepository implements UserStateRepository {
  constructor(private readonly table: TableClient) {}

  async get(connectionId: string, externalId: string): Promise<UserState | undefined> {
    await ensureTable(this.table);
    try {
      return fromEntity(await this.table.getEntity(connectionId, encodeKey(externalId)));
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw classifyStorageError(error, 'read user state');
    }
  }

  async save(state: UserState): Promise<UserState> {
    await ensureTable(this.table);
    try {
      const { etag } = state.etag
        ? await this.table.updateEntity(toEntity(state), 'Replace', { etag: state.etag })
        : await this.table.createEntity(toEntity(state));
      return { ...state, etag };
    } catch (error) {
      // Someone else wrote this user since we read it (412), or created it meanwhile (409): redo.
      if (statusOf(error) === 412 || statusOf(error) === 409) {
        throw new AppError('conflict', 'concurrent-update', `User ${state.externalId} was changed concurrently`, { externalId: state.externalId });
      }
      throw classifyStorageError(error, 'save user state');
    }
  }

  listByStatus(connectionId: string, status: UserStatus): Promise<UserState[]> {
    return this.list(`PartitionKey eq ${odataString(connectionId)} and status eq ${odataString(status)}`);
  }

  listAll(connectionId: string): Promise<UserState[]> {
    return this.list(`PartitionKey eq ${odataString(connectionId)}`);
  }

  async deleteAll(connectionId: string): Promise<number> {
    const rows = await this.listAll(connectionId);
    try {
      // Entity group transactions: up to 100 deletes of one partition per request.
      for (let i = 0; i < rows.length; i += 100) {
        await this.table.submitTransaction(rows.slice(i, i + 100).map((u) => ['delete', { partitionKey: connectionId, rowKey: encodeKey(u.externalId) }] as const));
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
}
