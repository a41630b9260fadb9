// Resolving references by externalId (shared/provisioning/references.ts) against the real Azurite: many users at once
// come from one scan of the connection's users, a few from point reads — and both answer exactly what point reads
// of every one answer (the rows, and undefined for an externalId with no row), whichever side of SCAN_FROM.
import { TableClient, type TransactionAction } from '@azure/data-tables';
import { describe, expect, inject, it } from 'vitest';
import { connectionReferences, linkedRows, SCAN_FROM } from '../../shared/provisioning/references.js';
import { linkEntity, TableUserStateRepository, userEntity } from '../../shared/storage/user-state-repository.table.js';
import { uniqueName } from '../support/unique.js';

const table = TableClient.fromConnectionString(
  inject('storageConnectionString'),
  uniqueName('refs').replace(/-/g, ''),
  {
    allowInsecureConnection: true,
  },
);
const repo = new TableUserStateRepository(table);

/** `count` linked user rows in one connection (entity group transactions of 100). */
async function seed(connectionId: string, count: number, objectIds = new Map<string, string>()): Promise<string[]> {
  await table.createTable();
  const at = new Date().toISOString();
  const ids = Array.from({ length: count }, (_, i) => `person-${String(i).padStart(5, '0')}`);
  for (let b = 0; b < count; b += 100)
    await table.submitTransaction(
      ids.slice(b, b + 100).map((externalId, j): TransactionAction => [
        'create',
        userEntity(
          {
            connectionId,
            externalId,
            desired: {
              profile: { version: 1, attributes: { userName: externalId } },
              lifecycle: { version: 1, state: b + j === 7 ? 'removed' : 'active', explicit: false },
            },
            appliedVersion: 1,
            appliedDesired: { profile: 1, lifecycle: 1 },
            objectId: objectIds.get(externalId) ?? crypto.randomUUID(),
            status: 'applied',
            ownedLicenses: [],
            createdAt: at,
            updatedAt: at,
          },
          false,
        ),
      ]),
    );
  return ids;
}

const summary = (rows: Map<string, { objectId?: string; desired?: unknown } | undefined>) =>
  [...rows.entries()].map(([id, row]) => [id, row?.objectId ?? null, JSON.stringify(row?.desired ?? null)]).sort();

describe('references: users resolved in bulk (issue 16)', () => {
  it('a scan for many and point reads for a few answer what point reads of each answer', async () => {
    const connectionId = crypto.randomUUID();
    const other = crypto.randomUUID();
    const ids = await seed(connectionId, SCAN_FROM + 300);
    await seed(other, 50);
    const refs = connectionReferences({ users: repo, groups: repo }, connectionId);
    const missing = ['nobody-1', 'nobody-2', 'person-99999'];

    for (const wanted of [
      [...ids.slice(0, SCAN_FROM + 100), ...missing],
      [...ids.slice(0, 40), ...missing],
    ]) {
      const bulk = await refs.users([...wanted, wanted[0]!]);
      const one = new Map(await Promise.all(wanted.map(async (id) => [id, await repo.get(connectionId, id)] as const)));
      expect(bulk.size).toBe(wanted.length);
      expect(summary(bulk)).toEqual(summary(one));
      for (const id of missing) expect(bulk.has(id) && bulk.get(id) === undefined).toBe(true);
      expect(bulk.get('person-00007')?.desired?.lifecycle?.state).toBe('removed');
    }
  });
});

describe('references: accounts changed in Microsoft 365 looked up in bulk (issue 19)', () => {
  it('one scan for many and link-index point reads for a few answer the same rows, and nothing for unlinked accounts', async () => {
    const connectionId = crypto.randomUUID();
    const other = crypto.randomUUID();
    const count = SCAN_FROM / 2 + 200;
    const accountOf = new Map(
      Array.from({ length: count }, (_, i) => [`person-${String(i).padStart(5, '0')}`, crypto.randomUUID()]),
    );
    const ids = await seed(connectionId, count, accountOf);
    // The other connection's rows name the same accounts: never answered for this connection.
    await seed(other, 50, accountOf);
    // This seed writes no link index (userEntity(…, false)): point reads go through the index, so write it for all.
    for (let b = 0; b < ids.length; b += 100)
      await table.submitTransaction(
        ids
          .slice(b, b + 100)
          .map((id): TransactionAction => ['create', linkEntity(connectionId, accountOf.get(id)!, id)]),
      );
    const strangers = [crypto.randomUUID(), crypto.randomUUID()];

    for (const wanted of [ids.slice(0, SCAN_FROM / 2 + 100), ids.slice(0, 30)]) {
      const accounts = [...wanted.map((id) => accountOf.get(id)!), ...strangers];
      const rows = await linkedRows(repo, connectionId, [...accounts, accounts[0]!]);
      expect([...rows.keys()].sort()).toEqual(wanted.map((id) => accountOf.get(id)!).sort());
      for (const id of wanted) {
        const row = rows.get(accountOf.get(id)!);
        expect(row?.connectionId).toBe(connectionId);
        expect(row?.externalId).toBe(id);
        expect(row?.desired).toEqual((await repo.get(connectionId, id))?.desired);
      }
    }
  });
});
