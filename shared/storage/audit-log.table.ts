// The configuration audit log in Table Storage: partition = connection (encoded), row key = inverted
// milliseconds + entry id, so a partition reads newest first. Rows stay when their connection is deleted.
// Continuation tokens are the SDK's, checked like the provisioning log's.
import type { TableClient, TableEntityResult } from '@azure/data-tables';
import type { Actor, AuditChange, AuditEntry } from '../domain/config-audit.js';
import { invalidContinuation } from '../domain/errors.js';
import type { AuditLog } from '../provisioning/ports.js';
import { checkedToken } from './provisioning-log.table.js';
import { encodeKey, odataString, readJsonColumn, writeJsonColumn } from './table-keys.js';
import { classifyStorageError, ensureTable } from './table-support.js';

const MAX_MS = 9_999_999_999_999;
const invertedTime = (iso: string) => String(MAX_MS - Date.parse(iso)).padStart(13, '0');

export class TableAuditLog implements AuditLog {
  constructor(private readonly table: TableClient) {}

  async append(entry: AuditEntry): Promise<void> {
    await ensureTable(this.table);
    const entity: Record<string, unknown> & { partitionKey: string; rowKey: string } = {
      partitionKey: encodeKey(entry.connectionId),
      rowKey: `${invertedTime(entry.at)}-${entry.id}`,
      id: entry.id,
      at: entry.at,
      action: entry.action,
      actor: JSON.stringify(entry.actor),
      ...(entry.etag ? { resultingEtag: entry.etag } : {}),
    };
    // Before/after values of a whole mapping can outgrow one Table string.
    writeJsonColumn(entity, 'changes', entry.changes);
    try {
      await this.table.createEntity(entity);
    } catch (error) {
      throw classifyStorageError(error, 'append audit entry');
    }
  }

  async list(
    connectionId: string,
    limit: number,
    continuation?: string,
  ): Promise<{ entries: AuditEntry[]; continuation?: string }> {
    await ensureTable(this.table);
    try {
      const page = await this.table
        .listEntities({ queryOptions: { filter: `PartitionKey eq ${odataString(encodeKey(connectionId))}` } })
        .byPage({ maxPageSize: limit, ...(continuation ? { continuationToken: checkedToken(continuation) } : {}) })
        .next();
      const entities = (page.value ?? []) as TableEntityResult<Record<string, unknown>>[] & {
        continuationToken?: string;
      };
      return {
        entries: entities.map((e) => fromEntity(connectionId, e)),
        ...(entities.continuationToken ? { continuation: entities.continuationToken } : {}),
      };
    } catch (error) {
      const classified = classifyStorageError(error, 'list audit entries');
      throw continuation && classified.kind === 'invalid' ? invalidContinuation() : classified;
    }
  }
}

function fromEntity(connectionId: string, e: TableEntityResult<Record<string, unknown>>): AuditEntry {
  return {
    connectionId,
    id: String(e.id),
    at: String(e.at),
    action: e.action as AuditEntry['action'],
    actor: JSON.parse(String(e.actor)) as Actor,
    changes: readJsonColumn<AuditChange[]>(e, 'changes') ?? [],
    ...(typeof e.resultingEtag === 'string' ? { etag: e.resultingEtag } : {}),
  };
}
