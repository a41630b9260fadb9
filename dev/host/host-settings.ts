// Reads the parts of host.json and local.settings.json the local host honours, with the Functions host's
// defaults for anything left out.
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';

/** .NET TimeSpan "[d.]hh:mm:ss[.fff]" → milliseconds (how host.json writes durations). */
export function parseTimeSpan(value: string): number {
  const m = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?$/.exec(value.trim());
  if (!m) throw new Error(`"${value}" is not a TimeSpan (expected hh:mm:ss)`);
  const [, days, h, min, s, frac] = m;
  const ms = frac ? Number(`0.${frac}`) * 1000 : 0;
  return Math.round(((Number(days ?? 0) * 24 + Number(h)) * 3600 + Number(min) * 60 + Number(s)) * 1000 + ms);
}

const timeSpan = z.string().transform((v, ctx) => {
  try {
    return parseTimeSpan(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});

// Defaults from the queue trigger's host.json reference (learn.microsoft.com, "Azure Queue storage trigger
// and bindings — host.json settings").
const queuesSchema = z.object({
  maxPollingInterval: timeSpan.default(60_000),
  visibilityTimeout: timeSpan.default(0),
  batchSize: z.number().int().min(1).max(32).default(16),
  newBatchThreshold: z.number().int().min(0).optional(),
  maxDequeueCount: z.number().int().min(1).default(5),
  messageEncoding: z.enum(['base64', 'none']).default('base64'),
});

const hostJsonSchema = z.object({
  version: z.literal('2.0'),
  extensions: z
    .object({
      http: z.object({ routePrefix: z.string().default('api') }).prefault({}),
      queues: queuesSchema.prefault({}),
    })
    .prefault({}),
});

export type QueueSettings = Required<z.infer<typeof queuesSchema>>;

export interface HostSettings {
  routePrefix: string;
  queues: QueueSettings;
}

export function parseHostJson(json: unknown): HostSettings {
  const parsed = hostJsonSchema.safeParse(json);
  if (!parsed.success) {
    throw new Error(`host.json: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const { http, queues } = parsed.data.extensions;
  return {
    routePrefix: http.routePrefix.replace(/^\/+|\/+$/g, ''),
    // The documented default is batchSize / 2 (per instance).
    queues: { ...queues, newBatchThreshold: queues.newBatchThreshold ?? Math.floor(queues.batchSize / 2) },
  };
}

export function readHostJson(path: string): HostSettings {
  return parseHostJson(JSON.parse(readFileSync(path, 'utf8')));
}

/**
 * Copies local.settings.json `Values` into the environment the way `func start` does: a variable that is
 * already set wins over the file. Returns the names it set and the names it skipped.
 */
export function applyLocalSettings(
  path: string,
  env: NodeJS.ProcessEnv = process.env,
): { applied: string[]; skipped: string[] } {
  const result = { applied: [] as string[], skipped: [] as string[] };
  if (!existsSync(path)) return result;
  const parsed = z
    .object({ Values: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}) })
    .safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) throw new Error(`${path}: "Values" must be an object of strings`);
  for (const [name, value] of Object.entries(parsed.data.Values)) {
    if (env[name] !== undefined) result.skipped.push(name);
    else {
      env[name] = String(value);
      result.applied.push(name);
    }
  }
  return result;
}

/** Resolves `%SETTING%` references in binding expressions the way the host does. */
export function resolveAppSettingRefs(value: string, env: NodeJS.ProcessEnv = process.env): string {
  return value.replace(/%([^%]+)%/g, (_, name: string) => {
    const v = env[name];
    if (v === undefined) throw new Error(`App setting "${name}" referenced by "${value}" is not set`);
    return v;
  });
}
