// Shared Table Storage plumbing: tables created once per process, and SDK errors turned into the app's kinds.
import { RestError } from '@azure/core-rest-pipeline';
import type { TableClient } from '@azure/data-tables';
import { AppError } from '../domain/errors.js';
import { odataString } from './table-keys.js';

const created = new WeakMap<TableClient, Promise<void>>();

/** Creates the table on first use in this process (createTable is idempotent on an existing table). */
export function ensureTable(table: TableClient): Promise<void> {
  let ready = created.get(table);
  if (!ready) {
    ready = table.createTable().catch((error: unknown) => {
      created.delete(table);
      throw classifyStorageError(error, `create table ${table.tableName}`);
    });
    created.set(table, ready);
  }
  return ready;
}

export const statusOf = (error: unknown) => (error instanceof RestError ? error.statusCode : undefined);

/** Maps a storage SDK error to the app's taxonomy (docs/architecture.md, invariant 3). */
export function classifyStorageError(error: unknown, what: string): AppError {
  if (error instanceof AppError) return error;
  const status = statusOf(error);
  const message = `Storage: ${what} failed${status ? ` (HTTP ${status})` : ''}: ${(error as Error)?.message?.split('\n')[0] ?? String(error)}`;
  if (status === 404) return new AppError('not-found', 'storage-not-found', message);
  if (status === 409 || status === 412) return new AppError('conflict', 'storage-conflict', message);
  if (status === 429 || status === 503) return new AppError('throttled', 'storage-busy', message);
  // Refused for what it holds (bad value, too large): retrying the same request cannot succeed.
  if (status === 400 || status === 413) return new AppError('invalid', 'storage-rejected', message);
  return new AppError('transient', 'storage-unavailable', message);
}

/** Deletes every row of one partition: its keys read once, then entity group transactions of up to 100 deletes. */
export async function deletePartition(table: TableClient, partitionKey: string): Promise<number> {
  await ensureTable(table);
  const keys: string[] = [];
  for await (const e of table.listEntities({
    queryOptions: { filter: `PartitionKey eq ${odataString(partitionKey)}`, select: ['RowKey'] },
  }))
    keys.push(e.rowKey!);
  for (let i = 0; i < keys.length; i += 100)
    await table.submitTransaction(
      keys.slice(i, i + 100).map((rowKey) => ['delete', { partitionKey, rowKey }] as const),
    );
  return keys.length;
}

/**
 * The pages of a query, the next one asked for while the caller works on the current one: the storage service (or
 * Azurite, in its own process) prepares page N + 1 while this process parses and judges page N. At most one page
 * ahead; a caller that stops early leaves the page read ahead unread.
 */
export async function* readingAhead<T>(pages: AsyncIterable<T>): AsyncGenerator<T> {
  const iterator = pages[Symbol.asyncIterator]();
  let next = iterator.next();
  try {
    for (;;) {
      const page = await next;
      if (page.done) return;
      next = iterator.next();
      // Awaited on the next turn; until then a failure must not count as unhandled.
      next.catch(() => undefined);
      yield page.value;
    }
  } finally {
    // A caller that stopped early: let the query go (the page read ahead is dropped when it arrives).
    iterator.return?.().catch(() => undefined);
  }
}
