// Loaded into the bench's Azurite process only (node --import, bench/reconcile.ts). Azurite checks every inserted
// entity for an existing one with a LokiJS query that scans the entity's whole partition, so loading 100,000
// users (one partition) plus their link index takes about 40 minutes. While the bench seeds rows it knows to be
// new, inserts skip that check; SIGUSR2 (sent when seeding is done) restores Azurite's own code for the rest of
// the process, so everything measured runs on stock Azurite.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const store = require('azurite/dist/src/table/persistence/LokiTableMetadataStore.js').default;
const original = store.prototype.insertTableEntity;
// Only the version this was written against (azurite 3.35.0): its insert is the check, two properties, the
// transaction bookkeeping and the insert.
const expected =
  /findOne\(\{\s*PartitionKey: entity\.PartitionKey,\s*RowKey: entity\.RowKey\s*\}\)[\s\S]*transactionDeleteTheseEntities\.push\(entity\)[\s\S]*tableEntityCollection\.insert\(entity\)/;
if (expected.test(original.toString())) {
  let seeding = true;
  process.on('SIGUSR2', () => {
    seeding = false;
  });
  store.prototype.insertTableEntity = async function insertTableEntity(context, table, account, entity, batchId) {
    if (!seeding) return original.call(this, context, table, account, entity, batchId);
    const collection = this.getEntityCollection(account, table, context);
    entity.properties.Timestamp = entity.lastModifiedTime;
    entity.properties['Timestamp@odata.type'] = 'Edm.DateTime';
    if (batchId !== '' && batchId !== undefined) this.transactionDeleteTheseEntities.push(entity);
    collection.insert(entity);
    return entity;
  };
  process.stderr.write('[bench] Azurite: inserts skip the existence check until SIGUSR2\n');
} else {
  process.stderr.write('[bench] Azurite: unknown insertTableEntity, seeding at its own pace\n');
}
