// The provisioning log in Table Storage: partition = connection; row keys sort newest first (inverted
// milliseconds), so "latest N" and time ranges are key-range reads. Continuation tokens are the SDK's, opaque.
import { randomBytes } from 'node:crypto';
import type { TableClient, TableEntityResult } from '@azure/data-tables';
import type { ProvisioningLogRecord } from '../domain/user-state.js';
import type { LogQuery, ProvisioningLog } from '../provisioning/ports.js';
import { classifyStorageError, ensureTable } from './table-support.js';
import { odataString, parseJsonColumn } from './table-keys.js';

const MAX_MS = 9_999_999_999_999;
const JSON_FIELDS = ['error', 'graphRequestIds', 'changedProperties', 'plan'] as const;
const invertedTime = (iso: string) => String(MAX_MS - Date.parse(iso)).padStart(13, '0');

export class TableProvisioningLog implements ProvisioningLog {
  constructor(private readonly table: TableClient) {}

  async append(record: ProvisioningLogRecord): Promise<void> {
    await ensureTable(this.table);
    const entity: Record<string, unknown> & { partitionKey: string; rowKey: string } = {
      partitionKey: record.connectionId,
      rowKey: `${invertedTime(record.time)}-${randomBytes(6).toString('hex')}`,
    };
    for (const [key, value] of Object.entries(record)) {
      if (value === undefined || key === 'connectionId') continue;
      entity[key] = (JSON_FIELDS as readonly string[]).includes(key) ? JSON.stringify(value) : value;
    }
    try {
      await this.table.createEntity(entity);
    } catch (error) {
      throw classifyStorageError(error, 'append provisioning log');
    }
  }

  async query(connectionId: string, q: LogQuery): Promise<{ records: ProvisioningLogRecord[]; continuation?: string }> {
    await ensureTable(this.table);
    const clauses = [`PartitionKey eq ${odataString(connectionId)}`];
    // Newer than `since` = smaller inverted time; older than `until` = larger.
    if (q.since) clauses.push(`RowKey le ${odataString(`${invertedTime(q.since)}~`)}`);
    if (q.until) clauses.push(`RowKey ge ${odataString(invertedTime(q.until))}`);
    if (q.externalId) clauses.push(`externalId eq ${odataString(q.externalId)}`);
    if (q.result) clauses.push(`result eq ${odataString(q.result)}`);
    if (q.action) clauses.push(`action eq ${odataString(q.action)}`);
    try {
      const page = await this.table
        .listEntities({ queryOptions: { filter: clauses.join(' and ') } })
        .byPage({ maxPageSize: q.limit, ...(q.continuation ? { continuationToken: q.continuation } : {}) })
        .next();
      const entities = (page.value ?? []) as TableEntityResult<Record<string, unknown>>[] & { continuationToken?: string };
      return {
        records: entities.map((e) => fromEntity(connectionId, e)),
        ...(entities.continuationToken ? { continuation: entities.continuationToken } : {}),
      };
    } catch (error) {
      throw classifyStorageError(error, 'query provisioning log');
    }
  }
}

function fromEntity(connectionId: string, e: TableEntityResult<Record<string, unknown>>): ProvisioningLogRecord {
  const record: Record<string, unknown> = { connectionId };
  for (const [key, value] of Object.entries(e)) {
    if (['partitionKey', 'rowKey', 'etag', 'timestamp'].includes(key) || key.startsWith('odata.')) continue;
    record[key] = (JSON_FIELDS as readonly string[]).includes(key) ? parseJsonColumn(value) : value;
  }
  return record as unknown as ProvisioningLogRecord;
}
