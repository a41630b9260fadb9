// Application settings, parsed once from process.env. A missing or malformed setting fails at start-up with
// a message naming it, instead of surfacing later as an obscure runtime error.
import { Cron } from 'croner';
import { z } from 'zod';
import { type EncryptionKey, parseEncryptionKeys } from './security/secret-cipher.js';
import { HOST_STORAGE, parseStorageSettings, type StorageSettings } from './storage/storage-settings.js';

/**
 * A storage setting's own value; which combination of them is valid (a connection string or identity-based
 * settings, exactly one style) is checked by parseStorageSettings, which also produces `config.storage`.
 */
const storageSetting = (description: string) => z.string().optional().describe(description);

const encryptionKeys = z
  .string({
    error: 'is required (comma-separated keyId:base64key entries of 32-byte keys; on Azure a Key Vault reference)',
  })
  .transform((value, ctx): EncryptionKey[] => {
    try {
      return parseEncryptionKeys(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });

/** An empty value counts as unset (the infrastructure sets '' for a feature that is off). */
const unsetWhenEmpty = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema);

/** Every 30 minutes, on the hour and half past (UTC). */
export const DEFAULT_RECONCILIATION_SCHEDULE = '0 */30 * * * *';
/** Every 30 seconds: a poisoned message is recorded within half a minute. */
export const DEFAULT_POISON_DRAIN_SCHEDULE = '*/30 * * * * *';

const ncrontab = z
  .string()
  .trim()
  .refine(
    (s) => s.split(/\s+/).length === 6,
    'must be an NCRONTAB expression with six fields: {second} {minute} {hour} {day} {month} {day-of-week}',
  )
  .refine((s) => {
    try {
      new Cron(s, { mode: '6-part', paused: true }).stop();
      return true;
    } catch {
      return false;
    }
  }, 'is not a valid NCRONTAB expression');

export const configSchema = z.object({
  // Storage for queues and tables, exactly as the Functions host reads it: a connection string, or an
  // identity-based connection (on Azure the managed identity, locally the developer's). Parsed into `storage`.
  AzureWebJobsStorage: storageSetting('Connection string (Azurite, or an account key)'),
  AzureWebJobsStorage__accountName: storageSetting(
    'Identity-based: the account name; derives https://<name>.{queue,table,blob}.core.windows.net',
  ),
  AzureWebJobsStorage__queueServiceUri: storageSetting('Identity-based: queue service endpoint'),
  AzureWebJobsStorage__tableServiceUri: storageSetting('Identity-based: table service endpoint'),
  AzureWebJobsStorage__blobServiceUri: storageSetting(
    'Identity-based: blob service endpoint (used by the Functions host, not the app)',
  ),
  AzureWebJobsStorage__credential: storageSetting(
    'Identity-based: "managedidentity" on Azure; unset locally (developer identity)',
  ),
  AzureWebJobsStorage__clientId: storageSetting('Identity-based: client id of a user-assigned managed identity'),
  AzureWebJobsStorage__managedIdentityResourceId: storageSetting(
    'Identity-based: resource id of a user-assigned managed identity',
  ),
  /** Keys that encrypt secrets at rest; the first one encrypts. */
  SECRETS_ENCRYPTION_KEYS: encryptionKeys,
  /**
   * Public base URL of this app (e.g. https://contoso-provisioner.azurewebsites.net), used to build the OAuth
   * redirect URI. Unset: https://<WEBSITE_HOSTNAME> (never the request's Host header, which a caller controls).
   */
  PUBLIC_BASE_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://myapp.azurewebsites.net' })
    .transform((u) => u.replace(/\/+$/, ''))
    .optional(),
  /** Set by the platform on Azure (`<app>.azurewebsites.net`) and by the local host (`localhost:<port>`). */
  WEBSITE_HOSTNAME: z
    .string()
    .regex(/^[a-z0-9.-]+(:\d{1,5})?$/i, 'must be a host name, optionally with a port')
    .optional(),
  /**
   * Set by the platform when App Service authentication is on; only then are its x-ms-client-principal-* headers
   * (which it strips from outside requests) trusted to say who made a configuration change.
   */
  WEBSITE_AUTH_ENABLED: z
    .string()
    .optional()
    .transform((v) => v?.toLowerCase() === 'true'),
  /**
   * Sign-in with Microsoft Entra ID (both set: on). The tenant whose users sign in, and the app registration that
   * represents this API: access tokens must be v2 tokens of that tenant with `aud` = this client id. With sign-in on,
   * the admin routes are registered anonymous and the app authenticates every request itself (a bearer token, or a
   * function key it has the Functions host check); off, the host requires the function key as before.
   */
  ENTRA_TENANT_ID: unsetWhenEmpty(z.guid('must be the directory (tenant) ID, a GUID').optional()),
  ENTRA_CLIENT_ID: unsetWhenEmpty(z.guid("must be the app registration's application (client) ID, a GUID").optional()),
  /** The identity platform's host (sovereign clouds: https://login.microsoftonline.us, https://login.chinacloudapi.cn). */
  ENTRA_AUTHORITY_HOST: z
    .url({ protocol: /^https$/, error: 'must be an https URL such as https://login.microsoftonline.com' })
    .transform((u) => u.replace(/\/+$/, ''))
    .default('https://login.microsoftonline.com'),
  /** The delegated scope the console asks for (default api://<ENTRA_CLIENT_ID>/access_as_user). */
  ENTRA_API_SCOPE: unsetWhenEmpty(z.string().trim().min(1).optional()),
  /**
   * Only for runs against the simulated tenant with --time-scale N: the throttle governor paces N× faster to
   * match the simulator's shrunken windows. Never set it against Microsoft 365.
   */
  GRAPH_THROTTLE_TIME_SCALE: z.coerce.number({ error: 'must be a number' }).positive('must be positive').default(1),
  /** How long an operation may hold a user before another may take over (only matters when a host dies mid-operation). */
  PROVISIONING_LEASE_SECONDS: z.coerce
    .number({ error: 'must be a number of seconds' })
    .int()
    .min(1)
    .max(600)
    .default(60),
  /**
   * How old the copy of a connection an operation works from may be (per instance; this instance's own changes
   * apply at once): one read of the connection row per interval instead of one per operation. 0: read every time.
   */
  CONNECTION_SNAPSHOT_SECONDS: z.coerce.number({ error: 'must be a number of seconds' }).min(0).max(60).default(1),
  /** When the reconciliation timer runs (NCRONTAB, UTC). Read when the functions are registered. */
  RECONCILIATION_SCHEDULE: ncrontab.default(DEFAULT_RECONCILIATION_SCHEDULE),
  /** When the poison queues are drained into failure records (NCRONTAB, UTC). Read when the functions are registered. */
  POISON_DRAIN_SCHEDULE: ncrontab.default(DEFAULT_POISON_DRAIN_SCHEDULE),
});

export type AppConfig = z.infer<typeof configSchema> & {
  /** The storage account the app uses, from AzureWebJobsStorage or its identity-based settings. */
  storage: StorageSettings;
};

export class ConfigError extends Error {
  constructor(readonly issues: { setting: string; problem: string }[]) {
    super(`Invalid configuration: ${issues.map((i) => `${i.setting} ${i.problem}`).join('; ')}`);
    this.name = 'ConfigError';
  }
}

export function parseConfig(env: Record<string, string | undefined>): AppConfig {
  const result = configSchema.safeParse(env);
  const storage = parseStorageSettings(env, HOST_STORAGE, ['queue', 'table']);
  const issues = [
    ...(storage.ok ? [] : storage.issues),
    ...(result.success
      ? []
      : result.error.issues.map((i) => ({
          setting: i.path.map(String).join('.') || '(environment)',
          problem: i.message,
        }))),
  ];
  if (result.success && !result.data.ENTRA_TENANT_ID !== !result.data.ENTRA_CLIENT_ID)
    issues.push({
      setting: result.data.ENTRA_TENANT_ID ? 'ENTRA_CLIENT_ID' : 'ENTRA_TENANT_ID',
      problem: 'is required when the other Entra ID sign-in setting is set (set both, or neither)',
    });
  if (issues.length > 0 || !result.success || !storage.ok) throw new ConfigError(issues);
  return { ...result.data, storage: storage.settings };
}

/**
 * This app's public origin, for the OAuth redirect URI: PUBLIC_BASE_URL, else the platform's WEBSITE_HOSTNAME
 * (http only for a loopback name). Undefined when neither is set: then no redirect URI can be trusted.
 */
export function publicOrigin(config: Pick<AppConfig, 'PUBLIC_BASE_URL' | 'WEBSITE_HOSTNAME'>): string | undefined {
  if (config.PUBLIC_BASE_URL) return config.PUBLIC_BASE_URL;
  if (!config.WEBSITE_HOSTNAME) return undefined;
  const loopback = /^(localhost|127\.0\.0\.1)(:\d+)?$/i.test(config.WEBSITE_HOSTNAME);
  return `${loopback ? 'http' : 'https'}://${config.WEBSITE_HOSTNAME.toLowerCase()}`;
}

let cached: AppConfig | undefined;

/** The process configuration; parsed on first use and memoised. */
export function getConfig(): AppConfig {
  cached ??= parseConfig(process.env);
  return cached;
}

/**
 * A timer's schedule setting. Needed when the functions are registered, before (and without) the rest of the
 * configuration; a malformed value fails registration with the setting named.
 */
export function timerSchedule(
  setting: 'RECONCILIATION_SCHEDULE' | 'POISON_DRAIN_SCHEDULE',
  env: Record<string, string | undefined> = process.env,
): string {
  const result = configSchema.shape[setting].safeParse(env[setting]);
  if (!result.success) throw new ConfigError(result.error.issues.map((i) => ({ setting, problem: i.message })));
  return result.data;
}

/** Entra ID sign-in as configured: undefined when off (ENTRA_TENANT_ID and ENTRA_CLIENT_ID unset). */
export interface SignInSettings {
  tenantId: string;
  clientId: string;
  authorityHost: string;
  /** The scope a client asks for to call this API. */
  scope: string;
}

export function signInSettings(
  config: Pick<AppConfig, 'ENTRA_TENANT_ID' | 'ENTRA_CLIENT_ID' | 'ENTRA_AUTHORITY_HOST' | 'ENTRA_API_SCOPE'>,
): SignInSettings | undefined {
  if (!config.ENTRA_TENANT_ID || !config.ENTRA_CLIENT_ID) return undefined;
  return {
    tenantId: config.ENTRA_TENANT_ID.toLowerCase(),
    clientId: config.ENTRA_CLIENT_ID.toLowerCase(),
    authorityHost: config.ENTRA_AUTHORITY_HOST,
    scope: config.ENTRA_API_SCOPE ?? `api://${config.ENTRA_CLIENT_ID.toLowerCase()}/access_as_user`,
  };
}

/**
 * Whether sign-in is on, read when the functions are registered (it decides the admin routes' authLevel), before
 * and without the rest of the configuration, like the timer schedules.
 */
export function signInConfigured(env: Record<string, string | undefined> = process.env): boolean {
  return Boolean(env.ENTRA_TENANT_ID?.trim() && env.ENTRA_CLIENT_ID?.trim());
}

/** WEBSITE_AUTH_ENABLED alone, for code that runs without the rest of the configuration. */
export const appServiceAuthEnabled = (env: Record<string, string | undefined> = process.env): boolean =>
  configSchema.shape.WEBSITE_AUTH_ENABLED.parse(env.WEBSITE_AUTH_ENABLED);
