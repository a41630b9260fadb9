import type { InvocationContext, Timer } from '@azure/functions';
import { timerSchedule } from '../../shared/config.js';
import { queueDueRuns } from '../../shared/provisioning/reconcile-admin.js';
import { timerFunction } from '../define.js';
import { services } from '../services.js';

/** Queues a reconciliation run for every connection that is due; the runs execute from the queue. */
export async function reconcileTimer(timer: Timer, context: InvocationContext): Promise<void> {
  const { queued, notDue } = await queueDueRuns(services());
  context.info(
    `Reconciliation${timer.isPastDue ? ' (past due)' : ''}: queued ${queued.length} run(s)${notDue.length ? `; not due: ${notDue.map((n) => `${n.connectionId} (${n.why})`).join(', ')}` : ''}`,
  );
}

export const reconcileTimerFunction = timerFunction({
  name: 'reconcile-timer',
  schedule: timerSchedule('RECONCILIATION_SCHEDULE'),
  handler: reconcileTimer,
});
