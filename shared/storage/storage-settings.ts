// Which storage account the app (and the local host's queue triggers) talk to, read from app settings the way
// the Functions host reads a storage connection (learn.microsoft.com/azure/azure-functions/functions-reference,
// "Configure an identity-based connection" and "Connecting to host storage with an identity"):
//
// - `<prefix>` alone: a connection string (Azurite, or an account key).
// - `<prefix>__*`: an identity-based connection. `<prefix>__queueServiceUri`, `__tableServiceUri` (and
//   `__blobServiceUri`, which only the host uses) name the services; for AzureWebJobsStorage
//   `AzureWebJobsStorage__accountName` may stand for all of them (global Azure's default DNS only).
//   `__credential: managedidentity` with an optional `__clientId` or `__managedIdentityResourceId` picks the
//   managed identity; without `__credential` the developer's identity is used (DefaultAzureCredential).
//
// Exactly one style must be configured: a connection string next to identity settings is refused rather than
// silently preferred (the host would take the connection string).
// Pure: no SDK here, so configuration parsing stays cheap and testable; storage-clients.ts builds the clients.

export type StorageService = 'queue' | 'table' | 'blob';

export type StorageSettings =
  | { kind: 'connectionString'; connectionString: string }
  | {
      kind: 'identity';
      /** The connection's setting prefix (e.g. AzureWebJobsStorage), for messages naming the setting. */
      prefix: string;
      /** Service endpoints without a trailing slash, e.g. https://acct.queue.core.windows.net. */
      serviceUrls: Partial<Record<StorageService, string>>;
      /** `managedidentity`: the app's managed identity only. Unset: DefaultAzureCredential (developer identity). */
      credential?: 'managedidentity';
      /** A user-assigned managed identity, by client id. */
      clientId?: string;
      /** A user-assigned managed identity, by resource id. */
      managedIdentityResourceId?: string;
    };

export interface StorageSettingIssue {
  setting: string;
  problem: string;
}

export type StorageSettingsResult =
  { ok: true; settings: StorageSettings } | { ok: false; issues: StorageSettingIssue[] };

/** The host storage connection's name; it alone supports the `__accountName` shorthand. */
export const HOST_STORAGE = 'AzureWebJobsStorage';

const SERVICES: readonly StorageService[] = ['queue', 'table', 'blob'];
const IDENTITY_PROPERTIES = [
  'accountName',
  'queueServiceUri',
  'tableServiceUri',
  'blobServiceUri',
  'credential',
  'clientId',
  'managedIdentityResourceId',
] as const;

/** Every identity-based setting name for a connection prefix (the ones this app understands). */
export const identitySettingNames = (prefix: string) =>
  IDENTITY_PROPERTIES.filter((p) => p !== 'accountName' || prefix === HOST_STORAGE).map((p) => `${prefix}__${p}`);

const ACCOUNT_NAME = /^[a-z0-9]{3,24}$/;

function isConnectionString(s: string): boolean {
  return (
    s === 'UseDevelopmentStorage=true' || /(^|;)\s*(AccountName|BlobEndpoint|QueueEndpoint|TableEndpoint)=/i.test(s)
  );
}

function serviceUrl(value: string): string | undefined {
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' || url.search || url.hash || url.username) return undefined;
    return url.href.replace(/\/+$/, '');
  } catch {
    return undefined;
  }
}

/**
 * Reads the storage connection `prefix` from `env`. `needs` are the services the caller uses: for an
 * identity-based connection each must have an endpoint (the app needs queue and table; a queue trigger, queue).
 */
export function parseStorageSettings(
  env: Record<string, string | undefined>,
  prefix: string = HOST_STORAGE,
  needs: readonly StorageService[] = ['queue', 'table'],
): StorageSettingsResult {
  const read = (name: string) => {
    const v = env[name]?.trim();
    return v ? v : undefined;
  };
  const connectionString = read(prefix);
  const identityNames = identitySettingNames(prefix).filter((name) => read(name) !== undefined);
  const endpointHint =
    prefix === HOST_STORAGE
      ? `${prefix}__accountName, or ${needs.map((s) => `${prefix}__${s}ServiceUri`).join(' + ')}`
      : needs.map((s) => `${prefix}__${s}ServiceUri`).join(' + ');

  if (connectionString !== undefined && identityNames.length > 0) {
    return fail(
      prefix,
      `is set together with identity-based settings (${identityNames.join(', ')}): configure either the connection string or the identity-based settings, not both`,
    );
  }
  if (connectionString !== undefined) {
    return isConnectionString(connectionString)
      ? { ok: true, settings: { kind: 'connectionString', connectionString } }
      : fail(
          prefix,
          'is not a storage connection string (expected `AccountName=…;AccountKey=…` or explicit endpoints)',
        );
  }
  if (identityNames.length === 0) {
    return fail(
      prefix,
      `is required (a storage connection string, or identity-based settings: ${endpointHint}; for Azurite use \`npm start\`, which sets it)`,
    );
  }

  const issues: StorageSettingIssue[] = [];
  const serviceUrls: Partial<Record<StorageService, string>> = {};
  const accountName = prefix === HOST_STORAGE ? read(`${prefix}__accountName`) : undefined;
  if (accountName !== undefined) {
    if (ACCOUNT_NAME.test(accountName)) {
      for (const s of SERVICES) serviceUrls[s] = `https://${accountName}.${s}.core.windows.net`;
    } else {
      issues.push({
        setting: `${prefix}__accountName`,
        problem: 'must be a storage account name (3–24 lowercase letters and digits)',
      });
    }
  }
  for (const s of SERVICES) {
    const name = `${prefix}__${s}ServiceUri`;
    const value = read(name);
    if (value === undefined) continue;
    const url = serviceUrl(value);
    if (url)
      serviceUrls[s] = url; // An explicit endpoint wins over the one derived from the account name.
    else
      issues.push({
        setting: name,
        problem: `must be an https URL of the ${s} service, e.g. https://<account>.${s}.core.windows.net`,
      });
  }
  for (const s of needs) {
    const name = `${prefix}__${s}ServiceUri`;
    if (!serviceUrls[s] && !issues.some((i) => i.setting === name || i.setting === `${prefix}__accountName`)) {
      issues.push({
        setting: name,
        problem: `is required for an identity-based connection (the app uses ${s} storage)${prefix === HOST_STORAGE ? `; or set ${prefix}__accountName` : ''}`,
      });
    }
  }

  const credential = read(`${prefix}__credential`);
  if (credential !== undefined && credential.toLowerCase() !== 'managedidentity') {
    issues.push({
      setting: `${prefix}__credential`,
      problem: `must be "managedidentity" (or unset, to use the developer's identity); "${credential}" is not supported`,
    });
  }
  const clientId = read(`${prefix}__clientId`);
  const managedIdentityResourceId = read(`${prefix}__managedIdentityResourceId`);
  if (clientId !== undefined && managedIdentityResourceId !== undefined) {
    issues.push({
      setting: `${prefix}__clientId`,
      problem: `and ${prefix}__managedIdentityResourceId are both set: name the user-assigned identity by one of them`,
    });
  }
  if (managedIdentityResourceId !== undefined && credential === undefined) {
    issues.push({
      setting: `${prefix}__managedIdentityResourceId`,
      problem: `applies only with ${prefix}__credential=managedidentity`,
    });
  }
  if (issues.length > 0) return { ok: false, issues };

  return {
    ok: true,
    settings: {
      kind: 'identity',
      prefix,
      serviceUrls,
      ...(credential !== undefined ? { credential: 'managedidentity' as const } : {}),
      ...(clientId !== undefined ? { clientId } : {}),
      ...(managedIdentityResourceId !== undefined ? { managedIdentityResourceId } : {}),
    },
  };
}

/** Like parseStorageSettings, but throws one Error naming every problem (for callers without a config error type). */
export function storageSettingsOrThrow(
  env: Record<string, string | undefined>,
  prefix?: string,
  needs?: readonly StorageService[],
): StorageSettings {
  const result = parseStorageSettings(env, prefix, needs);
  if (!result.ok) throw new Error(result.issues.map((i) => `${i.setting} ${i.problem}`).join('; '));
  return result.settings;
}

function fail(setting: string, problem: string): StorageSettingsResult {
  return { ok: false, issues: [{ setting, problem }] };
}
