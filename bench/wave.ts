// The 10k wave (issue 6): N licensed creates pushed through the real path (POST /changes → queue → local host
// process → Graph) against the simulated tenant with Graph's documented limits under a time scale, then N updates
// of which 10 % really change. Prints figures; never asserts them.
// --licensing group (issue 16): the connection licenses through its licence group (licensingMode group): a wave
// ends when every user holds the licence (seats consumed, from the simulated tenant's controls), and its wall time
// runs to the last log record of the connection (the licence group's flushes included).
import { TableClient } from '@azure/data-tables';
import { QueueClient } from '@azure/storage-queue';
import {
  arg,
  BENCH_SKU,
  benchSeed,
  type HostStopped,
  option,
  pct,
  round,
  startBenchEnvironment,
} from './environment.js';

const WRITE_QUOTA = { writes: 3000, windowS: 150 };
const RU_BUDGET_LARGE = { units: 8000, windowS: 10 };

export async function run(): Promise<Record<string, unknown>> {
  const users = arg('users', 10_000);
  const timeScale = arg('time-scale', 10);
  const licensing = option('licensing') ?? 'direct';
  const hosts = arg('hosts', 1);
  if (licensing !== 'direct' && licensing !== 'group') throw new Error('--licensing is direct or group');
  const env = await startBenchEnvironment({
    timeScale,
    throttling: true,
    seed: benchSeed(users + 100),
    hosts,
  });
  const { azurite, controls } = env;
  try {
    const connectionId = await env.createReadyConnection();
    if (licensing === 'group')
      await env.api('PUT', `/api/connections/${connectionId}/settings`, { licensingMode: 'group' });
    const { DEFAULT_SEED } = await import('../test/support/simulated-tenant.js');
    /** Seats of the bench SKU in use (the simulated tenant's count, not a Graph request). */
    const seatsInUse = async () =>
      (await controls.skus(DEFAULT_SEED.contoso.tenantId)).find((s) => s.skuPartNumber === BENCH_SKU)!.consumed;
    const person = (i: number, jobTitle: string) => ({
      userName: `bench${i}`,
      givenName: 'Bench',
      familyName: `User${i}`,
      active: true,
      jobTitle,
      usageLocation: 'US',
      password: 'Initial-Pa55word!',
    });

    const waves = [
      {
        name: `create ${users} licensed users`,
        changes: Array.from({ length: users }, (_, i) => ({
          type: 'upsert',
          externalId: `b-${i}`,
          version: 1,
          attributes: person(i, 'Analyst'),
          licenses: [BENCH_SKU],
        })),
      },
      {
        name: `update ${users} users, 10 % really changed`,
        changes: Array.from({ length: users }, (_, i) => ({
          type: 'upsert',
          externalId: `b-${i}`,
          version: 2,
          attributes: person(i, i % 10 === 0 ? 'Senior Analyst' : 'Analyst'),
          licenses: [BENCH_SKU],
        })),
      },
    ];
    const results: Record<string, unknown>[] = [];
    for (const wave of waves) {
      console.error(`\n${wave.name} (time scale ${timeScale}×)…`);
      await controls.clearRequests();
      const submittedAt = new Map<string, number>();
      const started = Date.now();
      for (let i = 0; i < wave.changes.length; i += 1000) {
        const sentAt = Date.now();
        const { operations } = await env.api<{ operations: { operationId: string }[] }>(
          'POST',
          `/api/connections/${connectionId}/changes`,
          { changes: wave.changes.slice(i, i + 1000) },
        );
        for (const op of operations) submittedAt.set(op.operationId, sentAt);
      }
      const queue = new QueueClient(azurite.connectionString, 'provisioning-operations');
      while ((await queue.getProperties()).approximateMessagesCount! > 0) await new Promise((r) => setTimeout(r, 500));
      // Group licensing: Microsoft 365 gives the licence once the licence group's flushes added every member.
      let licensedAt: number | undefined;
      if (licensing === 'group' && wave === waves[0]) {
        while ((await seatsInUse()) < users) await new Promise((r) => setTimeout(r, 250));
        licensedAt = Date.now();
        while ((await queue.getProperties()).approximateMessagesCount! > 0)
          await new Promise((r) => setTimeout(r, 500));
      }
      const logs = TableClient.fromConnectionString(azurite.connectionString, 'provisioninglogs', {
        allowInsecureConnection: true,
      });
      const latencies: number[] = [];
      const results_: Record<string, number> = {};
      let lastAt = started;
      let flushes = 0;
      let lastUserAt = started;
      const flushLog: { at: number; reason: string }[] = [];
      const durations: number[] = [];
      for await (const e of logs.listEntities<{
        operationId: string;
        time: string;
        result: string;
        externalId: string;
        durationMs: number;
        reason?: string;
      }>({
        queryOptions: { filter: `PartitionKey eq '${connectionId}'` },
      })) {
        // The licence group's flushes (group licensing) belong to the wave they follow.
        if (e.externalId.startsWith('m365prov-lic-') && Date.parse(e.time) >= started) {
          flushes++;
          lastAt = Math.max(lastAt, Date.parse(e.time));
          flushLog.push({ at: round((Date.parse(e.time) - started) / 1000), reason: String(e.reason ?? '') });
        }
        const sent = submittedAt.get(e.operationId);
        if (sent === undefined) continue;
        results_[e.result] = (results_[e.result] ?? 0) + 1;
        durations.push(Number(e.durationMs));
        if (e.result === 'applied' || e.result === 'skipped') {
          const at = Date.parse(e.time);
          latencies.push(at - sent);
          lastAt = Math.max(lastAt, at);
          lastUserAt = Math.max(lastUserAt, at);
        }
      }
      latencies.sort((a, b) => a - b);
      // The licence group's last flushes, for the tail after the last user (stderr only).
      for (const f of flushLog.sort((a, b) => a.at - b.at).slice(-6))
        console.error(`  flush at ${f.at} s: ${f.reason}`);
      const stats = await env.simStats();
      const wallS = (lastAt - started) / 1000;
      const quotaPerS = (WRITE_QUOTA.writes / WRITE_QUOTA.windowS) * timeScale;
      const ruPerS = (RU_BUDGET_LARGE.units / RU_BUDGET_LARGE.windowS) * timeScale;
      // Busiest window of the quota's own length (150 s scaled): how close the pace came to the quota.
      const seconds = Object.entries(stats.writesPerSecond)
        .map(([s, n]) => [Number(s), n] as const)
        .sort((a, b) => a[0] - b[0]);
      const windowS = Math.max(1, Math.round(WRITE_QUOTA.windowS / timeScale));
      const writePhaseS = seconds.length ? seconds.at(-1)![0] - seconds[0]![0] + 1 : 0;
      let peakWindow = 0;
      for (const [start] of seconds)
        peakWindow = Math.max(
          peakWindow,
          seconds.filter(([s]) => s >= start && s < start + windowS).reduce((n, [, w]) => n + w, 0),
        );
      const writesPerUser = stats.graphWrites / wave.changes.length;
      const result = {
        wave: wave.name,
        licensing,
        ...(licensing === 'group'
          ? { licenceGroupFlushes: flushes, lastUserOperationSeconds: round((lastUserAt - started) / 1000) }
          : {}),
        ...(licensedAt !== undefined ? { allLicensedAfterSeconds: round((licensedAt - started) / 1000) } : {}),
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
        // From the first Graph write to the last (the submit and the final log records aside).
        writePhaseSeconds: writePhaseS,
        writePhaseQuotaUtilisation: round((stats.graphWrites / Math.max(1, writePhaseS) / quotaPerS) * 100),
        resourceUnitsPerSecond: round(stats.resourceUnits / wallS),
        ruBudgetUtilisation: round((stats.resourceUnits / wallS / ruPerS) * 100),
        throttled429: stats.throttled,
        throttledPercentOfRequests: round((stats.throttled / Math.max(1, stats.graphRequests)) * 100, 2),
        latencyMs: { p50: pct(latencies, 50), p95: pct(latencies, 95), p99: pct(latencies, 99) },
        operationDurationMs: (() => {
          const sorted = durations.sort((a, b) => a - b);
          return { p50: pct(sorted, 50), p95: pct(sorted, 95) };
        })(),
        // At real time scale the rate is the lower of what this machine sustained and what the quota allows.
        projection100kUsersRealTimeHours:
          writesPerUser > 0
            ? round(
                100_000 /
                  Math.min(
                    wave.changes.length / wallS,
                    ((WRITE_QUOTA.writes / WRITE_QUOTA.windowS) * 0.98) / writesPerUser,
                  ) /
                  3600,
                2,
              )
            : null,
      };
      console.table(
        Object.fromEntries(Object.entries(result).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : v])),
      );
      results.push(result);
    }
    const peakRssMb = env.hostPeakRssMb();
    const counts = await env.stopHost();
    const totalOps = waves.reduce((n, w) => n + w.changes.length, 0);
    const summary = {
      ...(licensing === 'group' || hosts > 1
        ? { resultName: `wave${licensing === 'group' ? '-group' : ''}${hosts > 1 ? `-${hosts}-hosts` : ''}` }
        : {}),
      timeScale,
      hosts,
      users,
      licensing,
      hostPeakRssMb: peakRssMb,
      tableTransactionsPerOperation: counts ? round(counts.storageRequests.table / totalOps, 2) : null,
      // Only the operations' own requests (not the API calls that submitted the changes), per kind of operation.
      tableTransactionsByOperationKind: counts ? perOperation(counts.byOperation) : null,
    };
    console.table(summary);
    if (summary.tableTransactionsByOperationKind) console.table(summary.tableTransactionsByOperationKind);
    return { ...summary, waves: results };
  } finally {
    await env.close();
  }
}

/** Table transactions per operation for each kind, and over all operations (amortised). */
function perOperation(byKind: HostStopped['byOperation']) {
  const all = Object.values(byKind).reduce(
    (t, k) => ({ operations: t.operations + k.operations, table: t.table + k.table }),
    {
      operations: 0,
      table: 0,
    },
  );
  return Object.fromEntries(
    [...Object.entries(byKind), ['all operations', all] as const].map(([kind, k]) => [
      kind,
      { operations: k.operations, tablePerOperation: round(k.table / Math.max(1, k.operations), 2) },
    ]),
  );
}
