// Reconciliation at scale (issue: "full reconcile of 100,000 users …; incremental after 1,000 changes"):
// the simulated tenant is seeded with N users and the directory (Table Storage) with N matching, linked, in-sync
// user rows; 1 % drift of mixed kinds is planted; a full round runs; then 1,000 accounts change in Microsoft 365
// and an incremental round runs; then 1,000 other accounts change in a property the mapping does not set (seen,
// no drift) and a third round runs. Azurite, the simulated tenant and each run are separate processes, so the run's
// CPU time and peak RSS are its own. Prints figures (and checks drift found = drift planted); asserts no timing.
//
//   npm run bench -- reconcile [--users 100000] [--drift 0.01] [--changes 1000] [--profile] [--source DIR]
//
// BENCH_RUN_NODE_ARGS (environment) adds node options to the run processes, e.g. --trace-gc.
// --source DIR measures the app as it is in another checkout (e.g. `git archive HEAD | tar -x -C DIR`): the run
// process is compiled from there (with this bench's reconcile-run.ts copied in), the rest of the bench is this one.
// --profile writes a V8 CPU profile of each run process to .local/bench-profiles/<round>-<time>/ (profiling
// inflates the run's CPU time: take figures from a run without it).
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { TableClient, type TransactionAction } from '@azure/data-tables';
import { QueueClient } from '@azure/storage-queue';
import type { RequestStats } from '../dev/m365-sim/request-log.js';
import { LOCAL_DIR, REPO_ROOT } from '../dev/paths.js';
import { type OperationMessage, PROVISIONING_QUEUE } from '../shared/domain/change.js';
import type { DesiredState } from '../shared/domain/desired-state.js';
import { applyMapping, DEFAULT_MAPPING } from '../shared/domain/mapping/mapping.js';
import { type DriftKind, newRunId, type ReconciliationRun, type RunRequest } from '../shared/domain/reconciliation.js';
import type { UserState } from '../shared/domain/user-state.js';
import { linkEntity, userEntity } from '../shared/storage/user-state-repository.table.js';
import { arg, option, round } from './environment.js';
import { startScaleTenant } from './scale-tenant.js';

const TARGETS = { fullCpuS: 60, fullPeakRssMb: 512, incrementalS: 5 };
/** Shares of the planted drift by kind (the rest of the drift fraction is never-linked users). */
const MIX = { profile: 0.4, enabled: 0.25, deleted: 0.25 } as const;

/** Kilobytes as whole megabytes. */
export const mb = (kb: number) => Math.round(kb / 1024);

/** Deterministic shuffle (mulberry32), so a given size always drifts the same users. */
export function shuffled(n: number, seed = 42): number[] {
  let s = seed;
  const rnd = () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

export async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

// CPU and memory of the other processes, from /proc (Linux).
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();
function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}
export function memoryKbOf(pid: number): { rssKb: number; peakRssKb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return {
    rssKb: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0),
    peakRssKb: Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0),
  };
}
interface RunOutput {
  run: ReconciliationRun;
  wallMs: number;
  cpuMs: { user: number; system: number; total: number };
  peakRssKb: number;
  rssBeforeKb: number;
  peakHeapUsedKb: number;
  tableRequests: number;
  threadCpuMs: Record<string, number>;
  waits: Record<string, { calls: number; ms: number }>;
}

export async function run(): Promise<Record<string, unknown>> {
  const users = arg('users', 100_000);
  const driftFraction = arg('drift', 0.01);
  const changes = arg('changes', 1000);
  const profile = process.argv.includes('--profile');
  const sourceArg = option('source');

  // The run process executes compiled JavaScript, as the Functions host does (under tsx it would carry the loader
  // thread and ~60 MB of transpiler state). Compiled now, so edits made while the bench seeds do not leak into it.
  const sourceRoot = sourceArg ? resolve(sourceArg) : REPO_ROOT;
  const runScript = compileRunScript(sourceRoot);

  const tenant = await startScaleTenant(users, 'bench-reconcile');
  const { azurite, sim, controls, encryptionKeys, conn, graph, accounts, otherAccounts } = tenant;
  const simUrl = sim.ready.graphBaseUrl;
  const azuritePidValue = tenant.azuritePid;
  const simPid = sim.child.pid!;
  try {
    // --- Plan the drift: disjoint sets of users per kind, and the users the incremental round will see change.
    const order = shuffled(users);
    const driftTotal = Math.round(users * driftFraction);
    const planted: Record<'profile' | 'enabled' | 'deleted' | 'neverLinked', number> = {
      profile: Math.round(driftTotal * MIX.profile),
      enabled: Math.round(driftTotal * MIX.enabled),
      deleted: Math.round(driftTotal * MIX.deleted),
      neverLinked: 0,
    };
    planted.neverLinked = driftTotal - planted.profile - planted.enabled - planted.deleted;
    const pick = (() => {
      let at = 0;
      return (n: number) => order.slice(at, (at += n));
    })();
    const sets = {
      profile: pick(planted.profile),
      enabled: pick(planted.enabled),
      deleted: pick(planted.deleted),
      neverLinked: pick(planted.neverLinked),
    };
    const changed = pick(changes);
    // A third round: as many changes to a property the mapping does not set (officeLocation): examined, no drift.
    const changedNoDrift = pick(changes);
    if (changedNoDrift.length !== changes) throw new Error(`--changes ${changes} needs more users outside the drift`);
    const neverLinked = new Set(sets.neverLinked);

    // --- Seed the directory: N rows whose desired state maps to exactly what the tenant holds, in sync and
    // linked (the never-linked ones without a link), plus the link index, in entity-group transactions.
    const now = Date.now();
    const longAgo = new Date(now - 24 * 3600_000).toISOString();
    const externalId = (i: number) => `emp-${String(i).padStart(7, '0')}`;
    const stateOf = (i: number, linked: boolean): UserState => {
      const a = accounts[i]!;
      // Source attributes the default mapping turns into the generated account's values (jobTitle: none at the source).
      const attributes = {
        userName: a.mailNickname,
        displayName: a.displayName,
        givenName: a.givenName,
        familyName: a.surname,
        email: a.mail,
        employeeId: a.employeeId,
        jobTitle: null,
        active: true,
      };
      const lastChange: OperationMessage = {
        type: 'upsert',
        connectionId: conn.id,
        externalId: externalId(i),
        version: 1,
        operationId: `seed-${i}`,
        occurredAt: longAgo,
        attributes,
      };
      const desired: DesiredState = {
        profile: { version: 1, attributes },
        lifecycle: { version: 1, state: 'active', explicit: true },
      };
      return {
        connectionId: conn.id,
        externalId: externalId(i),
        desired,
        lastChange,
        appliedVersion: 1,
        appliedDesired: { profile: 1, lifecycle: 1 },
        ...(linked
          ? {
              objectId: a.id,
              userPrincipalName: a.userPrincipalName,
              lastApplied: applyMapping(DEFAULT_MAPPING, attributes, { domain: conn.domain }, 'update').values,
            }
          : {}),
        status: linked ? 'applied' : 'skipped',
        ...(linked ? {} : { statusReason: 'Creating accounts is off for this connection' }),
        lastOperationId: `seed-${i}`,
        ownedLicenses: [],
        createdAt: longAgo,
        updatedAt: longAgo,
      };
    };
    const usersTable = TableClient.fromConnectionString(azurite.connectionString, 'users', {
      allowInsecureConnection: true,
    });
    await usersTable.createTable();
    const writeRows = async (indexes: number[], linkedOf: (i: number) => boolean, kind: 'create' | 'upsert') => {
      const userBatches: TransactionAction[][] = [];
      const linkBatches: TransactionAction[][] = [];
      const linkedIndexes = indexes.filter(linkedOf);
      for (let b = 0; b < indexes.length; b += 100) {
        userBatches.push(
          indexes
            .slice(b, b + 100)
            .map((i): TransactionAction =>
              kind === 'create'
                ? ['create', userEntity(stateOf(i, linkedOf(i)))]
                : ['upsert', userEntity(stateOf(i, linkedOf(i))), 'Replace'],
            ),
        );
      }
      for (let b = 0; b < linkedIndexes.length; b += 100) {
        // Link rows are always new here ('create': Azurite's upsert inside a transaction is several times slower).
        linkBatches.push(
          linkedIndexes
            .slice(b, b + 100)
            .map((i): TransactionAction => ['create', linkEntity(conn.id, accounts[i]!.id, externalId(i))]),
        );
      }
      const all = [...linkBatches, ...userBatches];
      let written = 0;
      const startedAt = performance.now();
      await inParallel(all, 4, async (batch) => {
        await usersTable.submitTransaction(batch);
        // Stock Azurite checks each insert against its whole partition (see bench/azurite-seed-preload.mjs).
        if (++written % 100 === 0 || written === all.length)
          console.error(
            `  ${written}/${all.length} transactions, ${Math.round((performance.now() - startedAt) / 1000)} s`,
          );
      });
    };
    console.error(`seeding ${users} directory rows (${users - planted.neverLinked} linked) in Table Storage…`);
    let t = performance.now();
    await writeRows(
      Array.from({ length: users }, (_, i) => i),
      (i) => !neverLinked.has(i),
      'create',
    );
    const directorySeedS = (performance.now() - t) / 1000;
    if (azuritePidValue) process.kill(azuritePidValue, 'SIGUSR2'); // stock Azurite from here on

    // --- Plant the drift in Microsoft 365, with the real Graph client (an admin's hand edits).
    console.error(`planting drift: ${JSON.stringify(planted)}…`);
    t = performance.now();
    await inParallel(sets.profile, 16, (i) =>
      graph.api(`/users/${accounts[i]!.id}`).patch({ jobTitle: 'Edited by hand' }),
    );
    await inParallel(sets.enabled, 16, (i) => graph.api(`/users/${accounts[i]!.id}`).patch({ accountEnabled: false }));
    await inParallel(sets.deleted, 16, (i) => graph.api(`/users/${accounts[i]!.id}`).delete());
    const plantS = (performance.now() - t) / 1000;

    const queue = new QueueClient(azurite.connectionString, PROVISIONING_QUEUE);
    await queue.createIfNotExists();
    const profileDir = join(LOCAL_DIR, 'bench-profiles');
    if (profile) mkdirSync(profileDir, { recursive: true });

    /** One run in its own process, with the simulator's counters and the other processes' CPU around it. */
    const measuredRun = async (label: string) => {
      await queue.clearMessages();
      await controls.settings({ throttling: true }); // Graph's documented limits, real time scale; also counts RU
      await controls.clearRequests();
      const request: RunRequest = {
        connectionId: conn.id,
        runId: newRunId(new Date()),
        trigger: 'manual',
        dryRun: false,
        full: false,
        requestedAt: new Date().toISOString(),
      };
      const before = { azurite: azuritePidValue ? cpuMsOf(azuritePidValue) : 0, sim: cpuMsOf(simPid) };
      console.error(`${label}: running reconciliation (own process)…`);
      const started = performance.now();
      const out = await runChild(
        runScript,
        request,
        {
          AzureWebJobsStorage: azurite.connectionString,
          SECRETS_ENCRYPTION_KEYS: encryptionKeys,
        },
        [
          ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, `${label}-${Date.now()}`)}`] : []),
          ...(process.env.BENCH_RUN_NODE_ARGS ?? '').split(' ').filter(Boolean),
        ],
      );
      const processWallS = (performance.now() - started) / 1000;
      const after = { azurite: azuritePidValue ? cpuMsOf(azuritePidValue) : 0, sim: cpuMsOf(simPid) };
      const stats = (await (await fetch(`${simUrl}/_sim/stats`)).json()) as RequestStats;
      const queued = (await queue.getProperties()).approximateMessagesCount ?? 0;
      await controls.settings({ throttling: false });
      return {
        out,
        processWallS,
        azuriteCpuS: round((after.azurite - before.azurite) / 1000, 2),
        simCpuS: round((after.sim - before.sim) / 1000, 2),
        simGraphRequests: stats.graphRequests,
        simResourceUnits: stats.resourceUnits,
        simThrottled: stats.throttled,
        queuedMessages: queued,
      };
    };

    // --- Full round (the connection's first run: no delta link yet).
    const full = await measuredRun('full');
    const fullFound = full.out.run.drift;

    // --- Between the runs, the executor would have linked the never-linked users (adopting their accounts by
    // UPN); the bench plays that part so the incremental round starts from a settled directory.
    await writeRows(sets.neverLinked, () => true, 'upsert');

    // --- Changes in Microsoft 365, then the incremental round.
    console.error(`changing ${changes} accounts in Microsoft 365 (jobTitle)…`);
    await inParallel(changed, 16, (i) =>
      graph.api(`/users/${accounts[i]!.id}`).patch({ jobTitle: 'Changed in Microsoft 365' }),
    );
    const incremental = await measuredRun('incremental');
    const incrementalFound = incremental.out.run.drift;
    console.error(`changing ${changes} other accounts in Microsoft 365 (officeLocation, not mapped: no drift)…`);
    await inParallel(changedNoDrift, 16, (i) =>
      graph.api(`/users/${accounts[i]!.id}`).patch({ officeLocation: 'Moved in Microsoft 365' }),
    );
    const quiet = await measuredRun('incremental-no-drift');

    // --- Checks: drift found = drift planted, per kind.
    const expectFull: Partial<Record<DriftKind, number>> = { ...planted };
    const expectIncremental: Partial<Record<DriftKind, number>> = { profile: changes };
    const mismatches = (found: Record<DriftKind, number>, expected: Partial<Record<DriftKind, number>>) =>
      (Object.keys(found) as DriftKind[])
        .filter((k) => found[k] !== (expected[k] ?? 0))
        .map((k) => `${k}: found ${found[k]}, planted ${expected[k] ?? 0}`);
    const checks = {
      full: mismatches(fullFound, expectFull),
      incremental: mismatches(incrementalFound, expectIncremental),
      incrementalNoDrift: mismatches(quiet.out.run.drift, {}),
    };
    const figures = (m: Awaited<ReturnType<typeof measuredRun>>, expected: Partial<Record<DriftKind, number>>) => ({
      round: m.out.run.deltaRound,
      status: m.out.run.status,
      errors: m.out.run.errors,
      wallS: round(m.out.wallMs / 1000, 2),
      cpuS: round(m.out.cpuMs.total / 1000, 2),
      cpuUserS: round(m.out.cpuMs.user / 1000, 2),
      cpuSystemS: round(m.out.cpuMs.system / 1000, 2),
      peakRssMb: mb(m.out.peakRssKb),
      rssBeforeRunMb: mb(m.out.rssBeforeKb),
      peakHeapUsedMb: mb(m.out.peakHeapUsedKb),
      graphRequests: m.out.run.graphRequests,
      simGraphRequests: m.simGraphRequests,
      resourceUnits: m.simResourceUnits,
      throttled429: m.simThrottled,
      tableRequests: m.out.tableRequests,
      threadCpuMs: m.out.threadCpuMs,
      examined: m.out.run.examined,
      driftPlanted: Object.fromEntries(Object.entries(expected).filter(([, n]) => n)),
      driftFound: Object.fromEntries(Object.entries(m.out.run.drift).filter(([, n]) => n)),
      unmatched: m.out.run.unmatched,
      enqueued: m.out.run.enqueued,
      queuedMessages: m.queuedMessages,
      azuriteCpuS: m.azuriteCpuS,
      simulatorCpuS: m.simCpuS,
      waitsMs: m.out.waits,
    });
    const result = {
      code: codeState(sourceRoot),
      users,
      driftFraction,
      changes,
      otherTenantAccounts: otherAccounts,
      setup: { directorySeedS: round(directorySeedS), plantDriftS: round(plantS) },
      full: figures(full, expectFull),
      incremental: figures(incremental, expectIncremental),
      incrementalNoDrift: figures(quiet, {}),
      targets: {
        fullCpu: `${round(full.out.cpuMs.total / 1000)} s of ≤ ${TARGETS.fullCpuS} s: ${full.out.cpuMs.total / 1000 <= TARGETS.fullCpuS ? 'met' : 'MISSED'}`,
        fullPeakRss: `${mb(full.out.peakRssKb)} MB of ≤ ${TARGETS.fullPeakRssMb} MB: ${mb(full.out.peakRssKb) <= TARGETS.fullPeakRssMb ? 'met' : 'MISSED'}`,
        incrementalWall: `${round(incremental.out.wallMs / 1000, 2)} s of ≤ ${TARGETS.incrementalS} s: ${incremental.out.wallMs / 1000 <= TARGETS.incrementalS ? 'met' : 'MISSED'}`,
      },
      checks: Object.values(checks).every((c) => c.length === 0)
        ? 'drift found = drift planted (every kind, every round)'
        : checks,
      azuriteMemoryMb: azuritePidValue ? mb(memoryKbOf(azuritePidValue).rssKb) : null,
      simulatorMemoryMb: mb(memoryKbOf(simPid).rssKb),
    };

    const row = (name: string, f: (m: ReturnType<typeof figures>) => unknown) =>
      [
        name,
        {
          full: f(result.full),
          incremental: f(result.incremental),
          'incremental, no drift': f(result.incrementalNoDrift),
        },
      ] as const;
    console.log(
      `\nReconciliation of ${users} users (${driftFraction * 100} % drift planted; then ${changes} changes in Microsoft 365 that drift; then ${changes} that do not):`,
    );
    console.table(
      Object.fromEntries([
        row('delta round', (m) => m.round?.kind),
        row('wall time (s)', (m) => m.wallS),
        row('CPU time (s)', (m) => `${m.cpuS} (user ${m.cpuUserS}, sys ${m.cpuSystemS})`),
        row(
          'peak RSS (MB)',
          (m) => `${m.peakRssMb} (${m.rssBeforeRunMb} before the run; heap used ≤ ${m.peakHeapUsedMb})`,
        ),
        row('Graph requests', (m) => `${m.graphRequests} (simulator saw ${m.simGraphRequests})`),
        row('resource units', (m) => m.resourceUnits),
        row('429 answers', (m) => m.throttled429),
        row('Table requests', (m) => m.tableRequests),
        row('examined M365 / directory', (m) => `${m.examined.microsoft365} / ${m.examined.directory}`),
        row('drift planted', (m) => JSON.stringify(m.driftPlanted)),
        row('drift found', (m) => JSON.stringify(m.driftFound)),
        row('unmatched accounts', (m) => m.unmatched),
        row('enqueued (queue messages)', (m) => `${m.enqueued} (${m.queuedMessages})`),
        row('Azurite CPU (s)', (m) => m.azuriteCpuS),
        row('simulator CPU (s)', (m) => m.simulatorCpuS),
      ]),
    );
    console.table(result.targets);
    console.log(typeof result.checks === 'string' ? result.checks : `DRIFT MISMATCH: ${JSON.stringify(result.checks)}`);
    console.log(JSON.stringify({ event: 'summary', scenario: 'reconcile', ...result }));
    return result;
  } finally {
    await tenant.stop();
    rmSync(join(runScript, '..', '..'), { recursive: true, force: true });
  }
}

/** The commit measured, and the files of the app that differed from it (others edit the same working tree). */
export function codeState(sourceRoot: string): { source: string; head: string; uncommitted: string[] } {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: REPO_ROOT }).toString();
  const source = sourceRoot === REPO_ROOT ? 'working tree' : sourceRoot;
  try {
    const uncommitted =
      sourceRoot === REPO_ROOT
        ? git('status', '--porcelain', '--', 'shared', 'functions')
            .split('\n')
            .filter(Boolean)
            .map((l) => l.slice(3))
        : [];
    return {
      source,
      head: sourceRoot === REPO_ROOT ? git('rev-parse', '--short', 'HEAD').trim() : 'see source',
      uncommitted,
    };
  } catch {
    return { source, head: 'unknown', uncommitted: [] };
  }
}

/** bench/<script>.ts (reconcile-run by default) and what it imports, compiled (no type check) to .local/bench-dist-<pid>/; answers the script. */
export function compileRunScript(sourceRoot: string, script = 'reconcile-run'): string {
  const outDir = join(LOCAL_DIR, `bench-dist-${process.pid}`);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  // The run script is always this bench's (its output must match what the bench reads).
  if (sourceRoot !== REPO_ROOT)
    copyFileSync(join(REPO_ROOT, 'bench', `${script}.ts`), join(sourceRoot, 'bench', `${script}.ts`));
  const tsconfig = join(outDir, 'tsconfig.json');
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: join(sourceRoot, 'tsconfig.json'),
      compilerOptions: { noEmit: false, noCheck: true, sourceMap: false, rootDir: sourceRoot, outDir },
      files: [join(sourceRoot, 'bench', `${script}.ts`)],
      include: [],
    }),
  );
  execFileSync(process.execPath, [createRequire(import.meta.url).resolve('typescript/bin/tsc'), '-p', tsconfig], {
    stdio: 'inherit',
  });
  return join(outDir, 'bench', `${script}.js`);
}

/** Runs the compiled reconcile-run script in a new process and answers its result line. */
function runChild(
  script: string,
  request: RunRequest,
  env: Record<string, string>,
  nodeArgs: string[],
): Promise<RunOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, script], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env, BENCH_RUN_REQUEST: JSON.stringify(request) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      const lines = stdout.split('\n');
      const line = lines.find((l) => l.startsWith('{"event":"done"'));
      // Anything else it printed (e.g. --trace-gc lines from BENCH_RUN_NODE_ARGS) goes to stderr.
      const other = lines.filter((l) => l && l !== line);
      if (other.length) process.stderr.write(`${other.join('\n')}\n`);
      if (code !== 0 || !line) reject(new Error(`reconcile run process exited with ${code}:\n${stdout}`));
      else resolve(JSON.parse(line) as RunOutput);
    });
  });
}
