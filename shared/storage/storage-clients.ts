// Storage clients built from the app's storage setting: a connection string (Azurite, account key) or an
// identity-based connection (Entra ID token from the managed identity or the developer; no account key).
// Local Azurite endpoints are plain http, which the Tables SDK refuses unless told otherwise.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { TableClient, TableServiceClient, type TableServiceClientOptions } from '@azure/data-tables';
import { DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { QueueClient, QueueServiceClient, type StoragePipelineOptions } from '@azure/storage-queue';
import type { StorageService, StorageSettings } from './storage-settings.js';

/** Storage requests this process has sent, per service (benchmarks report Table transactions per operation). */
export const storageRequestCounts = { table: 0 };
/** The same, per kind of provisioning operation (`countedOperation`): how many ran, and their Table requests. */
export const storageRequestsByOperation: Record<string, { operations: number; table: number }> = {};
const operationScope = new AsyncLocalStorage<{ table: number }>();
const counting = (service: keyof typeof storageRequestCounts): PipelinePolicy => ({
  name: `count-${service}-requests`,
  sendRequest: (request, next) => {
    storageRequestCounts[service]++;
    const scope = operationScope.getStore();
    if (scope) scope[service]++;
    return next(request);
  },
});

/**
 * Runs one operation counting the storage requests it sends (and only its own, when many run at once), added up
 * under the kind `kindOf` names from its result (or `failed` when it throws).
 */
export async function countedOperation<T>(kindOf: (result: T) => string, run: () => Promise<T>): Promise<T> {
  const counts = { table: 0 };
  let kind = 'threw';
  try {
    const result = await operationScope.run(counts, run);
    kind = kindOf(result);
    return result;
  } finally {
    const total = (storageRequestsByOperation[kind] ??= { operations: 0, table: 0 });
    total.operations++;
    total.table += counts.table;
  }
}

export interface StorageRetry {
  /** Attempts per call including the first (the SDK default is several, with back-off). */
  maxTries?: number;
  /** Per-attempt timeout. */
  tryTimeoutMs?: number;
}

/** The parsed storage setting, or (tests, tools, Azurite) a plain connection string. */
export type StorageTarget = StorageSettings | string;

type IdentitySettings = Extract<StorageSettings, { kind: 'identity' }>;

const settingsOf = (target: StorageTarget): StorageSettings =>
  typeof target === 'string' ? { kind: 'connectionString', connectionString: target } : target;

const isPlainHttp = (connectionString: string) =>
  /UseDevelopmentStorage=true/i.test(connectionString) || /Endpoint=http:\/\//i.test(connectionString);

// One credential per identity, shared by every client of this process, so tokens are cached once.
const credentials = new Map<string, TokenCredential>();

/**
 * The token credential of an identity-based connection, as the Functions host chooses it: `managedidentity`
 * → the managed identity (the user-assigned one when a client or resource id is given); unset → the
 * DefaultAzureCredential chain (a developer's Azure CLI / VS Code sign-in, or a managed identity).
 */
export function storageCredential(settings: IdentitySettings): TokenCredential {
  const key = JSON.stringify([
    settings.credential ?? '',
    settings.clientId ?? '',
    settings.managedIdentityResourceId ?? '',
  ]);
  let credential = credentials.get(key);
  if (!credential) {
    if (settings.credential === 'managedidentity') {
      credential = settings.clientId
        ? new ManagedIdentityCredential({ clientId: settings.clientId })
        : settings.managedIdentityResourceId
          ? new ManagedIdentityCredential({ resourceId: settings.managedIdentityResourceId })
          : new ManagedIdentityCredential();
    } else {
      credential = new DefaultAzureCredential(settings.clientId ? { managedIdentityClientId: settings.clientId } : {});
    }
    credentials.set(key, credential);
  }
  return credential;
}

function endpoint(settings: IdentitySettings, service: StorageService): string {
  const url = settings.serviceUrls[service];
  if (!url) {
    throw new Error(
      `${settings.prefix}__${service}ServiceUri is not set: the identity-based storage connection "${settings.prefix}" has no ${service} endpoint`,
    );
  }
  return url;
}

function tableOptions(settings: StorageSettings, retry?: StorageRetry): TableServiceClientOptions {
  return {
    allowInsecureConnection: settings.kind === 'connectionString' && isPlainHttp(settings.connectionString),
    additionalPolicies: [{ policy: counting('table'), position: 'perCall' }],
    ...(retry ? { retryOptions: { maxRetries: Math.max(0, (retry.maxTries ?? 1) - 1) } } : {}),
  };
}

function queueOptions(retry?: StorageRetry): StoragePipelineOptions {
  return retry ? { retryOptions: { maxTries: retry.maxTries ?? 1, tryTimeoutInMs: retry.tryTimeoutMs ?? 5000 } } : {};
}

export function tableServiceClient(target: StorageTarget, retry?: StorageRetry): TableServiceClient {
  const settings = settingsOf(target);
  return settings.kind === 'connectionString'
    ? TableServiceClient.fromConnectionString(settings.connectionString, tableOptions(settings, retry))
    : new TableServiceClient(endpoint(settings, 'table'), storageCredential(settings), tableOptions(settings, retry));
}

export function tableClient(target: StorageTarget, tableName: string, retry?: StorageRetry): TableClient {
  const settings = settingsOf(target);
  return settings.kind === 'connectionString'
    ? TableClient.fromConnectionString(settings.connectionString, tableName, tableOptions(settings, retry))
    : new TableClient(
        endpoint(settings, 'table'),
        tableName,
        storageCredential(settings),
        tableOptions(settings, retry),
      );
}

export function queueServiceClient(target: StorageTarget, retry?: StorageRetry): QueueServiceClient {
  const settings = settingsOf(target);
  return settings.kind === 'connectionString'
    ? QueueServiceClient.fromConnectionString(settings.connectionString, queueOptions(retry))
    : new QueueServiceClient(endpoint(settings, 'queue'), storageCredential(settings), queueOptions(retry));
}

export function queueClient(target: StorageTarget, queueName: string, retry?: StorageRetry): QueueClient {
  const settings = settingsOf(target);
  return settings.kind === 'connectionString'
    ? new QueueClient(settings.connectionString, queueName, queueOptions(retry))
    : new QueueClient(
        `${endpoint(settings, 'queue')}/${encodeURIComponent(queueName)}`,
        storageCredential(settings),
        queueOptions(retry),
      );
}
