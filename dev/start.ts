// `npm start [-- --fresh]`: the whole product offline — Azurite, the simulated Microsoft 365 tenant and the
// local Functions host. Prints where everything listens, then one JSON line {"event":"ready",...}.
// Ctrl-C (SIGINT) or SIGTERM stops everything it started.
// What it makes is kept between runs in LOCAL_STATE_DIR (default .local/): Azurite's data, the simulated tenant
// and the key that encrypts secrets at rest. `--fresh` deletes the data first and starts empty.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { buildConsole, CONSOLE_BASE_PATH } from '../console/build.js';
import { generateEncryptionKeyEntry } from '../shared/security/secret-cipher.js';
import { type RunningAzurite, startAzurite, stopChild } from './azurite.js';
import { buildReadyInfo, type RunningSimulatedTenant, startSimulatedTenant } from './m365-sim/server.js';
import { DEV_TLS_DIR, localStateDir, REPO_ROOT } from './paths.js';
import { ensureDevCertificates } from './tls/dev-certificates.js';

const port = (name: string, fallback: number) => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new Error(`${name}="${raw}" is not a port number`);
  return value;
};

/** What `npm start` keeps in the state folder. */
function statePaths(dir: string) {
  return {
    dir,
    azurite: join(dir, 'azurite'),
    simulatedTenant: join(dir, 'm365-sim-state.json'),
    encryptionKeys: join(dir, 'secrets-encryption-keys'),
  };
}

/** SECRETS_ENCRYPTION_KEYS when set; otherwise the key kept in the state folder (made on first use). */
function encryptionKeys(file: string): string {
  if (process.env.SECRETS_ENCRYPTION_KEYS) return process.env.SECRETS_ENCRYPTION_KEYS;
  if (existsSync(file)) {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept) return kept;
  }
  const made = generateEncryptionKeyEntry('local');
  writeFileSync(file, `${made}\n`, { mode: 0o600 });
  return made;
}

async function main() {
  const { values: flags } = parseArgs({
    options: { fresh: { type: 'boolean', default: false }, 'sign-in': { type: 'boolean', default: false } },
  });
  const state = statePaths(localStateDir());
  if (flags.fresh) {
    rmSync(state.azurite, { recursive: true, force: true });
    rmSync(state.simulatedTenant, { force: true });
  }
  mkdirSync(state.azurite, { recursive: true });
  const storageKept = readdirSync(state.azurite).length > 0;

  const ports = {
    host: port('PORT', 7071),
    tenant: port('M365_SIM_PORT', 7443),
    blob: port('AZURITE_BLOB_PORT', 10000),
    queue: port('AZURITE_QUEUE_PORT', 10001),
    table: port('AZURITE_TABLE_PORT', 10002),
  };
  const certs = await ensureDevCertificates(DEV_TLS_DIR);
  // The host serves the admin console from dist/console: built from the sources of this checkout.
  await buildConsole();

  const started: { azurite?: RunningAzurite; tenant?: RunningSimulatedTenant; host?: ChildProcess } = {};
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    if (started.host) await stopChild(started.host, 15_000);
    await started.tenant?.close();
    await started.azurite?.stop();
    process.exit(code);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping the local host, the simulated tenant and Azurite…`);
      void stopAll(0);
    });
  }

  try {
    started.azurite = await startAzurite(ports, { location: state.azurite });
  } catch (error) {
    throw new Error(
      `Azurite could not start (ports ${ports.blob}/${ports.queue}/${ports.table} busy? set AZURITE_BLOB_PORT, AZURITE_QUEUE_PORT, AZURITE_TABLE_PORT): ${(error as Error).message}`,
    );
  }
  const storageConnectionString = started.azurite.connectionString;
  try {
    started.tenant = await startSimulatedTenant({
      port: ports.tenant,
      tls: { cert: certs.serverCert, key: certs.serverKey },
      stateFile: state.simulatedTenant,
    });
  } catch (error) {
    throw new Error(
      `The simulated tenant could not start (port ${ports.tenant} busy? set M365_SIM_PORT): ${(error as Error).message}`,
    );
  }
  const tenant = buildReadyInfo(started.tenant, certs.caCertPath);
  const tenantKept = started.tenant.state?.restored ?? false;
  // `--sign-in`: Entra ID sign-in against the simulated tenant's sign-in app (as on Azure with infra/app/entra-app.bicep):
  // the admin routes take its users' access tokens (by their app roles) as well as the function key.
  const signInTenant = started.tenant.tenants.find((t) => t.signInApp);
  const signIn =
    flags['sign-in'] && signInTenant?.signInApp
      ? {
          ENTRA_TENANT_ID: signInTenant.tenantId,
          ENTRA_CLIENT_ID: signInTenant.signInApp.clientId,
          ENTRA_API_SCOPE: signInTenant.signInApp.scope,
          ENTRA_AUTHORITY_HOST: tenant.authorityHost,
        }
      : {};

  const host = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'dev', 'host', 'main.ts')], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      PORT: String(ports.host),
      AzureWebJobsStorage: storageConnectionString,
      // Secrets stored in an earlier run must still decrypt: the key is kept with the data.
      SECRETS_ENCRYPTION_KEYS: encryptionKeys(state.encryptionKeys),
      // The host's Graph and identity clients trust the simulated tenant's certificate through the local CA.
      NODE_EXTRA_CA_CERTS: certs.caCertPath,
      ...signIn,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  started.host = host;
  host.once('exit', (code) => {
    if (!stopping) {
      console.error(`The local Functions host exited (code ${code}); stopping.`);
      void stopAll(1);
    }
  });
  const hostReady = await new Promise<{ hostUrl: string; functionKey: string }>((resolve) => {
    createInterface({ input: host.stdout }).on('line', (line) => {
      try {
        const event = JSON.parse(line) as { event?: string; hostUrl: string; functionKey: string };
        if (event.event === 'ready') resolve(event);
      } catch {
        console.log(line);
      }
    });
  });

  console.error(
    [
      '',
      'm365-provisioner is running offline:',
      `  Functions host   ${hostReady.hostUrl}/api   (function key: ${hostReady.functionKey})`,
      `  Console          ${hostReady.hostUrl}${CONSOLE_BASE_PATH}   (asks for the function key once per tab)`,
      `  Health           ${hostReady.hostUrl}/api/health`,
      signIn.ENTRA_CLIENT_ID
        ? `  Sign-in          Entra ID (simulated): client ${signIn.ENTRA_CLIENT_ID}, scope ${signIn.ENTRA_API_SCOPE}; Provisioning.Admin: admin@…, Provisioning.Reader: adele.vance@… (dev/m365-sim/default-seed.json)`
        : '  Sign-in          function key only (`npm start -- --sign-in`: Entra ID sign-in against the simulated tenant)',
      `  Simulated M365   ${tenant.authorityHost} (login + Graph; controls under /_sim/)`,
      ...tenant.tenants.map(
        (t) =>
          `    tenant ${t.tenantId} (${t.domains.join(', ')}): clientId ${t.clientId}, clientSecret ${t.clientSecret}`,
      ),
      `  Azurite          blob ${started.azurite.ports.blob}, queue ${started.azurite.ports.queue}, table ${started.azurite.ports.table}`,
      `  Local CA         ${certs.caCertPath}`,
      `  State            ${state.dir} (storage ${storageKept ? 'kept from the last run' : 'new'}, simulated tenant ${tenantKept ? 'kept from the last run' : 'from the seed'}); \`npm start -- --fresh\` starts empty`,
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  console.log(
    JSON.stringify({
      event: 'ready',
      hostUrl: hostReady.hostUrl,
      consoleUrl: `${hostReady.hostUrl}${CONSOLE_BASE_PATH}`,
      functionKey: hostReady.functionKey,
      storageConnectionString,
      azurite: started.azurite.ports,
      authorityHost: tenant.authorityHost,
      graphBaseUrl: tenant.graphBaseUrl,
      tenants: tenant.tenants,
      signIn: signIn.ENTRA_CLIENT_ID
        ? {
            authority: `${signIn.ENTRA_AUTHORITY_HOST}/${signIn.ENTRA_TENANT_ID}`,
            clientId: signIn.ENTRA_CLIENT_ID,
            scopes: [signIn.ENTRA_API_SCOPE],
          }
        : null,
      caCertPath: certs.caCertPath,
      state: {
        dir: state.dir,
        storage: storageKept ? 'restored' : 'new',
        simulatedTenant: tenantKept ? 'restored' : 'seeded',
      },
    }),
  );
}

main().catch((error: unknown) => {
  console.error(`npm start failed: ${(error as Error).message}`);
  process.exit(1);
});
