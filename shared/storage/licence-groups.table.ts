// Group-based licensing's bookkeeping, in the groups table beside the connection's group rows: partition
// `<connection>~lic`, with three kinds of rows —
//   u~<externalId>          the licence group this connection put the user in: { licenceGroup, objectId, since }
//                           (licenceGroup '' = none);
//   p~<group>~<objectId>~<ms> a member change the licence group still has to send: { change add|remove, externalId,
//                           since } — never rewritten (a later move writes another row), so the flush deletes exactly
//                           what it read, in transactions;
//   f~<group>               a flush of that group's member changes is scheduled: { dueAt, urgent }.
// The licence groups themselves are ordinary group rows (externalId m365prov-lic-…) in the connection's partition.
// A user's move (its membership row and the member changes it takes) is one entity-group transaction.
import type { TableClient, TransactionAction } from '@azure/data-tables';
import type { LicenceGroupStore, LicenceMembership, NotedFlush, PendingMemberChange } from '../provisioning/ports.js';
import { decodeKey, encodeKey, odataString } from './table-keys.js';
import { classifyStorageError, deletePartition, ensureTable, statusOf } from './table-support.js';

const partition = (connectionId: string) => `${encodeKey(connectionId)}~lic`;
const membershipKey = (externalId: string) => `u~${encodeKey(externalId)}`;
const pendingPrefix = (group: string) => `p~${encodeKey(group)}~`;
const pendingKey = (group: string, objectId: string, at: number) =>
  `${pendingPrefix(group)}${encodeKey(objectId.toLowerCase())}~${String(at).padStart(15, '0')}`;
const flushKey = (group: string) => `f~${encodeKey(group)}`;
/** Entity group transactions: up to 100 operations on one partition per request. */
const BATCH = 100;
/** After every key that starts with a prefix ending in `~` and goes on with an object id (a GUID). */
const RANGE_END = '~~';

interface PendingEntity {
  change: 'add' | 'remove';
  externalId: string;
  since: string;
}

export class TableLicenceGroupStore implements LicenceGroupStore {
  constructor(private readonly table: TableClient) {}

  async membership(connectionId: string, externalId: string): Promise<LicenceMembership | undefined> {
    await ensureTable(this.table);
    try {
      const e = await this.table.getEntity<{ licenceGroup: string; objectId: string; since?: string }>(
        partition(connectionId),
        membershipKey(externalId),
      );
      return e.licenceGroup
        ? {
            group: String(e.licenceGroup),
            objectId: String(e.objectId),
            ...(e.since ? { since: String(e.since) } : {}),
          }
        : undefined;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw classifyStorageError(error, 'read licence group membership');
    }
  }

  async accountsIn(connectionId: string, group: string): Promise<string[]> {
    await ensureTable(this.table);
    const filter = [
      `PartitionKey eq ${odataString(partition(connectionId))}`,
      `RowKey gt ${odataString('u~')}`,
      `RowKey lt ${odataString('v')}`,
      `licenceGroup eq ${odataString(group)}`,
    ].join(' and ');
    const out: string[] = [];
    try {
      for await (const e of this.table.listEntities<{ objectId: string }>({
        queryOptions: { filter, select: ['objectId'] },
      }))
        out.push(String(e.objectId));
    } catch (error) {
      throw classifyStorageError(error, 'list licence group members');
    }
    return out;
  }

  async move(
    connectionId: string,
    externalId: string,
    objectId: string,
    to: string | undefined,
    from?: LicenceMembership,
  ): Promise<void> {
    await ensureTable(this.table);
    const partitionKey = partition(connectionId);
    const at = Date.now();
    const since = new Date(at).toISOString();
    const actions: TransactionAction[] = [];
    if (to)
      actions.push([
        'upsert',
        { partitionKey, rowKey: pendingKey(to, objectId, at), change: 'add', externalId, since },
        'Replace',
      ]);
    if (from && (from.group !== to || from.objectId.toLowerCase() !== objectId.toLowerCase()))
      actions.push([
        'upsert',
        { partitionKey, rowKey: pendingKey(from.group, from.objectId, at), change: 'remove', externalId, since },
        'Replace',
      ]);
    actions.push([
      'upsert',
      { partitionKey, rowKey: membershipKey(externalId), licenceGroup: to ?? '', objectId: to ? objectId : '', since },
      'Replace',
    ]);
    try {
      await this.table.submitTransaction(actions);
    } catch (error) {
      throw classifyStorageError(error, 'record a licence group move');
    }
  }

  async pending(connectionId: string, group: string, limit: number): Promise<PendingMemberChange[]> {
    await ensureTable(this.table);
    const prefix = pendingPrefix(group);
    const filter = [
      `PartitionKey eq ${odataString(partition(connectionId))}`,
      `RowKey gt ${odataString(prefix)}`,
      `RowKey lt ${odataString(`${prefix}${RANGE_END}`)}`,
    ].join(' and ');
    const out: PendingMemberChange[] = [];
    try {
      const pages = this.table
        .listEntities<PendingEntity>({ queryOptions: { filter } })
        .byPage({ maxPageSize: Math.min(limit, 1000) });
      for await (const page of pages) {
        for (const e of page) {
          const [objectId = ''] = e.rowKey!.slice(prefix.length).split('~');
          out.push({
            objectId: decodeKey(objectId),
            externalId: String(e.externalId),
            change: e.change === 'remove' ? 'remove' : 'add',
            since: String(e.since),
            key: e.rowKey!,
          });
          if (out.length >= limit) return out;
        }
      }
    } catch (error) {
      throw classifyStorageError(error, 'list licence group member changes');
    }
    return out;
  }

  async settle(connectionId: string, _group: string, sent: PendingMemberChange[]): Promise<void> {
    const keys = [...new Set(sent.map((c) => c.key).filter((k): k is string => k !== undefined))];
    if (keys.length === 0) return;
    await ensureTable(this.table);
    const partitionKey = partition(connectionId);
    for (let i = 0; i < keys.length; i += BATCH) {
      const slice = keys.slice(i, i + BATCH);
      try {
        await this.table.submitTransaction(
          slice.map((rowKey): TransactionAction => ['delete', { partitionKey, rowKey }]),
        );
      } catch (error) {
        // One of them is gone already (a flush that ran before and stopped short): the rest one by one.
        if (statusOf(error) !== 404) throw classifyStorageError(error, 'drop sent licence group member changes');
        for (const rowKey of slice)
          await this.table.deleteEntity(partitionKey, rowKey).catch((e: unknown) => {
            if (statusOf(e) !== 404) throw classifyStorageError(e, 'drop a sent licence group member change');
          });
      }
    }
  }

  async claimFlush(
    connectionId: string,
    group: string,
    dueAt: Date,
    staleBefore: Date,
    urgent = false,
  ): Promise<{ claimed: boolean; dueAt: Date }> {
    await ensureTable(this.table);
    const partitionKey = partition(connectionId);
    const rowKey = flushKey(group);
    const entity = { partitionKey, rowKey, dueAt: dueAt.toISOString(), urgent };
    const noted = () =>
      this.table.getEntity<{ dueAt: string }>(partitionKey, rowKey).catch((e: unknown) => {
        if (statusOf(e) === 404) return undefined;
        throw e;
      });
    try {
      const current = await noted();
      const currentDue = current ? new Date(String(current.dueAt)) : undefined;
      if (current && currentDue!.getTime() >= staleBefore.getTime()) return { claimed: false, dueAt: currentDue! };
      if (current) await this.table.updateEntity(entity, 'Replace', { etag: current.etag });
      else await this.table.createEntity(entity);
      return { claimed: true, dueAt };
    } catch (error) {
      // Someone else noted (or renewed) one first: theirs is enqueued.
      if (statusOf(error) === 409 || statusOf(error) === 412) {
        const theirs = await noted().catch(() => undefined);
        return { claimed: false, dueAt: theirs ? new Date(String(theirs.dueAt)) : new Date(0) };
      }
      throw classifyStorageError(error, 'schedule a licence group flush');
    }
  }

  async releaseFlush(connectionId: string, group: string): Promise<NotedFlush | undefined> {
    await ensureTable(this.table);
    const partitionKey = partition(connectionId);
    const rowKey = flushKey(group);
    try {
      const noted = await this.table.getEntity<{ dueAt: string; urgent?: boolean }>(partitionKey, rowKey);
      await this.table.deleteEntity(partitionKey, rowKey, { etag: noted.etag });
      return { dueAt: new Date(String(noted.dueAt)), urgent: noted.urgent === true };
    } catch (error) {
      // None noted, or one noted again meanwhile (that one's flush is still to come).
      if (statusOf(error) === 404 || statusOf(error) === 412) return undefined;
      throw classifyStorageError(error, 'release a licence group flush');
    }
  }

  async clear(connectionId: string): Promise<void> {
    try {
      await deletePartition(this.table, partition(connectionId));
    } catch (error) {
      throw classifyStorageError(error, 'clear licence group bookkeeping');
    }
  }
}
