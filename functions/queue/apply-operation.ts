import type { InvocationContext } from '@azure/functions';
import {
  claimCheckMessageSchema,
  isClaimCheck,
  objectTypeOf,
  operationMessageSchema,
  PROVISIONING_QUEUE,
} from '../../shared/domain/change.js';
import { fieldErrors } from '../../shared/domain/validation.js';
import { applyOperation } from '../../shared/provisioning/apply-operation.js';
import { closeClaimCheck, openClaimCheck } from '../../shared/provisioning/claim-check.js';
import { recordFailure } from '../../shared/provisioning/failures.js';
import { countedOperation } from '../../shared/storage/storage-clients.js';
import { storageQueueFunction } from '../define.js';
import { services } from '../services.js';
import { decideRetry } from './retry-policy.js';

/**
 * One provisioning operation per message: malformed → recorded and completed; throttled/transient → deferred
 * (a new message); a large change arrives as a claim check, read from storage and deleted once handled.
 */
export async function applyOperationQueued(item: unknown, context: InvocationContext): Promise<void> {
  const s = services();
  if (!isClaimCheck(item)) return handle(item, context);
  const claim = claimCheckMessageSchema.safeParse(item);
  if (!claim.success) return handle(item, context);
  const change = await openClaimCheck(s, claim.data);
  if (change) await handle(change, context);
  // Not reached when handling threw: the host retries with the stored change still there.
  await closeClaimCheck(s, claim.data);
}

async function handle(item: unknown, context: InvocationContext): Promise<void> {
  const s = services();
  // A producer may leave operationId out: the queue message id is stable across redeliveries.
  const withId =
    typeof item === 'object' && item !== null && !('operationId' in item)
      ? { ...item, operationId: String(context.triggerMetadata?.id) }
      : item;
  const parsed = operationMessageSchema.safeParse(withId);
  if (!parsed.success) {
    const reason = fieldErrors(parsed.error)
      .map((e) => `${e.field} ${e.message}`)
      .join('; ');
    context.warn(`Malformed provisioning message recorded as failed: ${reason}`);
    return recordFailure(s, item, {
      code: 'malformed-message',
      kind: 'invalid',
      message: `The message is not a valid change: ${reason}`,
    });
  }
  try {
    const message = parsed.data;
    await countedOperation(
      (o) => `${objectTypeOf(message)} ${message.type}: ${o.result}/${o.action}`,
      () => applyOperation(s, message),
    );
  } catch (error) {
    const attempt = parsed.data.retry?.attempt ?? 1;
    const decision = decideRetry(error, attempt);
    if (decision.action === 'rethrow') throw error;
    if (decision.action === 'fail') return recordFailure(s, parsed.data, decision.failure);
    context.info(`Operation ${parsed.data.operationId} deferred ${decision.delayMs} ms: ${decision.reason}`);
    await s.queue.enqueue(
      { ...parsed.data, retry: { attempt: attempt + 1, reason: decision.reason } },
      decision.delayMs,
    );
  }
}

export const applyOperationFunction = storageQueueFunction({
  name: 'apply-operation',
  queueName: PROVISIONING_QUEUE,
  handler: applyOperationQueued,
});
