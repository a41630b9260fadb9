// How far a reconciliation run has got, and when it should be done: the console's progress bar and ETA.
// A run goes through two phases: it examines (reads the tenant, compares with the directory) and then its
// corrections are applied by the provisioning queue. The ETA of the second phase is the remaining corrections over
// the Graph write rate the throttle governor allows this app + tenant now (each correction is at most one write
// for a drifted property or state; a correction that finds nothing to change writes nothing).
import { AppError } from '../domain/errors.js';
import type { UserState } from '../domain/user-state.js';
import { loadConnection } from './connections.js';
import type { ReconcileDeps } from './reconcile/deps.js';

type ProgressDeps = Pick<ReconcileDeps, 'connections' | 'reconciliation' | 'users' | 'groups' | 'tenants' | 'clock'>;

/** Corrections checked per progress request at most (the run keeps at most this many items anyway). */
const MAX_CHECKED = 5_000;
const PAGE = 500;

export interface RunProgress {
  runId: string;
  status: string;
  dryRun: boolean;
  phase: 'queued' | 'examining' | 'applying' | 'done' | 'failed' | 'skipped';
  examined: { directory: number; directoryTotal: number; microsoft365: number };
  corrections: { total: number; checked: number; done: number; failed: number; waiting: number };
  /** 0–100 within the current phase (examining: directory users compared; applying: corrections done). */
  percent: number;
  writesPerSecond: number;
  /** Seconds until the corrections are applied at that rate; null while examining or when there is nothing left. */
  etaSeconds: number | null;
}

/** A correction is done once its user was applied after the run started and no operation holds it now. */
function correctionState(user: UserState | undefined, since: number, now: number): 'done' | 'failed' | 'waiting' {
  if (!user) return 'done';
  if (user.status === 'failed') return 'failed';
  const leased = user.lease !== undefined && Date.parse(user.lease.until) > now;
  return Date.parse(user.updatedAt) >= since && !leased && user.status !== 'pending' ? 'done' : 'waiting';
}

export async function runProgress(deps: ProgressDeps, connectionId: string, runId: string): Promise<RunProgress> {
  const connection = await loadConnection(deps, connectionId);
  const run = await deps.reconciliation.getRun(connectionId, runId);
  if (!run) throw new AppError('not-found', 'run-not-found', `No reconciliation run ${runId} on this connection`);
  const counts = await deps.users.countByStatus(connectionId);
  const directoryTotal = Object.values(counts).reduce((a, b) => a + (b ?? 0), 0);
  const writesPerSecond = deps.tenants.writesPerSecond(connection);
  const base = {
    runId,
    status: run.status,
    dryRun: run.dryRun,
    examined: { ...run.examined, directoryTotal },
    writesPerSecond,
  };
  const nothing = { total: run.enqueued, checked: 0, done: 0, failed: 0, waiting: 0 };
  if (run.status === 'queued') return { ...base, phase: 'queued', corrections: nothing, percent: 0, etaSeconds: null };
  if (run.status === 'running')
    return {
      ...base,
      phase: 'examining',
      corrections: nothing,
      percent: directoryTotal === 0 ? 0 : Math.min(100, Math.round((100 * run.examined.directory) / directoryTotal)),
      etaSeconds: null,
    };
  if (run.status === 'failed' || run.status === 'skipped')
    return { ...base, phase: run.status, corrections: nothing, percent: 100, etaSeconds: null };

  const since = Date.parse(run.startedAt ?? run.requestedAt);
  const now = deps.clock.now().getTime();
  const corrections = { total: run.enqueued, checked: 0, done: 0, failed: 0, waiting: 0 };
  let continuation: string | undefined;
  do {
    const page = await deps.reconciliation.listItems(connectionId, runId, PAGE, continuation);
    const enqueued = page.items.filter((i) => i.disposition === 'enqueued' && i.externalId !== undefined);
    const rows = await Promise.all(
      enqueued.map((i) => (i.objectType === 'group' ? deps.groups : deps.users).get(connectionId, i.externalId!)),
    );
    for (const row of rows) corrections[correctionState(row, since, now)]++;
    corrections.checked += enqueued.length;
    continuation = page.continuation;
  } while (continuation && corrections.checked < MAX_CHECKED);
  // Corrections beyond the items kept (a truncated run) count as waiting until the ones checked are done.
  const unchecked = Math.max(0, corrections.total - corrections.checked);
  const remaining = corrections.waiting + (corrections.waiting > 0 ? unchecked : 0);
  const finished = corrections.total - remaining;
  return {
    ...base,
    phase: remaining > 0 ? 'applying' : 'done',
    corrections,
    percent: corrections.total === 0 ? 100 : Math.round((100 * finished) / corrections.total),
    etaSeconds: remaining > 0 && writesPerSecond > 0 ? Math.ceil(remaining / writesPerSecond) : null,
  };
}
