// Nothing lost (docs/architecture.md, invariant 4): a message the host gave up on lands in `<queue>-poison`, and from
// there in a record — the user's status and the provisioning log for an operation, the run record for a
// reconciliation request. The poison queues are read raw (not through a queue trigger) because a message the
// host could not decode (not base64, not UTF-8) would fail a trigger on the poison queue just the same; here no
// content can make recording fail, and a message is deleted only once its record is written.
import { claimCheckMessageSchema } from '../domain/change.js';
import { decodeQueueText } from '../domain/queue-message.js';
import { runRequestSchema } from '../domain/reconciliation.js';
import type { ApplyDeps } from './apply-operation.js';
import { recordFailure } from './failures.js';
import type { OperationBodies, PoisonQueue, RawQueueMessage, ReconciliationStore } from './ports.js';
import { blankRun } from './reconcile/run.js';

export interface PoisonDeps extends ApplyDeps {
  operationBodies: OperationBodies;
  reconciliation: ReconciliationStore;
}

/** At most this many messages per drain, so one timer invocation stays short; the next tick takes the rest. */
const MAX_PER_DRAIN = 500;

/**
 * Records and deletes the messages on `queue` (up to MAX_PER_DRAIN). A message whose record cannot be written now
 * (storage down) stays on the queue and comes back on a later drain; it never holds up the others.
 */
export async function drainPoisonQueue(
  queue: PoisonQueue,
  record: (message: RawQueueMessage) => Promise<void>,
): Promise<{ recorded: number; failed: string[] }> {
  const result = { recorded: 0, failed: [] as string[] };
  while (result.recorded + result.failed.length < MAX_PER_DRAIN) {
    const batch = await queue.receive(32);
    if (batch.length === 0) break;
    for (const message of batch) {
      try {
        await record(message);
        await queue.remove(message);
        result.recorded++;
      } catch (error) {
        result.failed.push(`${message.id}: ${(error as Error)?.message ?? String(error)}`);
      }
    }
  }
  return result;
}

const EXHAUSTED =
  'The operation failed on every attempt the Functions host made (see the function logs); retry it when the cause is fixed';

/** A poisoned provisioning message: failed on the user (when it is a change) and in the log, raw text kept otherwise. */
export async function recordPoisonedOperation(deps: PoisonDeps, message: RawQueueMessage): Promise<void> {
  const decoded = decodeQueueText(message.text);
  if (!decoded.ok)
    return recordFailure(
      deps,
      undefined,
      { code: 'unreadable-message', kind: 'invalid', message: decoded.reason },
      message.text,
    );
  const claim = claimCheckMessageSchema.safeParse(decoded.item);
  if (!claim.success)
    return recordFailure(
      deps,
      decoded.item,
      { code: 'retries-exhausted', kind: 'transient', message: EXHAUSTED },
      decoded.text,
    );
  // A large change: its body is in storage (gone only if it was handled after all).
  // (Without its body the reference is logged as it is: it must not merge into the user as an empty change.)
  const { connectionId, claimCheck } = claim.data;
  const body = await deps.operationBodies.get(connectionId, claimCheck);
  await recordFailure(deps, body ?? claim.data, {
    code: 'retries-exhausted',
    kind: 'transient',
    message: body ? EXHAUSTED : `${EXHAUSTED}. The change itself is no longer stored.`,
  });
  await deps.operationBodies.delete(connectionId, claimCheck);
}

/** A poisoned reconciliation request: its run record ends `failed`; one that names no run is logged like a bad message. */
export async function recordPoisonedRun(deps: PoisonDeps, message: RawQueueMessage): Promise<void> {
  const decoded = decodeQueueText(message.text);
  const request = decoded.ok ? runRequestSchema.safeParse(decoded.item) : undefined;
  if (!request?.success) {
    const why = decoded.ok ? 'The reconciliation request is not valid' : decoded.reason;
    return recordFailure(
      deps,
      decoded.ok ? decoded.item : undefined,
      { code: 'unreadable-run-request', kind: 'invalid', message: why },
      decoded.ok ? decoded.text : message.text,
    );
  }
  const run =
    (await deps.reconciliation.getRun(request.data.connectionId, request.data.runId)) ?? blankRun(request.data);
  if (run.status === 'completed' || run.status === 'skipped' || run.status === 'failed') return;
  await deps.reconciliation.saveRun({
    ...run,
    status: 'failed',
    reason:
      'The run failed on every attempt the Functions host made (see the function logs); start a new one when the cause is fixed',
    endedAt: deps.clock.now().toISOString(),
  });
}
