import type { InvocationContext } from '@azure/functions';
import { RECONCILIATION_QUEUE, runRequestSchema } from '../../shared/domain/reconciliation.js';
import { fieldErrors } from '../../shared/domain/validation.js';
import { recordFailure } from '../../shared/provisioning/failures.js';
import { runReconciliation } from '../../shared/provisioning/reconcile/run.js';
import { storageQueueFunction } from '../define.js';
import { services } from '../services.js';

/**
 * One reconciliation run per message (or the continuation of a run paused by throttling: the run put its own
 * request back, delayed). A malformed request names no run: it is logged as a failed message.
 */
export async function reconcileRunQueued(item: unknown, context: InvocationContext): Promise<void> {
  const parsed = runRequestSchema.safeParse(item);
  if (!parsed.success) {
    const reason = fieldErrors(parsed.error)
      .map((e) => `${e.field} ${e.message}`)
      .join('; ');
    context.warn(`Malformed reconciliation request recorded as failed: ${reason}`);
    return recordFailure(services(), item, {
      code: 'unreadable-run-request',
      kind: 'invalid',
      message: `The reconciliation request is not valid: ${reason}`,
    });
  }
  const run = await runReconciliation(services(), parsed.data);
  if (run.paused) {
    context.info(
      `Reconciliation ${run.runId} of ${run.connectionId}: paused (${run.paused.why}); re-enqueued, continues from where it stopped at ${run.paused.until}`,
    );
    return;
  }
  const found =
    Object.entries(run.drift)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ') || 'no drift';
  const groupsFound = run.groups
    ? Object.entries(run.groups.drift)
        .filter(([, n]) => n > 0)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || 'no drift'
    : undefined;
  const groups = !run.groups
    ? ''
    : run.groups.skipped
      ? '; groups: none'
      : `; groups: ${groupsFound}, unmatched ${run.groups.unmatched}`;
  context.info(
    `Reconciliation ${run.runId} of ${run.connectionId}: ${run.status}${run.reason ? ` (${run.reason})` : ''}; ${found}${groups}; enqueued ${run.enqueued}, staged ${run.staged}, unmatched ${run.unmatched}`,
  );
}

export const reconcileRunFunction = storageQueueFunction({
  name: 'reconcile-run',
  queueName: RECONCILIATION_QUEUE,
  handler: reconcileRunQueued,
});
