// The provisioning queue producer. Messages are base64-encoded JSON, as the Functions queue trigger expects
// (host.json messageEncoding "base64"). Also the typed helper for other producers: see `sendChange`.
import type { QueueClient } from '@azure/storage-queue';
import { changeSchema, operationMessageSchema, type ChangeInput, type OperationMessage } from '../domain/change.js';
import type { OperationQueue } from '../provisioning/ports.js';
import { queueClient } from './storage-clients.js';
import { classifyStorageError } from './table-support.js';

/** A queue message's visibility delay can be at most 7 days. */
const MAX_DELAY_S = 7 * 24 * 3600;

export const encodeMessage = (message: unknown) => Buffer.from(JSON.stringify(message), 'utf8').toString('base64');

export class StorageOperationQueue implements OperationQueue {
  private ready: Promise<unknown> | undefined;

  constructor(private readonly queue: QueueClient) {}

  async enqueue(message: OperationMessage, delayMs = 0): Promise<void> {
    this.ready ??= this.queue.createIfNotExists().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    try {
      await this.ready;
      const visibilityTimeout = Math.min(MAX_DELAY_S, Math.ceil(delayMs / 1000));
      await this.queue.sendMessage(encodeMessage(operationMessageSchema.parse(message)), visibilityTimeout > 0 ? { visibilityTimeout } : {});
    } catch (error) {
      throw classifyStorageError(error, 'enqueue operation');
    }
  }
}

/**
 * For producers written in TypeScript: validates a change, gives it an operation id if it has none, and puts
 * it on the provisioning queue of the given storage account. Returns the operation id.
 */
export async function sendChange(storageConnectionString: string, change: ChangeInput, queueName = 'provisioning-operations'): Promise<string> {
  const parsed = changeSchema.parse(change);
  const operationId = parsed.operationId ?? crypto.randomUUID();
  await new StorageOperationQueue(queueClient(storageConnectionString, queueName)).enqueue({ ...parsed, operationId });
  return operationId;
}
