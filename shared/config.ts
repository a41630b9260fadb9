// Application settings, parsed once from process.env. A missing or malformed setting fails at start-up with
// a message naming it, instead of surfacing later as an obscure runtime error.
import { z } from 'zod';
import { parseEncryptionKeys, type EncryptionKey } from './security/secret-cipher.js';

const storageConnectionString = z
  .string({ error: 'is required (a storage connection string; for Azurite use `npm start`, which sets it)' })
  .trim()
  .min(1, 'is required')
  .refine(
    (s) => s === 'UseDevelopmentStorage=true' || /(^|;)\s*(AccountName|BlobEndpoint|QueueEndpoint|TableEndpoint)=/i.test(s),
    'is not a storage connection string (expected `AccountName=…;AccountKey=…` or explicit endpoints)',
  );

const encryptionKeys = z
  .string({ error: 'is required (comma-separated keyId:base64key entries of 32-byte keys; on Azure a Key Vault reference)' })
  .transform((value, ctx): EncryptionKey[] => {
    try {
      return parseEncryptionKeys(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });

export const configSchema = z.object({
  /** Storage for queues and tables, exactly as the Functions host reads it. */
  AzureWebJobsStorage: storageConnectionString,
  /** Keys that encrypt secrets at rest; the first one encrypts. */
  SECRETS_ENCRYPTION_KEYS: encryptionKeys,
  /**
   * Public base URL of this app (e.g. https://contoso-provisioner.azurewebsites.net), used to build the OAuth
   * redirect URI. Unset: taken from the incoming request, which is right unless a proxy rewrites the host.
   */
  PUBLIC_BASE_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://myapp.azurewebsites.net' })
    .transform((u) => u.replace(/\/+$/, ''))
    .optional(),
  /**
   * Only for runs against the simulated tenant with --time-scale N: the throttle governor paces N× faster to
   * match the simulator's shrunken windows. Never set it against Microsoft 365.
   */
  GRAPH_THROTTLE_TIME_SCALE: z.coerce.number({ error: 'must be a number' }).positive('must be positive').default(1),
  /** How long an operation may hold a user before another may take over (only matters when a host dies mid-operation). */
  PROVISIONING_LEASE_SECONDS: z.coerce.number({ error: 'must be a number of seconds' }).int().min(1).max(600).default(60),
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
