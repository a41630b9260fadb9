// The operation pipeline's copy of a connection (shared/provisioning/connection-snapshots.ts), against the real
// Azurite: operations arriving together share one read of the row; a change written through this instance is what
// the next operation sees; a change written by another instance is seen once the copy is older than its maximum age
// (the clock is the deps' clock, moved by the test: nothing sleeps).
import { describe, expect, inject, it } from 'vitest';
import type { Connection } from '../../shared/domain/connection.js';
import { ConnectionSnapshots } from '../../shared/provisioning/connection-snapshots.js';
import { TableConnectionRepository } from '../../shared/storage/connection-repository.table.js';
import { storageRequestCounts, tableClient } from '../../shared/storage/storage-clients.js';
import { uniqueName } from '../support/unique.js';

const rows = new TableConnectionRepository(
  tableClient(inject('storageConnectionString'), uniqueName('snap').replace(/-/g, '')),
);

function clock() {
  let now = Date.parse('2026-12-01T12:00:00Z');
  return { now: () => new Date(now), advance: (ms: number) => (now += ms) };
}

async function seedConnection(): Promise<Connection> {
  const at = new Date().toISOString();
  const connection: Connection = {
    id: crypto.randomUUID(),
    name: 'snapshots',
    tenantId: crypto.randomUUID(),
    domain: 'contoso.example',
    clientId: crypto.randomUUID(),
    authMode: 'client_credentials',
    cloud: 'global',
    status: 'ready',
    clientSecretCipher: 'not-a-real-cipher',
    credentialVersion: '1',
    clientSecretUpdatedAt: at,
    authorization: { status: 'not-required' },
    createdAt: at,
    updatedAt: at,
  };
  return rows.create(connection);
}

describe('connection snapshots: one read per interval for the operation pipeline (issue 19)', () => {
  it('operations arriving together share one read, and later ones within the maximum age read nothing', async () => {
    const c = await seedConnection();
    const time = clock();
    const instance = new ConnectionSnapshots(rows, time, 1000);
    const before = storageRequestCounts.table;
    const seen = await Promise.all(Array.from({ length: 24 }, () => instance.recent(c.id)));
    time.advance(900);
    seen.push(await instance.recent(c.id));
    expect(storageRequestCounts.table - before).toBe(1);
    expect(new Set(seen.map((s) => s?.etag))).toEqual(new Set([c.etag]));
    time.advance(200);
    await instance.recent(c.id);
    expect(storageRequestCounts.table - before).toBe(2);
  });

  it("sees its own instance's change at once and another instance's once its copy is older than the maximum age", async () => {
    const c = await seedConnection();
    const time = clock();
    const a = new ConnectionSnapshots(rows, time, 1000);
    const b = new ConnectionSnapshots(rows, time, 1000);
    expect((await a.recent(c.id))?.status).toBe('ready');
    expect((await b.recent(c.id))?.status).toBe('ready');

    const drafted = await b.replace({ ...(await b.get(c.id))!, status: 'draft' });
    expect((await b.recent(c.id))?.status).toBe('draft');
    expect((await b.recent(c.id))?.etag).toBe(drafted.etag);
    time.advance(1000);
    expect((await a.recent(c.id))?.status).toBe('ready');
    time.advance(1);
    expect((await a.recent(c.id))?.status).toBe('draft');

    // A copy that would hold operations is not trusted: made ready elsewhere, the next operation runs at once.
    await b.replace({ ...(await b.get(c.id))!, status: 'ready' });
    expect((await a.recent(c.id))?.status).toBe('ready');
    const ready = (await a.get(c.id))!;
    const drafted2 = await b.replace({ ...ready, status: 'draft' });
    const before = storageRequestCounts.table;
    expect((await b.recent(c.id))?.status).toBe('draft');
    expect(storageRequestCounts.table - before).toBe(1);

    // A write that loses (412) forgets the copy: the next operation reads the row.
    const stale = { ...drafted2, status: 'ready' as const };
    await a.replace({ ...drafted2, name: 'renamed by a' });
    await expect(b.replace(stale)).rejects.toMatchObject({ code: 'concurrent-update' });
    expect((await b.recent(c.id))?.name).toBe('renamed by a');

    await a.delete(c.id);
    expect(await a.recent(c.id)).toBeUndefined();
  });

  it('with a maximum age of 0 reads the row every time', async () => {
    const c = await seedConnection();
    const instance = new ConnectionSnapshots(rows, clock(), 0);
    const before = storageRequestCounts.table;
    await instance.recent(c.id);
    await instance.recent(c.id);
    expect(storageRequestCounts.table - before).toBe(2);
  });
});
