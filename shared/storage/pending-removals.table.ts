// The users a connection being deleted still has to remove (deprovisionOnRuleDeletion), in the users table beside
// the connection's user rows: partition `<connection>~removing`, one row per user (row key = escaped externalId).
// Each applied removal deletes its row, so "is anything left" is a read of one row, whatever the directory's size.
import type { TableClient } from '@azure/data-tables';
import type { PendingRemovals } from '../provisioning/ports.js';
import { decodeKey, encodeKey, odataString } from './table-keys.js';
import { classifyStorageError, ensureTable, statusOf } from './table-support.js';

const partition = (connectionId: string) => `${encodeKey(connectionId)}~removing`;
/** Entity group transactions: up to 100 operations on one partition per request. */
const BATCH = 100;

export class TablePendingRemovals implements PendingRemovals {
  constructor(private readonly table: TableClient) {}

  async add(connectionId: string, externalIds: string[]): Promise<void> {
    await ensureTable(this.table);
    const partitionKey = partition(connectionId);
    try {
      for (let i = 0; i < externalIds.length; i += BATCH)
        await this.table.submitTransaction(
          externalIds
            .slice(i, i + BATCH)
            .map((id) => ['upsert', { partitionKey, rowKey: encodeKey(id) }, 'Replace'] as const),
        );
    } catch (error) {
      throw classifyStorageError(error, 'record pending removals');
    }
  }

  async remove(connectionId: string, externalId: string): Promise<void> {
    await ensureTable(this.table);
    try {
      await this.table.deleteEntity(partition(connectionId), encodeKey(externalId));
    } catch (error) {
      if (statusOf(error) === 404) return;
      throw classifyStorageError(error, 'drop a pending removal');
    }
  }

  async list(connectionId: string, limit?: number): Promise<string[]> {
    await ensureTable(this.table);
    const out: string[] = [];
    try {
      const pages = this.table
        .listEntities({
          queryOptions: { filter: `PartitionKey eq ${odataString(partition(connectionId))}`, select: ['RowKey'] },
        })
        .byPage({ maxPageSize: Math.min(limit ?? 1000, 1000) });
      for await (const page of pages) {
        for (const e of page) {
          out.push(decodeKey(e.rowKey!));
          if (limit !== undefined && out.length >= limit) return out;
        }
      }
    } catch (error) {
      throw classifyStorageError(error, 'list pending removals');
    }
    return out;
  }

  async clear(connectionId: string): Promise<void> {
    const ids = await this.list(connectionId);
    const partitionKey = partition(connectionId);
    try {
      for (let i = 0; i < ids.length; i += BATCH)
        await this.table.submitTransaction(
          ids.slice(i, i + BATCH).map((id) => ['delete', { partitionKey, rowKey: encodeKey(id) }] as const),
        );
    } catch (error) {
      throw classifyStorageError(error, 'clear pending removals');
    }
  }
}
