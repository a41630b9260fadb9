// Import at scale (issue 19: "import at 100,000 accounts: ≤ 512 MB"): the simulated tenant is seeded with N users
// and the directory (Table Storage) with rows for most of them, as the executor leaves them (desired state, last
// change, last applied values) — linked and in sync, matched by the matching attribute only (no link), or planted
// to fall in a list: no row (new), another displayName (update), inactive in the directory (activate), disabled in
// Microsoft 365 (deactivate). Then GET …/import's use case runs in a process
// of its own (bench/import-run.ts: the first page of each list, then every list with more than one page, page by
// page), so its wall time, CPU time and peak RSS are the import's alone. Checks counts = planted; asserts no timing.
//
//   npm run bench -- import [--users 100000] [--limit 1000] [--source DIR]
//
// --source DIR measures the use case as it is in another checkout (as bench/reconcile.ts does), e.g. before a change.
//
// BENCH_RUN_NODE_ARGS (environment) adds node options to the preview process, e.g. --max-old-space-size=256.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TableClient, type TransactionAction } from '@azure/data-tables';
import { REPO_ROOT } from '../dev/paths.js';
import type { OperationMessage } from '../shared/domain/change.js';
import { applyMapping, DEFAULT_MAPPING } from '../shared/domain/mapping/mapping.js';
import type { UserState } from '../shared/domain/user-state.js';
import { linkEntity, userEntity } from '../shared/storage/user-state-repository.table.js';
import { arg, option, round } from './environment.js';
import { codeState, compileRunScript, inParallel, mb, memoryKbOf, shuffled } from './reconcile.js';
import { startScaleTenant } from './scale-tenant.js';

const TARGET_PEAK_RSS_MB = 512;
/** Shares of the accounts planted in each list (and matched by the matching attribute only, without a link). */
const PLANT = { new: 0.02, update: 0.02, activate: 0.005, deactivate: 0.005, matchedOnly: 0.1 } as const;

interface ImportRunOutput {
  counts: Record<string, number>;
  listed: Record<string, number>;
  calls: { query: string; ms: number }[];
  wallMs: number;
  cpuMs: { user: number; system: number };
  peakRssKb: number;
  rssBeforeKb: number;
  peakHeapUsedKb: number;
  tableRequests: number;
}

export async function run(): Promise<Record<string, unknown>> {
  const users = arg('users', 100_000);
  const limit = arg('limit', 1000);
  const source = option('source');
  const sourceRoot = source ? resolve(source) : REPO_ROOT;
  const runScript = compileRunScript(sourceRoot, 'import-run');

  const tenant = await startScaleTenant(users, 'bench-import');
  const { azurite, sim, controls, encryptionKeys, conn, graph, accounts, otherAccounts } = tenant;
  const azuritePidValue = tenant.azuritePid;
  try {
    // --- Which accounts fall in which list (disjoint, deterministic).
    const order = shuffled(users);
    let at = 0;
    const pick = (share: number) => new Set(order.slice(at, (at += Math.round(users * share))));
    const sets = {
      new: pick(PLANT.new),
      update: pick(PLANT.update),
      activate: pick(PLANT.activate),
      deactivate: pick(PLANT.deactivate),
      matchedOnly: pick(PLANT.matchedOnly),
    };

    // --- The directory: a row per account but the new ones, whose desired state maps to what the tenant holds
    // (but for the planted differences), plus the link index, in entity-group transactions.
    const longAgo = new Date(Date.now() - 24 * 3600_000).toISOString();
    const stateOf = (i: number): UserState => {
      const a = accounts[i]!;
      const linked = !sets.matchedOnly.has(i);
      const attributes = {
        userName: a.mailNickname,
        displayName: sets.update.has(i) ? `${a.displayName} (directory)` : a.displayName,
        givenName: a.givenName,
        familyName: a.surname,
        email: a.mail,
        employeeId: a.employeeId,
        jobTitle: null,
        active: !sets.activate.has(i),
      };
      const state = sets.activate.has(i) ? 'inactive' : 'active';
      const externalId = `emp-${String(i).padStart(7, '0')}`;
      // What the executor keeps too: the last change received and the values it last applied.
      const lastChange: OperationMessage = {
        type: 'upsert',
        connectionId: conn.id,
        externalId,
        version: 1,
        operationId: `seed-${i}`,
        occurredAt: longAgo,
        attributes,
      };
      return {
        connectionId: conn.id,
        externalId,
        desired: { profile: { version: 1, attributes }, lifecycle: { version: 1, state, explicit: true } },
        lastChange,
        lastOperationId: `seed-${i}`,
        appliedVersion: 1,
        appliedDesired: { profile: 1, lifecycle: 1 },
        ...(linked
          ? {
              objectId: a.id,
              claimedObjectId: a.id,
              userPrincipalName: a.userPrincipalName,
              lastApplied: applyMapping(DEFAULT_MAPPING, attributes, { domain: conn.domain }, 'update').values,
            }
          : {}),
        status: linked ? 'applied' : 'skipped',
        ownedLicenses: [],
        createdAt: longAgo,
        updatedAt: longAgo,
      };
    };
    const rows = order.filter((i) => !sets.new.has(i)).sort((x, y) => x - y);
    const batches: TransactionAction[][] = [];
    for (let b = 0; b < rows.length; b += 100) {
      const slice = rows.slice(b, b + 100);
      batches.push(slice.map((i): TransactionAction => ['create', userEntity(stateOf(i))]));
      const links = slice.filter((i) => !sets.matchedOnly.has(i));
      if (links.length)
        batches.push(
          links.map((i) => ['create', linkEntity(conn.id, accounts[i]!.id, `emp-${String(i).padStart(7, '0')}`)]),
        );
    }
    const usersTable = TableClient.fromConnectionString(azurite.connectionString, 'users', {
      allowInsecureConnection: true,
    });
    await usersTable.createTable();
    console.error(`seeding ${rows.length} directory rows in Table Storage…`);
    let t = performance.now();
    await inParallel(batches, 4, (batch) => usersTable.submitTransaction(batch));
    const directorySeedS = round((performance.now() - t) / 1000);
    if (azuritePidValue) process.kill(azuritePidValue, 'SIGUSR2'); // stock Azurite from here on
    await inParallel([...sets.deactivate], 16, (i) =>
      graph.api(`/users/${accounts[i]!.id}`).patch({ accountEnabled: false }),
    );

    // --- The preview, in its own process, at Graph's documented limits.
    await controls.settings({ throttling: true });
    await controls.clearRequests();
    console.error('previewing the import (own process)…');
    t = performance.now();
    const out = await runChild(runScript, {
      AzureWebJobsStorage: azurite.connectionString,
      SECRETS_ENCRYPTION_KEYS: encryptionKeys,
      BENCH_CONNECTION_ID: conn.id,
      BENCH_IMPORT_LIMIT: String(limit),
    });
    const processWallS = round((performance.now() - t) / 1000);
    const stats = (await (await fetch(`${sim.ready.graphBaseUrl}/_sim/stats`)).json()) as {
      graphRequests: number;
      throttled: number;
    };

    const planted = {
      new: sets.new.size + otherAccounts,
      update: sets.update.size,
      activate: sets.activate.size,
      deactivate: sets.deactivate.size,
    };
    const mismatches = Object.entries(planted)
      .filter(([list, n]) => out.counts[list] !== n || out.listed[list] !== n)
      .map(([list, n]) => `${list}: counted ${out.counts[list]}, listed ${out.listed[list]}, planted ${n}`);
    const peakRssMb = mb(out.peakRssKb);
    const result = {
      code: codeState(sourceRoot),
      nodeArgs: process.env.BENCH_RUN_NODE_ARGS ?? '',
      users,
      limit,
      otherTenantAccounts: otherAccounts,
      directoryRows: rows.length,
      matchedWithoutLink: sets.matchedOnly.size,
      setup: { directorySeedS },
      planted,
      counts: out.counts,
      previewCalls: out.calls.length,
      wallS: round(out.wallMs / 1000, 2),
      processWallS,
      cpuS: round((out.cpuMs.user + out.cpuMs.system) / 1000, 2),
      peakRssMb,
      rssBeforeMb: mb(out.rssBeforeKb),
      peakHeapUsedMb: mb(out.peakHeapUsedKb),
      tableRequests: out.tableRequests,
      simGraphRequests: stats.graphRequests,
      throttled429: stats.throttled,
      callsMs: out.calls,
      target: `${peakRssMb} MB of ≤ ${TARGET_PEAK_RSS_MB} MB: ${peakRssMb <= TARGET_PEAK_RSS_MB ? 'met' : 'MISSED'}`,
      checks: mismatches.length ? mismatches : 'counts = listed = planted (every list)',
      azuriteMemoryMb: azuritePidValue ? mb(memoryKbOf(azuritePidValue).rssKb) : null,
    };
    console.log(`\nImport preview at ${users} accounts (${out.calls.length} GET …/import calls, limit ${limit}):`);
    console.table({
      'wall time (s)': result.wallS,
      'CPU time (s)': result.cpuS,
      'peak RSS (MB)': `${peakRssMb} (${result.rssBeforeMb} before; heap used ≤ ${result.peakHeapUsedMb})`,
      'Table requests': result.tableRequests,
      'Graph requests (429)': `${result.simGraphRequests} (${result.throttled429})`,
      counts: JSON.stringify(result.counts),
      target: result.target,
    });
    console.log(typeof result.checks === 'string' ? result.checks : `MISMATCH: ${JSON.stringify(result.checks)}`);
    return result;
  } finally {
    await tenant.stop();
    rmSync(join(runScript, '..', '..'), { recursive: true, force: true });
  }
}

/** Runs the compiled import-run script in a new process and answers its result line. */
function runChild(script: string, env: Record<string, string>): Promise<ImportRunOutput> {
  return new Promise((resolve, reject) => {
    const nodeArgs = (process.env.BENCH_RUN_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const child = spawn(process.execPath, [...nodeArgs, script], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith('{"event":"done"'));
      if (code !== 0 || !line) reject(new Error(`import run process exited with ${code}:\n${stdout}`));
      else resolve(JSON.parse(line) as ImportRunOutput);
    });
  });
}
