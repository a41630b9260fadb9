// Fault suite: the simulated tenant fails 30 % of Graph requests (429 with Retry-After, 503, dropped
// connections) while real local-host processes are killed (SIGKILL, mid-operation) and restarted again and
// again. Every change must still end applied exactly once: one account per person, the in-order end state
// (no stale overwrite), nothing lost; anything permanent is visible in the log.
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import type { ChangeInput } from '../../shared/domain/change.js';
import { GraphTenantGatewayFactory } from '../../shared/graph/tenant-gateway.graph.js';
import { createConnection } from '../../shared/provisioning/connections.js';
import { systemClock } from '../../shared/provisioning/ports.js';
import { testConnection } from '../../shared/provisioning/test-connection.js';
import { parseEncryptionKeys, SecretCipher } from '../../shared/security/secret-cipher.js';
import { TableAuditLog } from '../../shared/storage/audit-log.table.js';
import { TableConnectionRepository } from '../../shared/storage/connection-repository.table.js';
import { sendChange } from '../../shared/storage/operation-queue.queue.js';
import { TableProvisioningLog } from '../../shared/storage/provisioning-log.table.js';
import { tableClient } from '../../shared/storage/storage-clients.js';
import { TableUserStateRepository } from '../../shared/storage/user-state-repository.table.js';
import { shuffle } from '../support/shuffle.js';
import { DEFAULT_SEED, startTestTenant, type TestTenant } from '../support/simulated-tenant.js';
import { type ReadyProcess, spawnReady } from '../support/spawn-ready.js';
import { uniqueName } from '../support/unique.js';

const storage = inject('storageConnectionString');
const contoso = DEFAULT_SEED.contoso;
let sim: TestTenant;
const hosts = new Set<ReadyProcess<{ hostUrl: string }>>();

beforeAll(async () => {
  sim = await startTestTenant();
});
afterAll(async () => {
  await Promise.all([...hosts].map((h) => h.stop()));
  await sim?.close();
});

/** A host process as `npm start` runs it; a killed one leaves its messages and user leases behind for 3 s. */
async function startHost() {
  const host = await spawnReady<{ hostUrl: string }>('dev/host/main.ts', {
    PORT: '0',
    AzureWebJobsStorage: storage,
    PROVISIONING_LEASE_SECONDS: '3',
    LOCAL_HOST_MESSAGE_VISIBILITY_SECONDS: '3',
  });
  hosts.add(host);
  return host;
}

it(
  'applies every change exactly once through 30 % Graph faults and repeatedly killed hosts',
  { timeout: 150_000 },
  async () => {
    const deps = {
      connections: new TableConnectionRepository(tableClient(storage, 'connections')),
      audit: new TableAuditLog(tableClient(storage, 'configaudit')),
      secrets: new SecretCipher(parseEncryptionKeys(process.env.SECRETS_ENCRYPTION_KEYS!)),
      clock: systemClock,
      tenants: new GraphTenantGatewayFactory(),
    };
    const { value: connection } = await createConnection(
      deps,
      {
        name: 'faults',
        tenantId: contoso.tenantId,
        domain: contoso.domain,
        clientId: contoso.fullApp.clientId,
        clientSecret: contoso.fullApp.secret,
        authMode: 'client_credentials',
        cloud: 'global',
        authorityHost: sim.authorityHost,
        graphEndpoint: sim.graphBaseUrl,
      },
      { type: 'function-key' },
    );
    expect((await testConnection(deps, connection.id)).status).toBe('ready');

    const tag = uniqueName('f').slice(-6);
    const people = Array.from({ length: 40 }, (_, i) => ({
      externalId: `fault-${tag}-${i}`,
      userName: `fault${i}.${tag}`,
      ends: i % 3 === 0 ? 'deactivated' : 'updated',
    }));
    const changes: ChangeInput[] = people.flatMap((p) => {
      const attrs = (jobTitle: string) => ({
        userName: p.userName,
        givenName: 'Fault',
        familyName: `F${p.userName}`,
        active: true,
        jobTitle,
        password: 'Initial-Pa55word!',
      });
      const base = { connectionId: connection.id, externalId: p.externalId };
      return [
        { ...base, type: 'upsert', version: 1, operationId: `${p.externalId}-1`, attributes: attrs('v1') },
        { ...base, type: 'upsert', version: 2, operationId: `${p.externalId}-2`, attributes: attrs('v2') },
        p.ends === 'deactivated'
          ? { ...base, type: 'deactivate', version: 3, operationId: `${p.externalId}-3` }
          : { ...base, type: 'upsert', version: 3, operationId: `${p.externalId}-3`, attributes: attrs('v3') },
      ] as ChangeInput[];
    });

    // 30 % of Graph requests fail: 429 (Retry-After 1 s), 503, or the connection is dropped.
    for (const fault of [
      { kind: 'status', status: 429, retryAfterSeconds: 1 },
      { kind: 'status', status: 503 },
      { kind: 'drop' },
    ] as const) {
      await sim.controls.addFault({ match: { surface: 'graph', path: '^/v1.0/users' }, fault, rate: 0.1 });
    }
    const since = (await sim.controls.requests()).at(-1)?.seq ?? 0;
    await Promise.all(shuffle([...changes, ...changes], 42).map((c) => sendChange(storage, c)));

    const users = new TableUserStateRepository(tableClient(storage, 'users'));
    const settled = async () => {
      const states = await Promise.all(people.map((p) => users.get(connection.id, p.externalId)));
      return states.every(
        (u) =>
          u &&
          (u.status === 'failed' ||
            (u.appliedDesired?.lifecycle === 3 &&
              u.appliedDesired.profile === (u.desired?.profile?.version ?? 0) &&
              !u.lease)),
      );
    };

    // Two hosts; every 0.8 s, while work remains, one of them is killed mid-flight and a new one started.
    let running = [await startHost(), await startHost()];
    let kills = 0;
    const deadline = Date.now() + 120_000;
    while (!(await settled())) {
      if (Date.now() > deadline) {
        const states = await Promise.all(people.map((p) => users.get(connection.id, p.externalId)));
        const open = states.filter(
          (u) => !(u && (u.status === 'failed' || (u.appliedDesired?.lifecycle === 3 && !u.lease))),
        );
        throw new Error(
          `not settled after ${kills} kills: ${JSON.stringify(open.slice(0, 5).map((u) => u && { id: u.externalId, status: u.status, reason: u.statusReason, applied: u.appliedDesired, desired: { p: u.desired?.profile?.version, l: u.desired?.lifecycle?.version }, lease: u.lease }))} (${open.length} open)`,
        );
      }
      await new Promise((r) => setTimeout(r, 800));
      if (kills < 12) {
        const victim = running[kills % 2]!;
        victim.child.kill('SIGKILL');
        hosts.delete(victim);
        kills++;
        running = running.map((h) => (h === victim ? undefined : h)).filter(Boolean) as typeof running;
        running.push(await startHost());
      }
    }
    await sim.controls.clearFaults();
    // Each kill happened while operations were still unfinished (the loop stops killing once all settled).
    expect(kills).toBeGreaterThanOrEqual(3);

    const requests = await sim.controls.requests({ since, surface: 'graph' });
    const log = new TableProvisioningLog(tableClient(storage, 'provisioninglogs'));
    for (const p of people) {
      const state = await users.get(connection.id, p.externalId);
      if (state!.status === 'failed') {
        // Permanent failures are allowed only if visible: on the user and in the log.
        const records = await log.query(connection.id, { externalId: p.externalId, result: 'failed', limit: 10 });
        expect(records.records.length, `${p.externalId} failed without a log record`).toBeGreaterThan(0);
        continue;
      }
      const account = await sim.controls.user(contoso.tenantId, `${p.userName}@${contoso.domain}`);
      // The in-order end state: never an older title over a newer one.
      expect(account, p.externalId).toMatchObject(
        p.ends === 'deactivated' ? { jobTitle: 'v2', accountEnabled: false } : { jobTitle: 'v3', accountEnabled: true },
      );
      // Exactly one account: one successful create for this person, however many retries and duplicates.
      const creates = requests.filter(
        (r) =>
          r.method === 'POST' &&
          r.path === '/v1.0/users' &&
          r.status === 201 &&
          (r.body as { userPrincipalName?: string })?.userPrincipalName === `${p.userName}@${contoso.domain}`,
      );
      expect(creates, p.externalId).toHaveLength(1);
    }
    const failed = (await Promise.all(people.map((p) => users.get(connection.id, p.externalId)))).filter(
      (u) => u!.status === 'failed',
    );
    // With 6 attempts per transient failure, a permanent failure should be rare; if many fail something is wrong.
    expect(failed.length).toBeLessThanOrEqual(2);
    expect(requests.filter((r) => r.fault).length).toBeGreaterThan(20);
  },
);
