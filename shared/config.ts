// Application settings, parsed once from process.env. A missing or malformed setting fails at start-up with
// a message naming it, instead of surfacing later as an obscure runtime error.
import { z } from 'zod';

const storageConnectionString = z
  .string({ error: 'is required (a storage connection string; for Azurite use `npm start`, which sets it)' })
  .trim()
  .min(1, 'is required')
  .refine(
    (s) => s === 'UseDevelopmentStorage=true' || /(^|;)\s*(AccountName|BlobEndpoint|QueueEndpoint|TableEndpoint)=/i.test(s),
    'is not a storage connection string (expected `AccountName=…;AccountKey=…` or explicit endpoints)',
  );

export const configSchema = z.object({
  /** Storage for queues and tables, exactly as the Functions host reads it. */
  AzureWebJobsStorage: storageConnectionString,
});

export type AppConfig = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  constructor(readonly issues: { setting: string; problem: string }[]) {
    super(`Invalid configuration: ${issues.map((i) => `${i.setting} ${i.problem}`).join('; ')}`);
    this.name = 'ConfigError';
  }
}

export function parseConfig(env: Record<string, string | undefined>): AppConfig {
  const result = configSchema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((i) => ({ setting: i.path.map(String).join('.') || '(environment)', problem: i.message })),
    );
  }
  return result.data;
}

let cached: AppConfig | undefined;

/** The process configuration; parsed on first use and memoised. */
export function getConfig(): AppConfig {
  cached ??= parseConfig(process.env);
  return cached;
}
