// The provisioning queue producer. Messages are base64-encoded JSON, as the Functions queue trigger expects
// (host.json messageEncoding "base64"). Also the typed helper for other producers: see `sendChange`.
import type { QueueClient } from '@azure/storage-queue';
import { changeSchema, operationMessageSchema, type ChangeInput, type OperationMessage } from '../domain/change.js';
import { runRequestSchema, type RunRequest } from '../domain/reconciliation.js';
import type { OperationQueue, RunQueue } from '../provisioning/ports.js';
import { queueClient, type StorageTarget } from './storage-clients.js';
import { classifyStorageError } from './table-support.js';

/** A queue message's visibility delay can be at most 7 days. */
const MAX_DELAY_S = 7 * 24 * 3600;

export const encodeMessage = (message: unknown) => Buffer.from(JSON.stringify(message), 'utf8').toString('base64');

/** A storage queue of JSON messages, created on first use. */
class JsonQueue {
  private ready: Promise<unknown> | undefined;

  constructor(private readonly queue: QueueClient) {}

  async send(body: unknown, delayMs: number, what: string): Promise<void> {
    this.ready ??= this.queue.createIfNotExists().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    try {
      await this.ready;
      const visibilityTimeout = Math.min(MAX_DELAY_S, Math.ceil(delayMs / 1000));
      await this.queue.sendMessage(encodeMessage(body), visibilityTimeout > 0 ? { visibilityTimeout } : {});
    } catch (error) {
      throw classifyStorageError(error, what);
    }
  }
}

export class StorageOperationQueue implements OperationQueue {
  private readonly queue: JsonQueue;
  constructor(queue: QueueClient) {
    this.queue = new JsonQueue(queue);
  }

  enqueue(message: OperationMessage, delayMs = 0): Promise<void> {
    return this.queue.send(operationMessageSchema.parse(message), delayMs, 'enqueue operation');
  }
}

/** Reconciliation run requests (RECONCILIATION_QUEUE). */
export class StorageRunQueue implements RunQueue {
  private readonly queue: JsonQueue;
  constructor(queue: QueueClient) {
    this.queue = new JsonQueue(queue);
  }

  enqueue(request: RunRequest): Promise<void> {
    return this.queue.send(runRequestSchema.parse(request), 0, 'enqueue reconciliation run');
  }
}

/**
 * For producers written in TypeScript: validates a change, gives it an operation id if it has none, and puts
 * it on the provisioning queue of the given storage account (a connection string, or parsed settings such as
 * `storageSettingsOrThrow(process.env)` for an identity-based connection). Returns the operation id.
 */
export async function sendChange(storage: StorageTarget, change: ChangeInput, queueName = 'provisioning-operations'): Promise<string> {
  const parsed = changeSchema.parse(change);
  const operationId = parsed.operationId ?? crypto.randomUUID();
  await new StorageOperationQueue(queueClient(storage, queueName)).enqueue({ ...parsed, operationId });
  return operationId;
}
