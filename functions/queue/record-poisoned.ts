import type { InvocationContext } from '@azure/functions';
import { PROVISIONING_QUEUE } from '../../shared/domain/change.js';
import { recordFailure } from '../../shared/provisioning/operations.js';
import { storageQueueFunction } from '../define.js';
import { services } from '../services.js';

/** Drains the poison queue into the record: the operation shows as failed on the user and in the log. */
export async function recordPoisoned(item: unknown, context: InvocationContext): Promise<void> {
  context.error(`Provisioning message ${String(context.triggerMetadata?.id)} exhausted its retries; recording it as failed`);
  await recordFailure(services(), item, {
    code: 'retries-exhausted',
    kind: 'transient',
    message: 'The operation failed on every attempt the Functions host made (see the function logs); retry it when the cause is fixed',
  });
}

export const recordPoisonedFunction = storageQueueFunction({ name: 'record-poisoned', queueName: `${PROVISIONING_QUEUE}-poison`, handler: recordPoisoned });
