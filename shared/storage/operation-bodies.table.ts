// Claim checks: changes too large for a queue message (64 KiB) wait here while a small message referring to them
// is on the queue. One row per stored change: PK connection, RK a random id. The body is encrypted as a whole
// (it may hold a password), bound to its row, and written as long text (writeLongText: an entity holds at most
// 1 MiB, which MAX_CHANGE_BYTES keeps well under).
import type { TableClient } from '@azure/data-tables';
import { type OperationMessage, operationMessageSchema } from '../domain/change.js';
import { AppError } from '../domain/errors.js';
import type { OperationBodies, SecretProtector } from '../provisioning/ports.js';
import { encodeKey, readLongText, writeLongText } from './table-keys.js';
import { classifyStorageError, ensureTable, statusOf } from './table-support.js';

const aad = (connectionId: string, ref: string) => `operation-body:${connectionId}:${ref}`;

export class TableOperationBodies implements OperationBodies {
  constructor(
    private readonly table: TableClient,
    private readonly secrets: SecretProtector,
  ) {}

  async put(message: OperationMessage): Promise<string> {
    await ensureTable(this.table);
    const ref = crypto.randomUUID();
    const sealed = this.secrets.encrypt(JSON.stringify(message), aad(message.connectionId, ref));
    const entity: Record<string, unknown> & { partitionKey: string; rowKey: string } = {
      partitionKey: encodeKey(message.connectionId),
      rowKey: ref,
    };
    writeLongText(entity, 'body', sealed);
    try {
      await this.table.createEntity(entity);
    } catch (error) {
      throw classifyStorageError(error, 'store a large change');
    }
    return ref;
  }

  async get(connectionId: string, ref: string): Promise<OperationMessage | undefined> {
    await ensureTable(this.table);
    let entity: Record<string, unknown>;
    try {
      entity = await this.table.getEntity(encodeKey(connectionId), encodeKey(ref));
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw classifyStorageError(error, 'read a large change');
    }
    const sealed = readLongText(entity, 'body');
    const parsed = operationMessageSchema.safeParse(JSON.parse(this.secrets.decrypt(sealed, aad(connectionId, ref))));
    if (!parsed.success)
      throw new AppError('invalid', 'claim-check-corrupt', `The stored change ${ref} is not a valid change`);
    return parsed.data;
  }

  async delete(connectionId: string, ref: string): Promise<void> {
    await ensureTable(this.table);
    try {
      await this.table.deleteEntity(encodeKey(connectionId), encodeKey(ref));
    } catch (error) {
      if (statusOf(error) === 404) return;
      throw classifyStorageError(error, 'delete a large change');
    }
  }
}
