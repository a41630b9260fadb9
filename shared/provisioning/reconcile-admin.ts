// Starting reconciliation runs (the timer, an admin), reading their records, and deciding on operations the
// accidental-deletion threshold staged.
import { z } from 'zod';
import { reapplyStoredState } from '../domain/change.js';
import type { Connection } from '../domain/connection.js';
import { AppError } from '../domain/errors.js';
import {
  newRunId,
  type ReconciliationRun,
  type RunItem,
  type RunRequest,
  type StagedOperation,
} from '../domain/reconciliation.js';
import { effectiveSettings } from '../domain/sync-settings.js';
import { loadConnection } from './connections.js';
import { updateConnectionFlags } from './reconcile/connection-flags.js';
import type { ReconcileDeps } from './reconcile/deps.js';
import { QUARANTINE_INTERVAL_MS } from './reconcile/quarantine.js';
import { blankRun } from './reconcile/run.js';

/** Queuing runs (an admin, the timer), reading their records, deciding on staged operations: what each reaches. */
type QueueDeps = Pick<ReconcileDeps, 'connections' | 'reconciliation' | 'runs' | 'clock'>;
type ReadDeps = Pick<ReconcileDeps, 'connections' | 'reconciliation'>;
type DecideDeps = Pick<ReconcileDeps, 'connections' | 'reconciliation' | 'queue' | 'clock'>;

export const startRunQuerySchema = z.strictObject({
  dryRun: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .describe('Plan only: find drift, enqueue nothing'),
  full: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .describe('A full round even if a delta link is stored'),
});

/** POST …/reconcile: queues a run now (answers at once; the run record shows its progress). */
export async function startRun(
  deps: QueueDeps,
  connectionId: string,
  options: z.infer<typeof startRunQuerySchema>,
): Promise<ReconciliationRun> {
  const connection = await loadConnection(deps, connectionId);
  if (connection.status !== 'ready' || connection.deletion) {
    const status = connection.deletion ? 'deleting' : connection.status;
    throw new AppError(
      'conflict',
      'connection-not-ready',
      connection.deletion
        ? 'The connection is being deleted: it is not reconciled'
        : `The connection is ${connection.status}: test it successfully before reconciling`,
      { connectionStatus: status },
    );
  }
  const state = await deps.reconciliation.getState(connectionId);
  if (state.lease && Date.parse(state.lease.until) > deps.clock.now().getTime()) {
    throw new AppError(
      'conflict',
      'run-in-progress',
      `Run ${state.lease.runId} is reconciling this connection (lease until ${state.lease.until}); wait for it to end`,
      { runId: state.lease.runId },
    );
  }
  return queueRun(deps, connection, 'manual', options);
}

async function queueRun(
  deps: QueueDeps,
  connection: Connection,
  trigger: RunRequest['trigger'],
  options: { dryRun: boolean; full: boolean },
): Promise<ReconciliationRun> {
  const now = deps.clock.now();
  const request: RunRequest = {
    connectionId: connection.id,
    runId: newRunId(now),
    trigger,
    dryRun: options.dryRun,
    full: options.full,
    requestedAt: now.toISOString(),
  };
  const run = blankRun(request);
  await deps.reconciliation.saveRun(run);
  await deps.runs.enqueue(request);
  return run;
}

/**
 * The timer: queues a run for every ready connection with reconciliation enabled, except those whose previous
 * run is still going, and quarantined ones reconciled within QUARANTINE_INTERVAL_MS.
 */
export async function queueDueRuns(
  deps: QueueDeps,
): Promise<{ queued: string[]; notDue: { connectionId: string; why: string }[] }> {
  const now = deps.clock.now().getTime();
  const queued: string[] = [];
  const notDue: { connectionId: string; why: string }[] = [];
  for (const connection of await deps.connections.list()) {
    const settings = effectiveSettings(connection.settings);
    const why = (w: string) => notDue.push({ connectionId: connection.id, why: w });
    if (connection.status !== 'ready' || connection.deletion) {
      why(connection.deletion ? 'being deleted' : `status ${connection.status}`);
      continue;
    }
    if (!settings.reconciliationEnabled) {
      why('reconciliation disabled');
      continue;
    }
    const state = await deps.reconciliation.getState(connection.id);
    if (state.lease && Date.parse(state.lease.until) > now) {
      why(`run ${state.lease.runId} in progress`);
      continue;
    }
    if (connection.quarantine && state.lastRunAt && now - Date.parse(state.lastRunAt) < QUARANTINE_INTERVAL_MS) {
      why(
        `quarantined since ${connection.quarantine.since}: next run after ${new Date(Date.parse(state.lastRunAt) + QUARANTINE_INTERVAL_MS).toISOString()}`,
      );
      continue;
    }
    await queueRun(deps, connection, 'timer', { dryRun: false, full: false });
    queued.push(connection.id);
  }
  return { queued, notDue };
}

export const pageQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  continuation: z.string().max(2048).optional(),
});

export async function listRuns(
  deps: ReadDeps,
  connectionId: string,
  q: z.infer<typeof pageQuerySchema>,
): Promise<{ value: ReconciliationRun[]; continuation: string | null }> {
  await loadConnection(deps, connectionId);
  const { runs, continuation } = await deps.reconciliation.listRuns(connectionId, q.limit, q.continuation);
  return { value: runs, continuation: continuation ?? null };
}

/** One run with a page of its items: the plan of a dry run, the corrections of a real one, unmatched accounts. */
export async function getRun(
  deps: ReadDeps,
  connectionId: string,
  runId: string,
  q: z.infer<typeof pageQuerySchema>,
): Promise<ReconciliationRun & { itemsPage: { value: RunItem[]; continuation: string | null } }> {
  await loadConnection(deps, connectionId);
  const run = await deps.reconciliation.getRun(connectionId, runId);
  if (!run) throw new AppError('not-found', 'run-not-found', `No reconciliation run ${runId} on this connection`);
  const { items, continuation } = await deps.reconciliation.listItems(connectionId, runId, q.limit, q.continuation);
  return { ...run, itemsPage: { value: items, continuation: continuation ?? null } };
}

export async function listStaged(
  deps: ReadDeps,
  connectionId: string,
): Promise<{ count: number; value: StagedOperation[] }> {
  await loadConnection(deps, connectionId);
  const staged = await deps.reconciliation.listStaged(connectionId);
  return { count: staged.length, value: staged };
}

export const stagedDecisionSchema = z
  .strictObject({
    externalIds: z
      .array(z.string().min(1).max(256))
      .min(1)
      .max(10_000)
      .optional()
      .describe('Only these users and groups (default: all staged)'),
  })
  .default({});

/**
 * Approve: the staged operations go on the provisioning queue. Reject: they are dropped (the accounts stay as
 * they are; a later run finds the same drift again unless the directory changes). Either way the connection's
 * flag clears once nothing is staged.
 */
export async function decideStaged(
  deps: DecideDeps,
  connectionId: string,
  decision: 'approve' | 'reject',
  body: z.infer<typeof stagedDecisionSchema>,
) {
  await loadConnection(deps, connectionId);
  const staged = await deps.reconciliation.listStaged(connectionId);
  const wanted = body.externalIds ? new Set(body.externalIds) : undefined;
  const chosen = wanted ? staged.filter((s) => wanted.has(s.externalId)) : staged;
  const unknown = wanted ? [...wanted].filter((id) => !staged.some((s) => s.externalId === id)) : [];
  const operations: { externalId: string; operationId?: string; result: 'enqueued' | 'rejected' }[] = [];
  for (const op of chosen) {
    if (decision === 'reject') {
      operations.push({ externalId: op.externalId, result: 'rejected' });
      continue;
    }
    // The user's desired state when the operation runs decides (it may have changed since the run staged this).
    const message = reapplyStoredState(
      connectionId,
      op.externalId,
      `staged by reconciliation ${op.runId}, approved`,
      op.objectType ?? 'user',
    );
    await deps.queue.enqueue(message);
    operations.push({ externalId: op.externalId, operationId: message.operationId, result: 'enqueued' });
  }
  await deps.reconciliation.removeStaged(connectionId, chosen);
  const remaining = staged.length - chosen.length;
  await updateConnectionFlags(deps, connectionId, (c) => {
    const { stagedOperations, ...rest } = c;
    if (!stagedOperations) return undefined;
    return remaining > 0 ? { ...rest, stagedOperations: { ...stagedOperations, count: remaining } } : rest;
  });
  return {
    decision,
    count: chosen.length,
    remaining,
    operations,
    ...(unknown.length > 0 ? { notStaged: unknown } : {}),
  };
}
