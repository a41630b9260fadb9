// One reconciliation run in a process of its own (started by bench/reconcile.ts), so that its CPU time and peak
// RSS are the run's alone: the deps are the app's composition root (functions/services.ts), as the
// reconcile-run queue function uses them. Input: BENCH_RUN_REQUEST (a RunRequest as JSON) plus the app's settings
// in the environment. Output: one JSON line {"event":"done",…} on stdout.
// The deps are wrapped only to time where the run waits (Table scan pages, Graph pages, queue, run store).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { services } from '../functions/services.js';
import { runRequestSchema } from '../shared/domain/reconciliation.js';
import type { TenantGateway, TenantGatewayFactory, UserStateRepository } from '../shared/provisioning/ports.js';
import { type ReconcileDeps, runReconciliation } from '../shared/provisioning/reconcile/run.js';
import { storageRequestCounts } from '../shared/storage/storage-clients.js';

const timings: Record<string, { calls: number; ms: number }> = {};
const add = (name: string, since: number) => {
  const t = (timings[name] ??= { calls: 0, ms: 0 });
  t.calls++;
  t.ms += performance.now() - since;
};
async function timed<T>(name: string, work: () => Promise<T>): Promise<T> {
  const t = performance.now();
  try {
    return await work();
  } finally {
    add(name, t);
  }
}

/** `target` with the named async methods timed (the rest delegate to it). */
function timeMethods<T extends object>(prefix: string, target: T, names: (keyof T & string)[]): T {
  const wrapped = Object.create(target) as T;
  for (const name of names) {
    const original = (target[name] as (...args: unknown[]) => Promise<unknown>).bind(target);
    (wrapped as Record<string, unknown>)[name] = (...args: unknown[]) =>
      timed(`${prefix}.${name}`, () => original(...args));
  }
  return wrapped;
}

function timedUsers(users: UserStateRepository): UserStateRepository {
  const wrapped = timeMethods('users', users, ['get', 'findByObjectId', 'listNeedingAttention']);
  wrapped.scan = async function* (connectionId: string) {
    const pages = users.scan(connectionId)[Symbol.asyncIterator]();
    for (;;) {
      const t = performance.now();
      const next = await pages.next();
      add('users.scan (page read + parse)', t);
      if (next.done) return;
      yield next.value;
    }
  };
  return wrapped;
}

const timedTenants = (tenants: TenantGatewayFactory): TenantGatewayFactory => ({
  writesPerSecond: (connection) => tenants.writesPerSecond(connection),
  forConnection: (...args) => {
    const inner = tenants.forConnection(...args);
    const gateway: TenantGateway = {
      ...inner,
      users: timeMethods('graph', inner.users, ['usersDeltaPage']),
      licenses: timeMethods('graph', inner.licenses, ['subscribedSkus']),
    };
    // BENCH_HEAP_SNAPSHOT=<dir>: a heap snapshot when the first delta page is asked for (a full round has just
    // read the whole directory then). For diagnosis only: it takes seconds and doubles the memory.
    const snapshotDir = process.env.BENCH_HEAP_SNAPSHOT;
    if (snapshotDir) {
      const first = gateway.users.usersDeltaPage.bind(gateway.users);
      let taken = false;
      gateway.users.usersDeltaPage = (...a) => {
        if (!taken) {
          taken = true;
          console.error(
            `heap snapshot: ${writeHeapSnapshot(join(snapshotDir, `reconcile-${Date.now()}.heapsnapshot`))}`,
          );
        }
        return first(...a);
      };
    }
    return gateway;
  },
});

/** CPU ms per thread name (Linux /proc): the main thread's share of the process's CPU, GC helpers, libuv pool. */
function threadCpuMs(): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out[name] = (out[name] ?? 0) + ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // USER_HZ, 100 on Linux
    }
  } catch {
    // not Linux
  }
  return out;
}

const request = runRequestSchema.parse(JSON.parse(process.env.BENCH_RUN_REQUEST ?? '{}'));
const app = services();
const deps: ReconcileDeps = {
  ...app,
  users: timedUsers(app.users),
  tenants: timedTenants(app.tenants),
  queue: timeMethods('queue', app.queue, ['enqueue']),
  reconciliation: timeMethods('runStore', app.reconciliation, ['appendItems', 'saveRun', 'saveState', 'getState']),
};

// Everything before this line (module loading, tsx compiling) is not the run's.
const rssBeforeKb = Math.round(process.memoryUsage().rss / 1024);
const tableBefore = storageRequestCounts.table;
// The V8 heap in use, sampled: how much of the peak RSS is live data and how much garbage not yet collected.
let peakHeapUsed = 0;
const sampler = setInterval(() => (peakHeapUsed = Math.max(peakHeapUsed, process.memoryUsage().heapUsed)), 50);
const threadsBefore = threadCpuMs();
const cpu = process.cpuUsage();
const started = performance.now();
const run = await runReconciliation(deps, request);
const wallMs = performance.now() - started;
const used = process.cpuUsage(cpu);
clearInterval(sampler);
const result = {
  event: 'done',
  run,
  wallMs: Math.round(wallMs),
  cpuMs: {
    user: Math.round(used.user / 1000),
    system: Math.round(used.system / 1000),
    total: Math.round((used.user + used.system) / 1000),
  },
  // maxRSS is the peak resident set of this process (KB on Linux), start-up included.
  peakRssKb: process.resourceUsage().maxRSS,
  rssBeforeKb,
  peakHeapUsedKb: Math.round(peakHeapUsed / 1024),
  tableRequests: storageRequestCounts.table - tableBefore,
  threadCpuMs: Object.fromEntries(
    Object.entries(threadCpuMs())
      .map(([k, v]): [string, number] => [k, Math.round(v - (threadsBefore[k] ?? 0))])
      .filter(([, v]) => Number(v) > 0),
  ),
  waits: Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, { calls: v.calls, ms: Math.round(v.ms) }])),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
// Lingering keep-alive sockets must not hold the process (and the next measurement) open.
process.exit(0);
