// Reconciliation in Table Storage, one table:
//   PK connectionId, RK 'state'              – delta link, last full round, the run lease (ETag-guarded), a paused run's progress
//   PK connectionId, RK 'run:<runId>'        – run records (run ids sort newest first)
//   PK '<connectionId>~run~<runId>', RK seq  – a run's items (drift, plan, unmatched accounts)
//   PK '<connectionId>~staged', RK externalId – disable/delete operations awaiting an admin (a group's: 'group:<externalId>')
import type { TableClient, TableEntityResult } from '@azure/data-tables';
import { AppError, invalidContinuation } from '../domain/errors.js';
import type { ReconciliationRun, ReconciliationState, RunItem, StagedOperation } from '../domain/reconciliation.js';
import type { ReconciliationStore } from '../provisioning/ports.js';
import { encodeKey, odataString, parseJsonColumn, readJsonColumn, writeJsonColumn } from './table-keys.js';
import { classifyStorageError, ensureTable, statusOf } from './table-support.js';

const STATE = 'state';
const RUN = 'run:';
const itemsPartition = (connectionId: string, runId: string) => `${encodeKey(connectionId)}~run~${encodeKey(runId)}`;
const stagedPartition = (connectionId: string) => `${encodeKey(connectionId)}~staged`;
/** A user's externalId, a group's prefixed: encodeKey never writes ':', so neither can address the other's row. */
const stagedKey = (op: Pick<StagedOperation, 'objectType' | 'externalId'>) =>
  op.objectType === 'group' ? `group:${encodeKey(op.externalId)}` : encodeKey(op.externalId);
/** Continuation tokens are the next RowKey, base64url. */
const encodeToken = (rowKey: string) => Buffer.from(rowKey).toString('base64url');
/** The RowKey a token stands for, if it is one this store gave out for that list (`shape`). */
function decodeToken(token: string, shape: RegExp): string {
  const rowKey = /^[A-Za-z0-9_-]+$/.test(token) ? Buffer.from(token, 'base64url').toString() : '';
  if (!shape.test(rowKey)) throw invalidContinuation();
  return rowKey;
}
const RUN_TOKEN = /^run:\d{13}-[0-9a-f]{8}$/;
const ITEM_TOKEN = /^\d{9}$/;

export class TableReconciliationStore implements ReconciliationStore {
  constructor(private readonly table: TableClient) {}

  async getState(connectionId: string): Promise<ReconciliationState> {
    const e = await this.read<Record<string, unknown>>(encodeKey(connectionId), STATE, 'read reconciliation state');
    return e ? { ...readJsonColumn<ReconciliationState>(e, 'data')!, connectionId, etag: e.etag } : { connectionId };
  }

  async saveState(state: ReconciliationState): Promise<ReconciliationState> {
    await ensureTable(this.table);
    const { etag, ...data } = state;
    // A paused run's progress can make the state longer than one string column: written over data, data__1, ….
    const entity: { partitionKey: string; rowKey: string } & Record<string, unknown> = {
      partitionKey: encodeKey(state.connectionId),
      rowKey: STATE,
    };
    writeJsonColumn(entity, 'data', data);
    try {
      const result = etag
        ? await this.table.updateEntity(entity, 'Replace', { etag })
        : await this.table.createEntity(entity);
      return { ...state, etag: result.etag };
    } catch (error) {
      if (statusOf(error) === 412 || statusOf(error) === 409)
        throw new AppError(
          'conflict',
          'concurrent-update',
          `Reconciliation state of ${state.connectionId} changed concurrently`,
        );
      throw classifyStorageError(error, 'save reconciliation state');
    }
  }

  async saveRun(run: ReconciliationRun): Promise<void> {
    await this.upsert(
      { partitionKey: encodeKey(run.connectionId), rowKey: RUN + encodeKey(run.runId), data: JSON.stringify(run) },
      'save reconciliation run',
    );
  }

  async getRun(connectionId: string, runId: string): Promise<ReconciliationRun | undefined> {
    const e = await this.read<{ data: string }>(
      encodeKey(connectionId),
      RUN + encodeKey(runId),
      'read reconciliation run',
    );
    return e ? parseJsonColumn<ReconciliationRun>(e.data) : undefined;
  }

  async listRuns(
    connectionId: string,
    limit: number,
    continuation?: string,
  ): Promise<{ runs: ReconciliationRun[]; continuation?: string }> {
    const from = continuation ? decodeToken(continuation, RUN_TOKEN) : RUN;
    const filter = `PartitionKey eq ${odataString(encodeKey(connectionId))} and RowKey ge ${odataString(from)} and RowKey lt ${odataString('run;')}`;
    const { rows, next } = await this.page<{ data: string }>(filter, limit, 'list reconciliation runs');
    return {
      runs: rows.map((r) => parseJsonColumn<ReconciliationRun>(r.data)!),
      ...(next ? { continuation: next } : {}),
    };
  }

  async appendItems(connectionId: string, runId: string, firstSeq: number, items: RunItem[]): Promise<void> {
    await ensureTable(this.table);
    const partitionKey = itemsPartition(connectionId, runId);
    try {
      // Entity group transactions: up to 100 entities of one partition per request.
      for (let i = 0; i < items.length; i += 100) {
        await this.table.submitTransaction(
          items
            .slice(i, i + 100)
            .map(
              (item, j) =>
                [
                  'upsert',
                  { partitionKey, rowKey: String(firstSeq + i + j).padStart(9, '0'), data: JSON.stringify(item) },
                  'Replace',
                ] as const,
            ),
        );
      }
    } catch (error) {
      throw classifyStorageError(error, 'save reconciliation items');
    }
  }

  async listItems(
    connectionId: string,
    runId: string,
    limit: number,
    continuation?: string,
  ): Promise<{ items: RunItem[]; continuation?: string }> {
    const from = continuation ? decodeToken(continuation, ITEM_TOKEN) : '';
    const filter = `PartitionKey eq ${odataString(itemsPartition(connectionId, runId))}${from ? ` and RowKey ge ${odataString(from)}` : ''}`;
    const { rows, next } = await this.page<{ data: string }>(filter, limit, 'list reconciliation items');
    return { items: rows.map((r) => parseJsonColumn<RunItem>(r.data)!), ...(next ? { continuation: next } : {}) };
  }

  async stage(operations: StagedOperation[]): Promise<void> {
    await ensureTable(this.table);
    try {
      for (let i = 0; i < operations.length; i += 100) {
        const slice = operations.slice(i, i + 100);
        await this.table.submitTransaction(
          slice.map(
            (op) =>
              [
                'upsert',
                {
                  partitionKey: stagedPartition(op.connectionId),
                  rowKey: stagedKey(op),
                  data: JSON.stringify(op),
                },
                'Replace',
              ] as const,
          ),
        );
      }
    } catch (error) {
      throw classifyStorageError(error, 'stage operations');
    }
  }

  async listStaged(connectionId: string): Promise<StagedOperation[]> {
    await ensureTable(this.table);
    const out: StagedOperation[] = [];
    try {
      for await (const e of this.table.listEntities<{ data: string }>({
        queryOptions: { filter: `PartitionKey eq ${odataString(stagedPartition(connectionId))}` },
      })) {
        out.push(parseJsonColumn<StagedOperation>(e.data)!);
      }
    } catch (error) {
      throw classifyStorageError(error, 'list staged operations');
    }
    return out;
  }

  async removeStaged(
    connectionId: string,
    operations: Pick<StagedOperation, 'objectType' | 'externalId'>[],
  ): Promise<void> {
    await ensureTable(this.table);
    try {
      for (let i = 0; i < operations.length; i += 100) {
        await this.table.submitTransaction(
          operations
            .slice(i, i + 100)
            .map((op) => ['delete', { partitionKey: stagedPartition(connectionId), rowKey: stagedKey(op) }] as const),
        );
      }
    } catch (error) {
      if (statusOf(error) === 404) return; // removed meanwhile (a concurrent approve/reject)
      throw classifyStorageError(error, 'remove staged operations');
    }
  }

  private async read<T extends object>(
    pk: string,
    rk: string,
    what: string,
  ): Promise<TableEntityResult<T> | undefined> {
    await ensureTable(this.table);
    try {
      return await this.table.getEntity<T>(pk, rk);
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw classifyStorageError(error, what);
    }
  }

  private async upsert(entity: { partitionKey: string; rowKey: string; data: string }, what: string): Promise<void> {
    await ensureTable(this.table);
    try {
      await this.table.upsertEntity(entity, 'Replace');
    } catch (error) {
      throw classifyStorageError(error, what);
    }
  }

  /** One page of `limit` rows in key order, plus a token for the next (a RowKey: stable under inserts). */
  private async page<T extends object>(
    filter: string,
    limit: number,
    what: string,
  ): Promise<{ rows: TableEntityResult<T>[]; next?: string }> {
    await ensureTable(this.table);
    const rows: TableEntityResult<T>[] = [];
    try {
      for await (const e of this.table.listEntities<T>({ queryOptions: { filter } })) {
        if (rows.length === limit) return { rows, next: encodeToken(e.rowKey!) };
        rows.push(e);
      }
    } catch (error) {
      throw classifyStorageError(error, what);
    }
    return { rows };
  }
}
