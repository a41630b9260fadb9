// Storage-queue trigger of the local host, following the Functions queue trigger's documented behaviour
// (learn.microsoft.com, "Azure Queue storage trigger for Azure Functions": polling, concurrency, poison messages):
// - fetches `batchSize` messages at once and fetches the next batch when the number still running drops to
//   `newBatchThreshold`;
// - decodes base64 (messageEncoding) and hands the handler parsed JSON, or the string when it is not JSON;
// - on success deletes the message; on failure makes it visible again after `visibilityTimeout`; after
//   `maxDequeueCount` failed attempts copies the message, unchanged, to `<queue>-poison` and deletes it;
// - polls with a random exponential back-off up to `maxPollingInterval` while the queue is empty.
import { randomUUID } from 'node:crypto';
import type { DequeuedMessageItem, QueueClient } from '@azure/storage-queue';
import type { StorageQueueFunctionDefinition } from '../../functions/define.js';
import { queueClient, type StorageTarget } from '../../shared/storage/storage-clients.js';
import { InvocationContext } from './azure-functions-classes.js';
import type { HostLogger } from './host-logger.js';
import type { QueueSettings } from './host-settings.js';

/** How long a received message stays invisible while its invocation runs (the host uses 10 minutes, renewed). */
const DEFAULT_PROCESSING_VISIBILITY_S = 600;
const MIN_POLL_MS = 100;

export interface QueueListenerOptions {
  fn: StorageQueueFunctionDefinition;
  queueName: string;
  /** The trigger's storage connection: a connection string or identity-based settings. */
  storage: StorageTarget;
  settings: QueueSettings;
  logger: HostLogger;
  /** Invisibility of a message being processed; renewed at half-time while the invocation runs. */
  processingVisibilitySeconds?: number;
}

export class QueueListener {
  private readonly queue: QueueClient;
  private readonly poison: QueueClient;
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  readonly fn: StorageQueueFunctionDefinition;
  readonly queueName: string;
  private readonly processingVisibility: number;

  constructor(private readonly options: QueueListenerOptions) {
    this.fn = options.fn;
    this.queueName = options.queueName;
    this.processingVisibility = options.processingVisibilitySeconds ?? DEFAULT_PROCESSING_VISIBILITY_S;
    this.queue = queueClient(options.storage, options.queueName);
    this.poison = queueClient(options.storage, `${options.queueName}-poison`);
  }

  /** Starts polling in the background; like the host, an unreachable queue is retried, not fatal. */
  start(): void {
    this.loop = this.run();
  }

  /** Stops polling and waits for running invocations to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
  }

  private async run(): Promise<void> {
    const { batchSize, newBatchThreshold, maxPollingInterval } = this.options.settings;
    let delay = MIN_POLL_MS;
    let queueReady = false;
    while (!this.stopped) {
      if (!queueReady) {
        try {
          await this.queue.createIfNotExists();
          queueReady = true;
        } catch (error) {
          this.options.logger.warn(
            'host',
            undefined,
            `queue ${this.options.queueName}: not reachable, retrying: ${(error as Error).message}`,
          );
          await this.sleep(maxPollingInterval);
          continue;
        }
      }
      if (this.inFlight.size > newBatchThreshold) {
        await Promise.race(this.inFlight);
        continue;
      }
      let messages: DequeuedMessageItem[];
      try {
        ({ receivedMessageItems: messages } = await this.queue.receiveMessages({
          numberOfMessages: batchSize,
          visibilityTimeout: this.processingVisibility,
        }));
      } catch (error) {
        this.options.logger.warn(
          'host',
          undefined,
          `queue ${this.options.queueName}: receive failed: ${(error as Error).message}`,
        );
        messages = [];
      }
      if (messages.length === 0) {
        await this.sleep(delay);
        // Random exponential back-off, as the host's polling strategy does.
        delay = Math.min(maxPollingInterval, Math.max(MIN_POLL_MS, delay * (1.5 + Math.random())));
        continue;
      }
      delay = MIN_POLL_MS;
      for (const message of messages) {
        const task = this.process(message).finally(() => this.inFlight.delete(task));
        this.inFlight.add(task);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async process(message: DequeuedMessageItem): Promise<void> {
    const { fn, settings, logger } = this.options;
    // A message received more often than allowed (e.g. its host died mid-invocation each time) is poisoned
    // without another attempt, as the host does.
    if (message.dequeueCount > settings.maxDequeueCount) return this.moveToPoison(message);

    const invocationId = randomUUID();
    const context = new InvocationContext({
      invocationId,
      functionName: fn.name,
      logHandler: (level, ...args) => logger.log(level, fn.name, invocationId, ...args),
      triggerMetadata: {
        id: message.messageId,
        popReceipt: message.popReceipt,
        dequeueCount: message.dequeueCount,
        insertionTime: message.insertedOn.toISOString(),
        expirationTime: message.expiresOn.toISOString(),
        nextVisibleTime: message.nextVisibleOn.toISOString(),
      },
      options: {
        trigger: {
          type: 'queueTrigger',
          name: 'queueItem',
          queueName: this.options.queueName,
          connection: fn.connection,
        },
        extraInputs: [],
        extraOutputs: [],
      },
    });

    // Keep the message invisible while the invocation runs (the host renews its hold the same way).
    const renewal = setInterval(
      () => {
        void this.queue
          .updateMessage(message.messageId, message.popReceipt, undefined, this.processingVisibility)
          .then((r) => (message.popReceipt = r.popReceipt!))
          .catch(() => undefined);
      },
      (this.processingVisibility * 1000) / 2,
    );
    try {
      const text = decodeMessage(message.messageText, settings.messageEncoding);
      context.triggerMetadata!.queueTrigger = text;
      await fn.handler(parseJsonOrString(text), context);
    } catch (error) {
      clearInterval(renewal);
      context.error(
        `Executed '${fn.name}' (Failed, dequeueCount ${message.dequeueCount}): ${(error as Error)?.stack ?? String(error)}`,
      );
      if (message.dequeueCount >= settings.maxDequeueCount) return this.moveToPoison(message);
      await this.release(message);
      return;
    }
    clearInterval(renewal);
    await this.queue
      .deleteMessage(message.messageId, message.popReceipt)
      .catch((error: Error) =>
        logger.warn(
          'host',
          invocationId,
          `queue ${this.options.queueName}: delete of ${message.messageId} failed: ${error.message}`,
        ),
      );
  }

  private async release(message: DequeuedMessageItem): Promise<void> {
    const seconds = Math.ceil(this.options.settings.visibilityTimeout / 1000);
    await this.queue
      .updateMessage(message.messageId, message.popReceipt, undefined, seconds)
      .catch((error: Error) =>
        this.options.logger.warn(
          'host',
          undefined,
          `queue ${this.options.queueName}: release of ${message.messageId} failed: ${error.message}`,
        ),
      );
  }

  private async moveToPoison(message: DequeuedMessageItem): Promise<void> {
    const { logger, queueName } = this.options;
    await this.poison.createIfNotExists();
    await this.poison.sendMessage(message.messageText);
    await this.queue.deleteMessage(message.messageId, message.popReceipt);
    logger.warn(
      'host',
      undefined,
      `queue ${queueName}: message ${message.messageId} moved to ${queueName}-poison after ${message.dequeueCount} attempts`,
    );
  }
}

function decodeMessage(text: string, encoding: QueueSettings['messageEncoding']): string {
  if (encoding === 'none') return text;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
    throw new Error('Message is not valid base64 (host.json messageEncoding is "base64")');
  }
  return Buffer.from(text, 'base64').toString('utf8');
}

/** As the worker does: JSON when it parses, the string otherwise. */
function parseJsonOrString(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
