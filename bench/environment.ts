// What the end-to-end bench scenarios run against: Azurite, the simulated tenant (TLS with the local dev CA,
// Graph's documented limits under a time scale) and the app on the local Functions host as a real process,
// plus a ready connection to Contoso. Scenarios start one with `startBenchEnvironment`, and always `close()` it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RunningAzurite, startAzurite } from '../dev/azurite.js';
import type { RequestStats } from '../dev/m365-sim/request-log.js';
import { type RunningSimulatedTenant, startSimulatedTenant } from '../dev/m365-sim/server.js';
import { DEV_TLS_DIR, REPO_ROOT } from '../dev/paths.js';
import { ensureDevCertificates } from '../dev/tls/dev-certificates.js';
import { generateEncryptionKeyEntry } from '../shared/security/secret-cipher.js';
import { contosoConnection, DEFAULT_SEED, type SimControls, simControls } from '../test/support/simulated-tenant.js';
import { type ReadyProcess, spawnReady } from '../test/support/spawn-ready.js';

/** `--name N` from the command line (else `fallback`). */
export const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
/** `--name value` from the command line, as text (else undefined). */
export const option = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
/** The `p`th percentile of sorted numbers. */
export const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
export const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

/** The SKU the bench seed adds to Contoso, with a seat for every bench user. */
export const BENCH_SKU = 'BENCH_E3';

interface SeedFile {
  tenants: { id: string; sizeClass?: string; subscribedSkus: unknown[] }[];
}

/** The default seed, with Contoso as a large tenant (8,000 RU / 10 s) and a BENCH_E3 SKU with `seats` seats. */
export function benchSeed(seats: number): SeedFile {
  const seed = JSON.parse(readFileSync(join(REPO_ROOT, 'dev', 'm365-sim', 'default-seed.json'), 'utf8')) as SeedFile;
  const tenant = seed.tenants.find((t) => t.id === DEFAULT_SEED.contoso.tenantId)!;
  tenant.sizeClass = 'large';
  tenant.subscribedSkus.push({
    skuId: 'bbbbbbbb-0000-4000-8000-00000000be3c',
    skuPartNumber: BENCH_SKU,
    prepaidUnits: { enabled: seats },
    servicePlans: [],
  });
  return seed;
}

/** The host's last stdout line on a clean stop: storage requests it made, by service. */
export interface HostStopped {
  storageRequests: { table: number } & Record<string, number>;
  /** Per kind of provisioning operation: how many ran and the Table requests they sent. */
  byOperation: Record<string, { operations: number; table: number }>;
}

export interface BenchEnvironment {
  azurite: RunningAzurite;
  sim: RunningSimulatedTenant;
  controls: SimControls;
  /** The first host process (the HTTP API is called on it); every host consumes the queue. */
  host: HostProcess;
  /** How many host processes share the queue, the storage and the tenant (as instances of one app scaled out). */
  hosts: number;
  timeScale: number;
  throttling: boolean;
  /** A call to the app's HTTP API with the function key; throws on a non-2xx answer. */
  api<T>(method: string, path: string, body?: unknown): Promise<T>;
  /** Creates a connection to Contoso with the full app's credentials and tests it; its id, once it is ready. */
  createReadyConnection(name?: string): Promise<string>;
  /** The simulated tenant's request totals since the last `controls.clearRequests()`. */
  simStats(): Promise<RequestStats>;
  /** The largest host process's peak resident set so far (MB, Linux only: 0 elsewhere). */
  hostPeakRssMb(): number;
  /**
   * SIGTERM to every host, which finish running invocations: their "stopped" lines' storage counts summed, or
   * undefined if one had none.
   */
  stopHost(): Promise<HostStopped | undefined>;
  /** Stops the host (if still running), the simulated tenant and Azurite. */
  close(): Promise<void>;
}

export async function startBenchEnvironment(options: {
  timeScale: number;
  throttling: boolean;
  seed: unknown;
  /** Host processes (default 1). */
  hosts?: number;
}): Promise<BenchEnvironment> {
  const { timeScale, throttling, hosts: hostCount = 1 } = options;
  const certs = await ensureDevCertificates(DEV_TLS_DIR);
  const stops: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  };
  try {
    const azurite = await startAzurite();
    stops.push(() => azurite.stop());
    const sim = await startSimulatedTenant({
      tls: { cert: certs.serverCert, key: certs.serverKey },
      seed: options.seed as never,
      timeScale,
      throttling,
    });
    stops.push(() => sim.close());
    // One secrets key for all: they are instances of one app.
    const secretsKey = generateEncryptionKeyEntry('bench');
    const hosts: HostProcess[] = [];
    for (let i = 0; i < hostCount; i++) {
      const started = await spawnReady<{ hostUrl: string; functionKey: string }>('dev/host/main.ts', {
        PORT: '0',
        AzureWebJobsStorage: azurite.connectionString,
        SECRETS_ENCRYPTION_KEYS: secretsKey,
        GRAPH_THROTTLE_TIME_SCALE: String(timeScale),
        NODE_EXTRA_CA_CERTS: certs.caCertPath,
      });
      stops.push(() => started.stop());
      hosts.push(started);
    }
    const host = hosts[0]!;

    const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const res = await fetch(`${host.ready.hostUrl}${path}`, {
        method,
        headers: { 'x-functions-key': host.ready.functionKey, 'content-type': 'application/json' },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    };
    return {
      azurite,
      sim,
      controls: simControls(sim.url),
      host,
      hosts: hostCount,
      timeScale,
      throttling,
      api,
      async createReadyConnection(name = 'bench') {
        const { id } = await api<{ id: string }>('POST', '/api/connections', contosoConnection(sim, name));
        if ((await api<{ status: string }>('POST', `/api/connections/${id}/test`)).status !== 'ready')
          throw new Error('connection not ready');
        return id;
      },
      async simStats() {
        return (await (await fetch(`${sim.url}/_sim/stats`)).json()) as RequestStats;
      },
      hostPeakRssMb() {
        return Math.max(...hosts.map(peakRssMb));
      },
      async stopHost() {
        const counts = await Promise.all(hosts.map(stopOne));
        if (counts.some((c) => c === undefined)) return undefined;
        const table = counts.reduce((n, c) => n + c!.storageRequests.table, 0);
        const byOperation: HostStopped['byOperation'] = {};
        for (const c of counts)
          for (const [kind, n] of Object.entries(c!.byOperation ?? {})) {
            const sum = (byOperation[kind] ??= { operations: 0, table: 0 });
            sum.operations += n.operations;
            sum.table += n.table;
          }
        return { storageRequests: { table }, byOperation };
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

type HostProcess = ReadyProcess<{ hostUrl: string; functionKey: string }>;

function peakRssMb(host: HostProcess): number {
  try {
    const status = readFileSync(`/proc/${host.child.pid}/status`, 'utf8');
    return Math.round(Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
  } catch {
    return 0;
  }
}

/** SIGTERM to one host, which finishes running invocations: its "stopped" line, or undefined if it had none. */
function stopOne(host: HostProcess): Promise<HostStopped | undefined> {
  if (host.child.exitCode !== null || host.child.signalCode !== null) return Promise.resolve(undefined);
  const stopped = new Promise<HostStopped | undefined>((resolve) => {
    host.child.stdout!.on('data', (chunk: Buffer) => {
      const line = chunk
        .toString()
        .split('\n')
        .find((l) => l.includes('"stopped"'));
      if (line) resolve(JSON.parse(line) as HostStopped);
    });
    host.child.once('exit', () => resolve(undefined));
  });
  host.child.kill('SIGTERM');
  return stopped;
}
