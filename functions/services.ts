// Composition root: the adapters the use cases run with, built once per process from configuration.
import { getConfig } from '../shared/config.js';
import { PROVISIONING_QUEUE } from '../shared/domain/change.js';
import { RECONCILIATION_QUEUE } from '../shared/domain/reconciliation.js';
import { oauthClient } from '../shared/graph/oauth-client.js';
import { GraphTenantGatewayFactory } from '../shared/graph/tenant-gateway.graph.js';
import { GovernorRegistry, scaledLimits } from '../shared/graph/throttle-governor.js';
import { ConnectionSnapshots } from '../shared/provisioning/connection-snapshots.js';
import { systemClock } from '../shared/provisioning/ports.js';
import { SecretCipher } from '../shared/security/secret-cipher.js';
import { TableAuditLog } from '../shared/storage/audit-log.table.js';
import { TableConnectionRepository } from '../shared/storage/connection-repository.table.js';
import { TableLicenceGroupStore } from '../shared/storage/licence-groups.table.js';
import { TableOAuthStateRepository } from '../shared/storage/oauth-state-repository.table.js';
import { TableOperationBodies } from '../shared/storage/operation-bodies.table.js';
import { StorageOperationQueue, StoragePoisonQueue, StorageRunQueue } from '../shared/storage/operation-queue.queue.js';
import { TablePendingRemovals } from '../shared/storage/pending-removals.table.js';
import { TableProvisioningLog } from '../shared/storage/provisioning-log.table.js';
import { TableReconciliationStore } from '../shared/storage/reconciliation.table.js';
import { TableScimStore, TableScimTokens } from '../shared/storage/scim.table.js';
import { queueClient, tableClient } from '../shared/storage/storage-clients.js';
import { TableUserStateRepository } from '../shared/storage/user-state-repository.table.js';

export const TABLES = {
  connections: 'connections',
  oauthStates: 'oauthstates',
  users: 'users',
  groups: 'groups',
  logs: 'provisioninglogs',
  reconciliation: 'reconciliation',
  operationBodies: 'operationbodies',
  audit: 'configaudit',
  scim: 'scim',
} as const;

function build() {
  const config = getConfig();
  const storage = config.storage;
  const secrets = new SecretCipher(config.SECRETS_ENCRYPTION_KEYS);
  const operationBodies = new TableOperationBodies(tableClient(storage, TABLES.operationBodies), secrets);
  return {
    config,
    clock: systemClock,
    secrets,
    operationBodies,
    connections: new ConnectionSnapshots(
      new TableConnectionRepository(tableClient(storage, TABLES.connections)),
      systemClock,
      config.CONNECTION_SNAPSHOT_SECONDS * 1000,
    ),
    oauthStates: new TableOAuthStateRepository(tableClient(storage, TABLES.oauthStates)),
    audit: new TableAuditLog(tableClient(storage, TABLES.audit)),
    oauth: oauthClient,
    tenants: new GraphTenantGatewayFactory(new GovernorRegistry(scaledLimits(config.GRAPH_THROTTLE_TIME_SCALE))),
    users: new TableUserStateRepository(tableClient(storage, TABLES.users)),
    groups: new TableUserStateRepository(tableClient(storage, TABLES.groups)),
    // Beside the user rows, in partitions of their own (see the adapter).
    pendingRemovals: new TablePendingRemovals(tableClient(storage, TABLES.users)),
    // Group-based licensing's bookkeeping, beside the group rows in partitions of its own (see the adapter).
    licenceGroups: new TableLicenceGroupStore(tableClient(storage, TABLES.groups)),
    log: new TableProvisioningLog(tableClient(storage, TABLES.logs)),
    queue: new StorageOperationQueue(queueClient(storage, PROVISIONING_QUEUE), operationBodies),
    reconciliation: new TableReconciliationStore(tableClient(storage, TABLES.reconciliation)),
    runs: new StorageRunQueue(queueClient(storage, RECONCILIATION_QUEUE)),
    poison: {
      operations: new StoragePoisonQueue(queueClient(storage, `${PROVISIONING_QUEUE}-poison`)),
      runs: new StoragePoisonQueue(queueClient(storage, `${RECONCILIATION_QUEUE}-poison`)),
    },
    // SCIM: tokens and the resources as received, in partitions of their own (see the adapter).
    scim: new TableScimStore(tableClient(storage, TABLES.scim)),
    scimTokens: new TableScimTokens(tableClient(storage, TABLES.scim)),
    userLeaseMs: config.PROVISIONING_LEASE_SECONDS * 1000,
  };
}

let instance: ReturnType<typeof build> | undefined;
export const services = () => (instance ??= build());
