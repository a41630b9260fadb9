// The 10k wave (issue 6): N licensed creates pushed through the real path (POST /changes → queue → local host
// process → Graph) against the simulated tenant with Graph's documented limits under a time scale, then N updates
// of which 10 % really change. Prints figures; never asserts them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TableClient } from '@azure/data-tables';
import { QueueClient } from '@azure/storage-queue';
import { startAzurite } from '../dev/azurite.js';
import { DEV_TLS_DIR, REPO_ROOT } from '../dev/paths.js';
import { startSimulatedTenant } from '../dev/m365-sim/server.js';
import { ensureDevCertificates } from '../dev/tls/dev-certificates.js';
import type { RequestStats } from '../dev/m365-sim/request-log.js';
import { generateEncryptionKeyEntry } from '../shared/security/secret-cipher.js';
import { spawnReady } from '../test/support/spawn-ready.js';
import { DEFAULT_SEED, simControls } from '../test/support/simulated-tenant.js';

const WRITE_QUOTA = { writes: 3000, windowS: 150 };
const RU_BUDGET_LARGE = { units: 8000, windowS: 10 };

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

export async function run(): Promise<Record<string, unknown>> {
  const users = arg('users', 10_000);
  const timeScale = arg('time-scale', 10);
  const certs = await ensureDevCertificates(DEV_TLS_DIR);
  const azurite = await startAzurite();
  const { contoso } = DEFAULT_SEED;
  // The default seed, with Contoso as a large tenant (8,000 RU / 10 s) and a SKU with seats for everyone.
  const seed = JSON.parse(readFileSync(join(REPO_ROOT, 'dev', 'm365-sim', 'default-seed.json'), 'utf8')) as { tenants: { id: string; sizeClass?: string; subscribedSkus: unknown[] }[] };
  const tenant = seed.tenants.find((t) => t.id === contoso.tenantId)!;
  tenant.sizeClass = 'large';
  tenant.subscribedSkus.push({ skuId: 'bbbbbbbb-0000-4000-8000-00000000be3c', skuPartNumber: 'BENCH_E3', prepaidUnits: { enabled: users + 100 }, servicePlans: [] });
  const sim = await startSimulatedTenant({ tls: { cert: certs.serverCert, key: certs.serverKey }, seed: seed as never, timeScale, throttling: true });
  const controls = simControls(sim.url);
  const host = await spawnReady<{ hostUrl: string; functionKey: string }>('dev/host/main.ts', {
    PORT: '0',
    AzureWebJobsStorage: azurite.connectionString,
    SECRETS_ENCRYPTION_KEYS: generateEncryptionKeyEntry('bench'),
    GRAPH_THROTTLE_TIME_SCALE: String(timeScale),
    NODE_EXTRA_CA_CERTS: certs.caCertPath,
  });
  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${host.ready.hostUrl}${path}`, { method, headers: { 'x-functions-key': host.ready.functionKey, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  try {
    const { id: connectionId } = await api<{ id: string }>('POST', '/api/connections', {
      name: 'bench', tenantId: contoso.tenantId, domain: contoso.domain, clientId: contoso.fullApp.clientId, clientSecret: contoso.fullApp.secret,
      authorityHost: sim.authorityHost, graphEndpoint: sim.graphBaseUrl,
    });
    if ((await api<{ status: string }>('POST', `/api/connections/${connectionId}/test`)).status !== 'ready') throw new Error('connection not ready');
    const person = (i: number, jobTitle: string) => ({ userName: `bench${i}`, givenName: 'Bench', familyName: `User${i}`, active: true, jobTitle, usageLocation: 'US', password: 'Initial-Pa55word!' });

    const waves = [
      { name: `create ${users} licensed users`, changes: Array.from({ length: users }, (_, i) => ({ type: 'upsert', externalId: `b-${i}`, version: 1, attributes: person(i, 'Analyst'), licenses: ['BENCH_E3'] })) },
      { name: `update ${users} users, 10 % really changed`, changes: Array.from({ length: users }, (_, i) => ({ type: 'upsert', externalId: `b-${i}`, version: 2, attributes: person(i, i % 10 === 0 ? 'Senior Analyst' : 'Analyst'), licenses: ['BENCH_E3'] })) },
    ];
    const results: Record<string, unknown>[] = [];
    for (const wave of waves) {
      console.error(`\n${wave.name} (time scale ${timeScale}×)…`);
      await controls.clearRequests();
      const submittedAt = new Map<string, number>();
      const started = Date.now();
      for (let i = 0; i < wave.changes.length; i += 1000) {
        const sentAt = Date.now();
        const { operations } = await api<{ operations: { operationId: string }[] }>('POST', `/api/connections/${connectionId}/changes`, { changes: wave.changes.slice(i, i + 1000) });
        for (const op of operations) submittedAt.set(op.operationId, sentAt);
      }
      const queue = new QueueClient(azurite.connectionString, 'provisioning-operations');
      while ((await queue.getProperties()).approximateMessagesCount! > 0) await new Promise((r) => setTimeout(r, 500));
      const logs = TableClient.fromConnectionString(azurite.connectionString, 'provisioninglogs', { allowInsecureConnection: true });
      const latencies: number[] = [];
      const results_: Record<string, number> = {};
      let lastAt = started;
      for await (const e of logs.listEntities<{ operationId: string; time: string; result: string }>({ queryOptions: { filter: `PartitionKey eq '${connectionId}'` } })) {
        const sent = submittedAt.get(e.operationId);
        if (sent === undefined) continue;
        results_[e.result] = (results_[e.result] ?? 0) + 1;
        if (e.result === 'applied' || e.result === 'skipped') {
          const at = Date.parse(e.time);
          latencies.push(at - sent);
          lastAt = Math.max(lastAt, at);
        }
      }
      latencies.sort((a, b) => a - b);
      const stats = await (await fetch(`${sim.url}/_sim/stats`)).json() as RequestStats;
      const wallS = (lastAt - started) / 1000;
      const quotaPerS = (WRITE_QUOTA.writes / WRITE_QUOTA.windowS) * timeScale;
      const ruPerS = (RU_BUDGET_LARGE.units / RU_BUDGET_LARGE.windowS) * timeScale;
      // Busiest window of the quota's own length (150 s scaled): how close the pace came to the quota.
      const seconds = Object.entries(stats.writesPerSecond).map(([s, n]) => [Number(s), n] as const).sort((a, b) => a[0] - b[0]);
      const windowS = Math.max(1, Math.round(WRITE_QUOTA.windowS / timeScale));
      let peakWindow = 0;
      for (const [start] of seconds) peakWindow = Math.max(peakWindow, seconds.filter(([s]) => s >= start && s < start + windowS).reduce((n, [, w]) => n + w, 0));
      const writesPerUser = stats.graphWrites / wave.changes.length;
      const result = {
        wave: wave.name,
        operations: wave.changes.length,
        outcomes: results_,
        wallSeconds: round(wallS),
        operationsPerSecond: round(wave.changes.length / wallS),
        graphRequests: stats.graphRequests,
        graphWrites: stats.graphWrites,
        writesPerOperation: round(writesPerUser, 2),
        writesPerSecond: round(stats.graphWrites / wallS),
        writeQuotaUtilisation: round((stats.graphWrites / wallS / quotaPerS) * 100),
        peakWindowWriteQuotaUtilisation: round((peakWindow / (quotaPerS * windowS)) * 100),
        resourceUnitsPerSecond: round(stats.resourceUnits / wallS),
        ruBudgetUtilisation: round((stats.resourceUnits / wallS / ruPerS) * 100),
        throttled429: stats.throttled,
        throttledPercentOfRequests: round((stats.throttled / Math.max(1, stats.graphRequests)) * 100, 2),
        latencyMs: { p50: pct(latencies, 50), p95: pct(latencies, 95), p99: pct(latencies, 99) },
        // At real time scale the rate is the lower of what this machine sustained and what the quota allows.
        projection100kUsersRealTimeHours: writesPerUser > 0
          ? round(100_000 / Math.min(wave.changes.length / wallS, (WRITE_QUOTA.writes / WRITE_QUOTA.windowS) * 0.98 / writesPerUser) / 3600, 2)
          : null,
      };
      console.table(Object.fromEntries(Object.entries(result).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : v])));
      results.push(result);
    }
    const status = readFileSync(`/proc/${host.child.pid}/status`, 'utf8');
    const peakRssMb = Math.round(Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
    const stopped = new Promise<{ storageRequests: { table: number } } | undefined>((resolve) => {
      host.child.stdout!.on('data', (chunk: Buffer) => {
        const line = chunk.toString().split('\n').find((l) => l.includes('"stopped"'));
        if (line) resolve(JSON.parse(line));
      });
      host.child.once('exit', () => resolve(undefined));
    });
    host.child.kill('SIGTERM');
    const counts = await stopped;
    const totalOps = waves.reduce((n, w) => n + w.changes.length, 0);
    const summary = { timeScale, users, hostPeakRssMb: peakRssMb, tableTransactionsPerOperation: counts ? round(counts.storageRequests.table / totalOps, 2) : null };
    console.table(summary);
    return { ...summary, waves: results };
  } finally {
    await host.stop();
    await sim.close();
    await azurite.stop();
  }
}
