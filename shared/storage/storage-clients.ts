// Storage clients built from the app's storage setting. Local Azurite endpoints are plain http, which the
// Tables SDK refuses unless told otherwise.
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { TableClient, TableServiceClient, type TableServiceClientOptions } from '@azure/data-tables';
import { QueueClient, QueueServiceClient, type StoragePipelineOptions } from '@azure/storage-queue';

/** Storage requests this process has sent, per service (benchmarks report Table transactions per operation). */
export const storageRequestCounts = { table: 0 };
const counting = (service: keyof typeof storageRequestCounts): PipelinePolicy => ({
  name: `count-${service}-requests`,
  sendRequest: (request, next) => {
    storageRequestCounts[service]++;
    return next(request);
  },
});

export interface StorageRetry {
  /** Attempts per call including the first (the SDK default is several, with back-off). */
  maxTries?: number;
  /** Per-attempt timeout. */
  tryTimeoutMs?: number;
}

const isPlainHttp = (connectionString: string) =>
  /UseDevelopmentStorage=true/i.test(connectionString) || /Endpoint=http:\/\//i.test(connectionString);

function tableOptions(connectionString: string, retry?: StorageRetry): TableServiceClientOptions {
  return {
    allowInsecureConnection: isPlainHttp(connectionString),
    additionalPolicies: [{ policy: counting('table'), position: 'perCall' }],
    ...(retry ? { retryOptions: { maxRetries: Math.max(0, (retry.maxTries ?? 1) - 1) } } : {}),
  };
}

function queueOptions(retry?: StorageRetry): StoragePipelineOptions {
  return retry ? { retryOptions: { maxTries: retry.maxTries ?? 1, tryTimeoutInMs: retry.tryTimeoutMs ?? 5000 } } : {};
}

export const tableServiceClient = (connectionString: string, retry?: StorageRetry) =>
  TableServiceClient.fromConnectionString(connectionString, tableOptions(connectionString, retry));

export const tableClient = (connectionString: string, tableName: string, retry?: StorageRetry) =>
  TableClient.fromConnectionString(connectionString, tableName, tableOptions(connectionString, retry));

export const queueServiceClient = (connectionString: string, retry?: StorageRetry) =>
  QueueServiceClient.fromConnectionString(connectionString, queueOptions(retry));

export const queueClient = (connectionString: string, queueName: string, retry?: StorageRetry) =>
  new QueueClient(connectionString, queueName, queueOptions(retry));
