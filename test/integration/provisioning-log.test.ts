// The provisioning log's appends against the real Azurite (shared/storage/provisioning-log.table.ts): records of one
// connection arriving together are written in shared entity-group transactions, every append resolves only once its
// record can be read back, and a record the service refuses fails its own append only.
import { describe, expect, inject, it } from 'vitest';
import type { ProvisioningLogRecord } from '../../shared/domain/user-state.js';
import { TableProvisioningLog } from '../../shared/storage/provisioning-log.table.js';
import { storageRequestCounts, tableClient } from '../../shared/storage/storage-clients.js';
import { uniqueName } from '../support/unique.js';

const log = new TableProvisioningLog(
  tableClient(inject('storageConnectionString'), uniqueName('log').replace(/-/g, '')),
);

const record = (
  connectionId: string,
  i: number,
  extra: Partial<ProvisioningLogRecord> = {},
): ProvisioningLogRecord => ({
  connectionId,
  time: new Date(Date.UTC(2026, 11, 1, 12, 0, i)).toISOString(),
  operationId: `op-${i}`,
  externalId: `person-${i}`,
  version: 1,
  type: 'upsert',
  action: 'update',
  result: 'applied',
  graphRequestIds: [],
  durationMs: 10,
  changedProperties: ['jobTitle'],
  ...extra,
});

async function everything(connectionId: string) {
  const records: ProvisioningLogRecord[] = [];
  let continuation: string | undefined;
  do {
    const page = await log.query(connectionId, { limit: 100, ...(continuation ? { continuation } : {}) });
    records.push(...page.records);
    continuation = page.continuation;
  } while (continuation);
  return records;
}

describe('provisioning log: group-committed appends (issue 19)', () => {
  it('writes 60 records appended at once in fewer Table requests than records, each readable once its append resolved', async () => {
    const connectionId = crypto.randomUUID();
    const other = crypto.randomUUID();
    await log.append(record(connectionId, 99)); // the table exists before counting
    const before = storageRequestCounts.table;
    await Promise.all([
      ...Array.from({ length: 60 }, (_, i) => log.append(record(connectionId, i))),
      ...Array.from({ length: 5 }, (_, i) => log.append(record(other, i))),
    ]);
    const requests = storageRequestCounts.table - before;
    expect(requests).toBeLessThanOrEqual(6);
    const stored = await everything(connectionId);
    expect(stored.map((r) => r.operationId).sort()).toEqual(
      [...Array.from({ length: 60 }, (_, i) => `op-${i}`), 'op-99'].sort(),
    );
    expect(stored.find((r) => r.operationId === 'op-7')).toMatchObject({
      externalId: 'person-7',
      changedProperties: ['jobTitle'],
      graphRequestIds: [],
    });
    expect((await everything(other)).map((r) => r.operationId).sort()).toEqual([
      'op-0',
      'op-1',
      'op-2',
      'op-3',
      'op-4',
    ]);
  });

  it('a record the service refuses fails its own append; the others of its batch are stored', async () => {
    const connectionId = crypto.randomUUID();
    await log.append(record(connectionId, 99));
    // Table Storage refuses a string property over 64 KiB.
    const tooLarge = record(connectionId, 5, {
      plan: [{ method: 'PATCH', url: 'https://graph.microsoft.com/v1.0/users/x', body: { x: 'x'.repeat(70_000) } }],
    });
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => log.append(i === 5 ? tooLarge : record(connectionId, i))),
    );
    expect(results.map((r) => r.status)).toEqual(
      Array.from({ length: 10 }, (_, i) => (i === 5 ? 'rejected' : 'fulfilled')),
    );
    expect((results[5] as PromiseRejectedResult).reason).toMatchObject({ kind: 'invalid' });
    const stored = (await everything(connectionId)).map((r) => r.operationId).sort();
    expect(stored).toEqual(['op-0', 'op-1', 'op-2', 'op-3', 'op-4', 'op-6', 'op-7', 'op-8', 'op-9', 'op-99'].sort());
  });
});
