// Azure and the local host see the same functions. On Azure, the worker hands @azure/functions a module named
// `@azure/functions-core`; each app.http / app.storageQueue / app.timer call becomes registerFunction(metadata)
// with the bindings the host will run. Here a recording stand-in for that module captures the metadata the
// real library produces when functions/index.ts loads, and the result is compared with what the local host,
// started from the same declarations, actually serves.
import Module from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { readHostJson } from '../../dev/host/host-settings.js';
import { type RunningLocalHost, type ServedFunction, startLocalHost } from '../../dev/host/local-host.js';
import { REPO_ROOT } from '../../dev/paths.js';

interface CoreBinding {
  type: string;
  direction: string;
  route?: string;
  methods?: string[];
  authLevel?: string;
  queueName?: string;
  connection?: string;
  schedule?: string;
  runOnStartup?: boolean;
}
const registered: { name: string; bindings: Record<string, CoreBinding> }[] = [];

const moduleInternals = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
const originalLoad = moduleInternals._load;
let host: RunningLocalHost;

beforeAll(async () => {
  moduleInternals._load = function (request: string, ...rest: unknown[]) {
    if (request === '@azure/functions-core') {
      return {
        setProgrammingModel: () => {},
        registerFunction: (metadata: (typeof registered)[number]) => {
          registered.push(metadata);
          return { dispose: () => {} };
        },
        registerHook: () => ({ dispose: () => {} }),
        log: () => {},
      };
    }
    return originalLoad.call(this, request, ...rest);
  };
  process.env.AzureWebJobsStorage = inject('storageConnectionString');
  await import('../../functions/index.js');
  const { functionDefinitions } = await import('../../functions/definitions.js');
  host = await startLocalHost({
    definitions: functionDefinitions,
    settings: readHostJson(join(REPO_ROOT, 'host.json')),
    port: 0,
    log: () => {},
  });
});

afterAll(async () => {
  moduleInternals._load = originalLoad;
  await host?.stop();
});

function asServed({ name, bindings }: (typeof registered)[number]): ServedFunction {
  const trigger = Object.values(bindings).find((b) => b.direction === 'in' && /Trigger$/.test(b.type));
  switch (trigger?.type) {
    case 'httpTrigger':
      return { name, trigger: 'http', route: trigger.route!, methods: trigger.methods!, authLevel: trigger.authLevel! };
    case 'queueTrigger':
      return { name, trigger: 'storageQueue', queueName: trigger.queueName!, connection: trigger.connection! };
    case 'timerTrigger':
      return { name, trigger: 'timer', schedule: trigger.schedule!, runOnStartup: trigger.runOnStartup ?? false };
    default:
      throw new Error(`Function ${name} has an unexpected trigger: ${JSON.stringify(bindings)}`);
  }
}

it('registers every declared function with the Azure Functions runtime exactly as the local host serves it', () => {
  expect(registered.length).toBeGreaterThan(0);
  const byName = (a: ServedFunction, b: ServedFunction) => a.name.localeCompare(b.name);
  // Queue names and schedules may be %SETTING% references on Azure; the local host resolves them, so they
  // are compared after resolution against the same environment.
  const azure = registered
    .map(asServed)
    .map((f) =>
      f.trigger === 'storageQueue'
        ? { ...f, queueName: f.queueName.replace(/%([^%]+)%/g, (_, n: string) => process.env[n] ?? '') }
        : f.trigger === 'timer'
          ? { ...f, schedule: f.schedule.replace(/%([^%]+)%/g, (_, n: string) => process.env[n] ?? '') }
          : f,
    );
  expect(host.functions.toSorted(byName)).toEqual(azure.toSorted(byName));
});

it('exposes the health endpoint anonymously, as Azure will', () => {
  expect(registered.map(asServed)).toContainEqual({
    name: 'health',
    trigger: 'http',
    route: 'health',
    methods: ['GET'],
    authLevel: 'anonymous',
  });
});
