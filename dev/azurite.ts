// Starts Azurite from node_modules, in memory or keeping its data in a folder, and reports the ports it bound.
// Port 0 lets the OS choose free ports (tests run beside a running `npm start`); Azurite prints the ports
// it actually listens on, which we parse instead of guessing.
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Azurite's fixed, publicly documented development account (not a secret). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuritePorts {
  blob: number;
  queue: number;
  table: number;
}

export interface RunningAzurite {
  ports: AzuritePorts;
  connectionString: string;
  stop(): Promise<void>;
}

export function azuriteConnectionString(ports: AzuritePorts, host = '127.0.0.1'): string {
  const base = (port: number) => `http://${host}:${port}/${AZURITE_ACCOUNT}`;
  return [
    'DefaultEndpointsProtocol=http',
    `AccountName=${AZURITE_ACCOUNT}`,
    `AccountKey=${AZURITE_ACCOUNT_KEY}`,
    `BlobEndpoint=${base(ports.blob)}`,
    `QueueEndpoint=${base(ports.queue)}`,
    `TableEndpoint=${base(ports.table)}`,
  ].join(';');
}

function azuriteEntry(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('azurite/package.json')), 'dist', 'src', 'azurite.js');
}

export async function startAzurite(
  ports: Partial<AzuritePorts> = {},
  options: {
    startTimeoutMs?: number;
    /** Keep the data in this folder (kept across restarts); in memory when absent. */
    location?: string;
  } = {},
): Promise<RunningAzurite> {
  const args = [
    azuriteEntry(),
    ...(options.location ? ['--location', options.location] : ['--inMemoryPersistence']),
    '--silent',
    '--skipApiVersionCheck',
    '--disableTelemetry',
    '--blobHost',
    '127.0.0.1',
    '--blobPort',
    String(ports.blob ?? 0),
    '--queueHost',
    '127.0.0.1',
    '--queuePort',
    String(ports.queue ?? 0),
    '--tableHost',
    '127.0.0.1',
    '--tablePort',
    String(ports.table ?? 0),
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const bound: Partial<AzuritePorts> = {};
  let output = '';

  const ready = new Promise<AzuritePorts>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`Azurite did not start within ${options.startTimeoutMs ?? 30000} ms:\n${output}`)),
      options.startTimeoutMs ?? 30000,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      for (const m of output.matchAll(
        /Azurite (Blob|Queue|Table) service is successfully listening at http:\/\/[^:]+:(\d+)/g,
      )) {
        bound[m[1]!.toLowerCase() as keyof AzuritePorts] = Number(m[2]);
      }
      if (bound.blob && bound.queue && bound.table) {
        clearTimeout(timer);
        resolve(bound as AzuritePorts);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Azurite exited with code ${code} before it was ready:\n${output}`));
    });
  });

  const boundPorts = await ready;
  return {
    ports: boundPorts,
    connectionString: azuriteConnectionString(boundPorts),
    // Azurite saves its data files when it closes (SIGTERM); with data on disk, give it time to finish.
    stop: () => stopChild(child, options.location ? 15_000 : 5000),
  };
}

export function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
