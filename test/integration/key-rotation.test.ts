// Key rotation: values encrypted under an old key keep working after a new key is put first, and move to the
// new key the next time the connection is tested. Use cases with the real Table and Graph adapters.
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { GraphTenantGatewayFactory } from '../../shared/graph/tenant-gateway.graph.js';
import { connectionSecrets, createConnection } from '../../shared/provisioning/connections.js';
import { systemClock } from '../../shared/provisioning/ports.js';
import { testConnection } from '../../shared/provisioning/test-connection.js';
import { generateEncryptionKeyEntry, parseEncryptionKeys, SecretCipher } from '../../shared/security/secret-cipher.js';
import { TableAuditLog } from '../../shared/storage/audit-log.table.js';
import { TableConnectionRepository } from '../../shared/storage/connection-repository.table.js';
import { tableClient } from '../../shared/storage/storage-clients.js';
import { DEFAULT_SEED, startTestTenant, type TestTenant } from '../support/simulated-tenant.js';
import { uniqueName } from '../support/unique.js';

let sim: TestTenant;
beforeAll(async () => {
  sim = await startTestTenant();
});
afterAll(async () => sim?.close());

it('decrypts with the old key after rotation and re-encrypts under the new one when tested', async () => {
  const connections = new TableConnectionRepository(
    tableClient(inject('storageConnectionString'), uniqueName('rotation').replaceAll('-', '')),
  );
  const [oldKey, newKey] = [generateEncryptionKeyEntry('old'), generateEncryptionKeyEntry('new')];
  const before = {
    connections,
    audit: new TableAuditLog(tableClient(inject('storageConnectionString'), 'configaudit')),
    secrets: new SecretCipher(parseEncryptionKeys(oldKey)),
    clock: systemClock,
  };
  const { contoso } = DEFAULT_SEED;
  const { value: created } = await createConnection(
    before,
    {
      name: 'Rotating',
      tenantId: contoso.tenantId,
      domain: contoso.domain,
      clientId: contoso.fullApp.clientId,
      clientSecret: contoso.fullApp.secret,
      authMode: 'client_credentials',
      cloud: 'global',
      authorityHost: sim.authorityHost,
      graphEndpoint: sim.graphBaseUrl,
    },
    { type: 'function-key' },
  );
  expect((await connections.get(created.id))!.clientSecretCipher).toMatch(/^v1\.old\./);

  const after = {
    ...before,
    secrets: new SecretCipher(parseEncryptionKeys(`${newKey},${oldKey}`)),
    tenants: new GraphTenantGatewayFactory(),
  };
  const result = await testConnection(after, created.id);
  expect(result.status).toBe('ready');
  const stored = (await connections.get(created.id))!;
  expect(stored.clientSecretCipher).toMatch(/^v1\.new\./);
  // The old key can now be retired.
  expect(connectionSecrets({ secrets: new SecretCipher(parseEncryptionKeys(newKey)) }, stored).clientSecret).toBe(
    contoso.fullApp.secret,
  );
});
