// Reachability probes for the storage services the app uses (tables for state, queues for operations).
import type { DependencyProbe } from '../provisioning/health.js';
import { queueServiceClient, type StorageTarget, tableServiceClient } from './storage-clients.js';

export function storageProbes(storage: StorageTarget): DependencyProbe[] {
  // One attempt each: health answers now, it does not wait out the SDK's retry back-off.
  const tables = tableServiceClient(storage, { maxTries: 1 });
  const queues = queueServiceClient(storage, { maxTries: 1, tryTimeoutMs: 3000 });
  return [
    {
      name: 'tableStorage',
      check: async (abortSignal) => {
        await tables.listTables({ abortSignal }).byPage({ maxPageSize: 1 }).next();
      },
    },
    {
      name: 'queueStorage',
      check: async (abortSignal) => {
        await queues.listQueues({ abortSignal }).byPage({ maxPageSize: 1 }).next();
      },
    },
  ];
}
