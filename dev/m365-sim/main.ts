// `npm run tenant [--port N] [--seed file] [--state file] [--time-scale N] [--no-throttling] [--replication-delay-ms N]
//   [--group-license-delay-ms N]`
// With --state the directory is kept in that file across runs (loaded at start, saved as it changes and on stop).
// Prints exactly one JSON line on stdout ({"event":"ready",…}); everything for humans goes to stderr.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEV_TLS_DIR } from '../paths.js';
import { ensureDevCertificates } from '../tls/dev-certificates.js';
import { loadSeedFile } from './seed.js';
import { buildReadyInfo, startSimulatedTenant } from './server.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      seed: { type: 'string' },
      state: { type: 'string' },
      'time-scale': { type: 'string', default: '1' },
      'no-throttling': { type: 'boolean', default: false },
      'replication-delay-ms': { type: 'string', default: '0' },
      'group-license-delay-ms': { type: 'string', default: '0' },
    },
  });
  const port = Number(values.port);
  const timeScale = Number(values['time-scale']);
  const replicationDelayMs = Number(values['replication-delay-ms']);
  const groupLicenseDelayMs = Number(values['group-license-delay-ms']);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be 0–65535, got ${values.port}`);
  if (!(timeScale > 0)) throw new Error(`--time-scale must be a positive number, got ${values['time-scale']}`);
  if (!(replicationDelayMs >= 0)) throw new Error(`--replication-delay-ms must be ≥ 0`);
  if (!(groupLicenseDelayMs >= 0)) throw new Error(`--group-license-delay-ms must be ≥ 0`);
  const certs = await ensureDevCertificates(DEV_TLS_DIR);
  const sim = await startSimulatedTenant({
    port,
    tls: { cert: certs.serverCert, key: certs.serverKey },
    seed: values.seed ? loadSeedFile(values.seed) : undefined,
    timeScale,
    throttling: !values['no-throttling'],
    replicationDelayMs,
    groupLicenseDelayMs,
    ...(values.state ? { stateFile: resolve(values.state) } : {}),
  });
  process.stdout.write(`${JSON.stringify(buildReadyInfo(sim, certs.caCertPath))}\n`);
  process.stderr.write(
    `[m365-sim] simulated tenant on ${sim.url} (controls: ${sim.url}/_sim/…). Clients must trust ${certs.caCertPath} (NODE_EXTRA_CA_CERTS).\n` +
      (sim.state
        ? `[m365-sim] state kept in ${sim.state.file} (${sim.state.restored ? 'loaded from it' : 'started from the seed'}).\n`
        : ''),
  );
  const stop = (signal: string) => {
    process.stderr.write(`[m365-sim] ${signal}: stopping\n`);
    sim.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((e: unknown) => {
  process.stderr.write(`[m365-sim] ${(e as Error).message}\n`);
  process.exit(1);
});
