// The local stand-in for the Azure Functions host (Core Tools cannot be installed offline): serves the
// declared HTTP functions, polls storage queues and fires timers, all with the real @azure/functions types.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  FunctionDefinition,
  HttpFunctionDefinition,
  StorageQueueFunctionDefinition,
  TimerFunctionDefinition,
} from '../../functions/define.js';
import { parseStorageSettings } from '../../shared/storage/storage-settings.js';
import { createHostLogger, type HostLogger, type LogRecord } from './host-logger.js';
import type { HostSettings } from './host-settings.js';
import { resolveAppSettingRefs } from './host-settings.js';
import { createHttpListener } from './http-listener.js';
import { QueueListener } from './queue-listener.js';
import { TimerScheduler } from './timer-scheduler.js';

export const DEFAULT_FUNCTION_KEY = 'local-dev-key';

export interface LocalHostOptions {
  definitions: readonly FunctionDefinition[];
  settings: HostSettings;
  /** 0 lets the OS choose. */
  port: number;
  host?: string;
  /**
   * Serve http://localhost:<port> (the address the OAuth redirect URI is registered with): listen on 127.0.0.1
   * and on ::1, whichever `localhost` resolves to first on this machine, and answer `url` with localhost.
   * Replaces `host`.
   */
  localhost?: boolean;
  functionKey?: string;
  env?: NodeJS.ProcessEnv;
  log: (record: LogRecord) => void;
  /** Invisibility of a queue message while it is processed (default 600 s, as the host). */
  processingVisibilitySeconds?: number;
}

/** What the host actually serves, with binding expressions resolved (compared with Azure's view in tests). */
export type ServedFunction =
  | { name: string; trigger: 'http'; route: string; methods: string[]; authLevel: string }
  | { name: string; trigger: 'storageQueue'; queueName: string; connection: string }
  | { name: string; trigger: 'timer'; schedule: string; runOnStartup: boolean };

export interface RunningLocalHost {
  url: string;
  functions: ServedFunction[];
  port: number;
  functionKey: string;
  logger: HostLogger;
  stop(): Promise<void>;
}

export async function startLocalHost(options: LocalHostOptions): Promise<RunningLocalHost> {
  const env = options.env ?? process.env;
  const functionKey = options.functionKey ?? DEFAULT_FUNCTION_KEY;
  const logger = createHostLogger(options.log);
  const httpFunctions = options.definitions.filter((d): d is HttpFunctionDefinition => d.kind === 'http');
  const queueFunctions = options.definitions.filter(
    (d): d is StorageQueueFunctionDefinition => d.kind === 'storageQueue',
  );
  const timerFunctions = options.definitions.filter((d): d is TimerFunctionDefinition => d.kind === 'timer');

  // Resolve every binding expression before anything starts, so a missing setting fails the start-up.
  const queues = queueFunctions.map((fn) => {
    // The connection is a setting name or a prefix of identity-based settings, as on Azure.
    const storage = parseStorageSettings(env, fn.connection, ['queue']);
    if (!storage.ok) {
      throw new Error(
        `Function "${fn.name}": storage connection "${fn.connection}": ${storage.issues.map((i) => `${i.setting} ${i.problem}`).join('; ')}`,
      );
    }
    return new QueueListener({
      fn,
      queueName: resolveAppSettingRefs(fn.queueName, env),
      storage: storage.settings,
      settings: options.settings.queues,
      logger,
      ...(options.processingVisibilitySeconds
        ? { processingVisibilitySeconds: options.processingVisibilitySeconds }
        : {}),
    });
  });
  const timers = timerFunctions.map((fn) => new TimerScheduler(fn, resolveAppSettingRefs(fn.schedule, env), logger));

  const inFlightHttp = new Set<Promise<unknown>>();
  const listener = () =>
    createHttpListener({
      functions: httpFunctions,
      routePrefix: options.settings.routePrefix,
      functionKey,
      logger,
      onInvocation: (done) => {
        inFlightHttp.add(done);
        void done.finally(() => inFlightHttp.delete(done));
      },
    });
  const servers = options.localhost
    ? await listenOnLoopback(listener, options.port)
    : [await listen(listener(), options.port, options.host ?? '127.0.0.1')];
  const { port } = servers[0]!.address() as AddressInfo;
  // As on Azure (and as `func start` does), the app learns its own address from WEBSITE_HOSTNAME: the OAuth
  // redirect URI is built from it, never from a request's Host header. The first host of a process sets it.
  process.env.WEBSITE_HOSTNAME ??= `localhost:${port}`;
  for (const q of queues) q.start();
  for (const t of timers) t.start();
  logger.info('host', undefined, `Functions: ${options.definitions.map((d) => `${d.name} [${d.kind}]`).join(', ')}`);

  let stopping: Promise<void> | undefined;
  return {
    url: `http://${options.localhost ? 'localhost' : (options.host ?? '127.0.0.1')}:${port}`,
    functions: [
      ...httpFunctions.map((f) => ({
        name: f.name,
        trigger: 'http' as const,
        route: f.route,
        methods: [...f.methods],
        authLevel: f.authLevel,
      })),
      ...queues.map((q) => ({
        name: q.fn.name,
        trigger: 'storageQueue' as const,
        queueName: q.queueName,
        connection: q.fn.connection,
      })),
      ...timers.map((t) => ({
        name: t.fn.name,
        trigger: 'timer' as const,
        schedule: t.schedule,
        runOnStartup: t.fn.runOnStartup ?? false,
      })),
    ],
    port,
    functionKey,
    logger,
    stop: () =>
      (stopping ??= (async () => {
        // Stop taking work, then let what is running finish.
        const closed = servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
        await Promise.all([...queues.map((q) => q.stop()), ...timers.map((t) => t.stop())]);
        await Promise.allSettled([...inFlightHttp]);
        // Every response is written; keep-alive sockets would otherwise hold close() open.
        for (const server of servers) server.closeAllConnections();
        await Promise.all(closed);
      })()),
  };
}

function listen(server: Server, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/**
 * 127.0.0.1 and ::1 on one port (an OS-chosen one when `port` is 0, tried again if ::1 has it taken). A machine
 * without IPv6 loopback gets 127.0.0.1 alone: its `localhost` cannot resolve to ::1 either.
 */
async function listenOnLoopback(listener: () => Server, port: number): Promise<Server[]> {
  for (let attempt = 1; ; attempt++) {
    const v4 = await listen(listener(), port, '127.0.0.1');
    const chosen = (v4.address() as AddressInfo).port;
    try {
      return [v4, await listen(listener(), chosen, '::1')];
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT') return [v4];
      await new Promise<void>((resolve) => v4.close(() => resolve()));
      if (code !== 'EADDRINUSE' || port !== 0 || attempt === 5) {
        throw new Error(`port ${chosen} is free on 127.0.0.1 but not on ::1 (localhost): ${(error as Error).message}`);
      }
    }
  }
}
