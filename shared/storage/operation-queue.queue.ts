// The provisioning queue producer. Messages are base64-encoded JSON, as the Functions queue trigger expects
// (host.json messageEncoding "base64"). Also the typed helper for other producers: see `sendChange`.
import type { QueueClient } from '@azure/storage-queue';
import {
  changeBytes,
  type ChangeInput,
  changeSchema,
  type ClaimCheckMessage,
  MAX_CHANGE_BYTES,
  type OperationMessage,
  operationMessageSchema,
} from '../domain/change.js';
import { AppError } from '../domain/errors.js';
import { type RunRequest, runRequestSchema } from '../domain/reconciliation.js';
import type { OperationBodies, OperationQueue, PoisonQueue, RawQueueMessage, RunQueue } from '../provisioning/ports.js';
import { queueClient, type StorageTarget } from './storage-clients.js';
import { classifyStorageError } from './table-support.js';

/** A queue message's visibility delay can be at most 7 days. */
const MAX_DELAY_S = 7 * 24 * 3600;
/** A queue message holds at most 64 KiB; ours are base64 text, so that many characters. */
const MAX_QUEUE_MESSAGE_CHARS = 64 * 1024;

export const encodeMessage = (message: unknown) => Buffer.from(JSON.stringify(message), 'utf8').toString('base64');

/** A storage queue of JSON messages, created on first use. */
class JsonQueue {
  private ready: Promise<unknown> | undefined;

  constructor(private readonly queue: QueueClient) {}

  async send(body: unknown, delayMs: number, what: string, encoded = encodeMessage(body)): Promise<void> {
    this.ready ??= this.queue.createIfNotExists().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    try {
      await this.ready;
      const visibilityTimeout = Math.min(MAX_DELAY_S, Math.ceil(delayMs / 1000));
      await this.queue.sendMessage(encoded, visibilityTimeout > 0 ? { visibilityTimeout } : {});
    } catch (error) {
      throw classifyStorageError(error, what);
    }
  }
}

export class StorageOperationQueue implements OperationQueue {
  private readonly queue: JsonQueue;
  /** Without `bodies` (producers outside the app), a change too large for one message is refused. */
  constructor(
    queue: QueueClient,
    private readonly bodies?: OperationBodies,
  ) {
    this.queue = new JsonQueue(queue);
  }

  async enqueue(message: OperationMessage, delayMs = 0): Promise<void> {
    const parsed = operationMessageSchema.parse(message);
    const encoded = encodeMessage(parsed);
    if (encoded.length <= MAX_QUEUE_MESSAGE_CHARS)
      return this.queue.send(parsed, delayMs, 'enqueue operation', encoded);
    const bytes = changeBytes(parsed);
    if (!this.bodies || bytes > MAX_CHANGE_BYTES) {
      throw new AppError(
        'invalid',
        'payload-too-large',
        `The change for ${parsed.externalId} is ${bytes} bytes: ${this.bodies ? `at most ${MAX_CHANGE_BYTES} are accepted` : 'too large for one queue message; submit it with POST /api/connections/{id}/changes'}`,
      );
    }
    const ref = await this.bodies.put(parsed);
    const claim: ClaimCheckMessage = {
      claimCheck: ref,
      type: parsed.type,
      connectionId: parsed.connectionId,
      externalId: parsed.externalId,
      version: parsed.version,
      operationId: parsed.operationId,
    };
    return this.queue.send(claim, delayMs, 'enqueue operation (claim check)');
  }
}

/** Reconciliation run requests (RECONCILIATION_QUEUE). */
export class StorageRunQueue implements RunQueue {
  private readonly queue: JsonQueue;
  constructor(queue: QueueClient) {
    this.queue = new JsonQueue(queue);
  }

  enqueue(request: RunRequest, delayMs = 0): Promise<void> {
    return this.queue.send(runRequestSchema.parse(request), delayMs, 'enqueue reconciliation run');
  }
}

/** A poison queue read raw (no decoding here: the use case decides what the text is). */
export class StoragePoisonQueue implements PoisonQueue {
  readonly name: string;
  constructor(private readonly queue: QueueClient) {
    this.name = queue.name;
  }

  async receive(max: number): Promise<RawQueueMessage[]> {
    try {
      const { receivedMessageItems } = await this.queue.receiveMessages({
        numberOfMessages: Math.min(32, max),
        visibilityTimeout: 120,
      });
      return receivedMessageItems.map((m) => ({
        id: m.messageId,
        popReceipt: m.popReceipt,
        text: m.messageText,
        insertedOn: m.insertedOn.toISOString(),
      }));
    } catch (error) {
      // Nothing ever failed on this queue yet: the host creates a poison queue on the first poisoned message.
      if ((error as { statusCode?: number }).statusCode === 404) return [];
      throw classifyStorageError(error, `read ${this.name}`);
    }
  }

  async remove(message: RawQueueMessage): Promise<void> {
    try {
      await this.queue.deleteMessage(message.id, message.popReceipt);
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return;
      throw classifyStorageError(error, `delete from ${this.name}`);
    }
  }
}

/**
 * For producers written in TypeScript: validates a change, gives it an operation id if it has none, and puts
 * it on the provisioning queue of the given storage account (a connection string, or parsed settings such as
 * `storageSettingsOrThrow(process.env)` for an identity-based connection). Returns the operation id.
 */
export async function sendChange(
  storage: StorageTarget,
  change: ChangeInput,
  queueName = 'provisioning-operations',
): Promise<string> {
  const parsed = changeSchema.parse(change);
  const operationId = parsed.operationId ?? crypto.randomUUID();
  await new StorageOperationQueue(queueClient(storage, queueName)).enqueue({ ...parsed, operationId });
  return operationId;
}
