import type { InvocationContext, Timer } from '@azure/functions';
import { timerSchedule } from '../../shared/config.js';
import { drainPoisonQueue, recordPoisonedOperation, recordPoisonedRun } from '../../shared/provisioning/poison.js';
import { timerFunction } from '../define.js';
import { services } from '../services.js';

/** On POISON_DRAIN_SCHEDULE (every 30 s): each message on a poison queue becomes a failure record, then leaves the queue (nothing lost). */
export async function drainPoison(_timer: Timer, context: InvocationContext): Promise<void> {
  const s = services();
  const operations = await drainPoisonQueue(s.poison.operations, (m) => recordPoisonedOperation(s, m));
  const runs = await drainPoisonQueue(s.poison.runs, (m) => recordPoisonedRun(s, m));
  if (operations.recorded + runs.recorded > 0)
    context.warn(
      `Recorded ${operations.recorded} poisoned provisioning message(s) and ${runs.recorded} poisoned reconciliation request(s) as failed`,
    );
  for (const failure of [...operations.failed, ...runs.failed])
    context.error(`A poisoned message could not be recorded yet (it stays on its poison queue): ${failure}`);
}

export const drainPoisonFunction = timerFunction({
  name: 'drain-poison',
  schedule: timerSchedule('POISON_DRAIN_SCHEDULE'),
  handler: drainPoison,
});
