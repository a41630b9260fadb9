// `npm run bench [-- <scenario> …]`: benchmark scripts that print figures (never timed assertions in tests).
// Results are printed as a table and written as JSON under bench/results/.
// Scenarios: sim-scale; wave [--users N] [--time-scale N] [--licensing direct|group] [--hosts N];
// reconcile [--users N] [--drift F]
// [--changes N] [--profile]; duplicates [--people N] [--copies K] [--time-scale N] [--timeout-s S];
// members [--members N] [--time-scale N]; scim [--users N] [--concurrency N] [--time-scale N];
// import [--users N] [--limit N] [--source DIR];
// cost [--prices FILE] (from the wave and reconcile results already written; run it after them).
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEV_TLS_DIR, REPO_ROOT } from '../dev/paths.js';
import { ensureDevCertificates } from '../dev/tls/dev-certificates.js';

const scenarios: Record<string, () => Promise<Record<string, unknown>>> = {
  'sim-scale': async () => (await import('./sim-scale.js')).run(),
  wave: async () => (await import('./wave.js')).run(),
  reconcile: async () => (await import('./reconcile.js')).run(),
  duplicates: async () => (await import('./duplicates.js')).run(),
  members: async () => (await import('./members.js')).run(),
  scim: async () => (await import('./scim.js')).run(),
  import: async () => (await import('./import.js')).run(),
  cost: async () => (await import('./cost.js')).run(),
};

// Node reads NODE_EXTRA_CA_CERTS only at start-up: re-run this script with the local CA trusted.
const certs = await ensureDevCertificates(DEV_TLS_DIR);
if (process.env.NODE_EXTRA_CA_CERTS !== certs.caCertPath) {
  const child = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, NODE_EXTRA_CA_CERTS: certs.caCertPath },
  });
  process.exit(child.status ?? 1);
}

// Scenario names; `--flag value` pairs belong to the scenarios.
const BOOLEAN_FLAGS = new Set(['--profile']);
const wanted = process.argv
  .slice(2)
  .filter((a, i, all) => !a.startsWith('--') && !(all[i - 1]?.startsWith('--') && !BOOLEAN_FLAGS.has(all[i - 1]!)));
const unknown = wanted.filter((w) => !scenarios[w]);
if (unknown.length) {
  console.error(`Unknown scenario(s): ${unknown.join(', ')}. Available: ${Object.keys(scenarios).join(', ')}`);
  console.error(
    'Usage: npm run bench [-- <scenario> [flags]]; wave [--users 10000] [--time-scale 10] [--licensing direct|group] [--hosts 1]; reconcile [--users 100000] [--drift 0.01] [--changes 1000] [--profile]; duplicates [--people 20] [--copies 20]; members [--members 10000] [--time-scale 1]; scim [--users 1000] [--concurrency 8] [--time-scale 1]; import [--users 100000] [--limit 1000]; cost [--prices prices.json]',
  );
  process.exit(2);
}
const resultsDir = join(REPO_ROOT, 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });
for (const name of wanted.length ? wanted : Object.keys(scenarios)) {
  console.log(`\n== ${name}`);
  const result = await scenarios[name]!();
  const record = {
    scenario: name,
    at: new Date().toISOString(),
    node: process.version,
    machine: { cpus: (await import('node:os')).cpus().length },
    ...result,
  };
  // A scenario run with options that change what it measures names its own file (e.g. wave-group).
  const file = typeof result.resultName === 'string' ? result.resultName : name;
  writeFileSync(join(resultsDir, `${file}.json`), `${JSON.stringify(record, null, 2)}\n`);
  console.log(`(written to bench/results/${file}.json)`);
}
