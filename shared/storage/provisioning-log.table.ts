// The provisioning log in Table Storage: partition = connection; row keys sort newest first (inverted
// milliseconds), so "latest N" and time ranges are key-range reads. Continuation tokens are the SDK's, opaque.
// Appends are group-committed: records of one connection that arrive while its previous write is in flight are
// written together in one entity-group transaction (up to 100, one Table transaction), and each append still
// resolves only once its own record is stored. A batch the service refuses is written again record by record, so
// one record it cannot take fails only its own append.
import { randomBytes } from 'node:crypto';
import type { TableClient, TableEntityResult } from '@azure/data-tables';
import { invalidContinuation } from '../domain/errors.js';
import { printable } from '../domain/identifiers.js';
import type { ProvisioningLogRecord } from '../domain/user-state.js';
import type { LogQuery, ProvisioningLog } from '../provisioning/ports.js';
import { encodeKey, odataString, parseJsonColumn } from './table-keys.js';
import { classifyStorageError, ensureTable, statusOf } from './table-support.js';

const MAX_MS = 9_999_999_999_999;
const JSON_FIELDS = ['error', 'graphRequestIds', 'changedProperties', 'plan', 'blockedBy', 'match', 'pending'] as const;
const invertedTime = (iso: string) => String(MAX_MS - Date.parse(iso)).padStart(13, '0');

/** An entity-group transaction holds at most 100 entities and 4 MiB: batches stay well inside both. */
const BATCH_ENTITIES = 100;
const BATCH_BYTES = 2 * 1024 * 1024;

type LogEntity = Record<string, unknown> & { partitionKey: string; rowKey: string };
interface Waiting {
  entity: LogEntity;
  bytes: number;
  done: (error?: Error) => void;
}

export class TableProvisioningLog implements ProvisioningLog {
  /** Records waiting for their connection's write in flight to end, per partition. */
  private readonly waiting = new Map<string, Waiting[]>();

  constructor(private readonly table: TableClient) {}

  async append(record: ProvisioningLogRecord): Promise<void> {
    await ensureTable(this.table);
    const entity = toEntity(record);
    const partition = entity.partitionKey;
    await new Promise<void>((resolve, reject) => {
      const queued = this.waiting.get(partition);
      const waiting: Waiting = {
        entity,
        bytes: JSON.stringify(entity).length,
        done: (error) => (error === undefined ? resolve() : reject(error)),
      };
      if (queued) queued.push(waiting);
      else {
        this.waiting.set(partition, [waiting]);
        void this.writeAll(partition);
      }
    });
  }

  /** Writes the partition's waiting records, a batch at a time, until none is left. */
  private async writeAll(partition: string): Promise<void> {
    for (;;) {
      const queued = this.waiting.get(partition)!;
      if (queued.length === 0) {
        this.waiting.delete(partition);
        return;
      }
      let bytes = 0;
      let count = 0;
      while (
        count < Math.min(queued.length, BATCH_ENTITIES) &&
        (count === 0 || bytes + queued[count]!.bytes <= BATCH_BYTES)
      )
        bytes += queued[count++]!.bytes;
      await this.write(queued.splice(0, count));
    }
  }

  private async write(batch: Waiting[]): Promise<void> {
    if (batch.length > 1) {
      try {
        await this.table.submitTransaction(batch.map((w) => ['create', w.entity] as const));
        for (const w of batch) w.done();
        return;
      } catch {
        // Written again one by one below: only a record the service refuses fails.
      }
    }
    await Promise.all(
      batch.map(async (w) => {
        try {
          await this.table.createEntity(w.entity);
          w.done();
        } catch (error) {
          // Already there: the batch was stored after all (its answer was lost).
          if (statusOf(error) === 409) w.done();
          else w.done(classifyStorageError(error, 'append provisioning log'));
        }
      }),
    );
  }

  async query(connectionId: string, q: LogQuery): Promise<{ records: ProvisioningLogRecord[]; continuation?: string }> {
    await ensureTable(this.table);
    const clauses = [`PartitionKey eq ${odataString(encodeKey(connectionId))}`];
    // Newer than `since` = smaller inverted time; older than `until` = larger.
    if (q.since) clauses.push(`RowKey le ${odataString(`${invertedTime(q.since)}~`)}`);
    if (q.until) clauses.push(`RowKey ge ${odataString(invertedTime(q.until))}`);
    if (q.externalId) clauses.push(`externalId eq ${odataString(q.externalId)}`);
    if (q.result) clauses.push(`result eq ${odataString(q.result)}`);
    if (q.action) clauses.push(`action eq ${odataString(q.action)}`);
    try {
      const page = await this.table
        .listEntities({ queryOptions: { filter: clauses.join(' and ') } })
        .byPage({
          maxPageSize: q.limit,
          ...(q.continuation ? { continuationToken: checkedToken(q.continuation) } : {}),
        })
        .next();
      const entities = (page.value ?? []) as TableEntityResult<Record<string, unknown>>[] & {
        continuationToken?: string;
      };
      return {
        records: entities.map((e) => fromEntity(connectionId, e)),
        ...(entities.continuationToken ? { continuation: entities.continuationToken } : {}),
      };
    } catch (error) {
      const classified = classifyStorageError(error, 'query provisioning log');
      // The service refused the values inside a well-shaped token: still the caller's token.
      throw q.continuation && classified.kind === 'invalid' ? invalidContinuation() : classified;
    }
  }
}

/**
 * The SDK's tokens are base64 JSON `{nextPartitionKey, nextRowKey}` (the service's own opaque values), and the
 * SDK throws on anything else. Only a token of that shape is passed on; any other is the caller's mistake.
 */
export function checkedToken(token: string): string {
  let parsed: unknown;
  try {
    parsed = /^[A-Za-z0-9+/=]{1,2048}$/.test(token)
      ? JSON.parse(Buffer.from(token, 'base64').toString('utf8'))
      : undefined;
  } catch {
    parsed = undefined;
  }
  const t = parsed as { nextPartitionKey?: unknown; nextRowKey?: unknown } | undefined;
  const opaque = (v: unknown) => typeof v === 'string' && /^[A-Za-z0-9+/=!_.-]{1,1024}$/.test(v);
  if (
    typeof t !== 'object' ||
    t === null ||
    !opaque(t.nextPartitionKey) ||
    (t.nextRowKey !== undefined && !opaque(t.nextRowKey))
  )
    throw invalidContinuation();
  return token;
}

function fromEntity(connectionId: string, e: TableEntityResult<Record<string, unknown>>): ProvisioningLogRecord {
  const record: Record<string, unknown> = { connectionId };
  for (const [key, value] of Object.entries(e)) {
    if (['partitionKey', 'rowKey', 'etag', 'timestamp'].includes(key) || key.startsWith('odata.')) continue;
    record[key] = (JSON_FIELDS as readonly string[]).includes(key) ? parseJsonColumn(value) : value;
  }
  return record as unknown as ProvisioningLogRecord;
}

function toEntity(record: ProvisioningLogRecord): LogEntity {
  const entity: LogEntity = {
    partitionKey: encodeKey(record.connectionId),
    rowKey: `${invertedTime(record.time)}-${randomBytes(6).toString('hex')}`,
  };
  for (const [key, value] of Object.entries(record)) {
    if (value === undefined || key === 'connectionId') continue;
    // A log record is written whatever it holds: text is made well-formed and kept within a Table string.
    entity[key] = (JSON_FIELDS as readonly string[]).includes(key)
      ? JSON.stringify(value)
      : typeof value === 'string'
        ? printable(value).slice(0, 30_000)
        : value;
  }
  return entity;
}
