// One reconciliation run, from its queued request to the end of its record. It claims the connection (lease.ts);
// skips a connection that is not ready (quarantining one whose credentials were refused) and checks the failure
// rate (quarantine.ts); decides the delta round — full on the first run, when asked, weekly, when the delta link
// nears its 7-day life or turns out expired, else incremental — and reads it (rounds.ts) into the finding
// collector (findings.ts); then the groups round (group-rounds.ts: its own delta link, full with a full users
// round or when its link is missing, expired or near its life; none for a connection without groups); then
// stores the next delta links (not after a dry run: the next real run must still see these changes) and ends the
// record completed, skipped or failed; it never throws. When Graph throttles or fails
// transiently the run pauses instead of waiting (pause.ts): its progress goes into the state row, the lease is held
// across the wait, and its own request goes back on the reconciliation queue, visible after the delay. That message
// continues the same run — one record, `running` until it ends — from the saved page link.
import type { Connection } from '../../domain/connection.js';
import type { DriftContext } from '../../domain/drift.js';
import { isAppError } from '../../domain/errors.js';
import type { SkuInfo } from '../../domain/licenses.js';
import { DEFAULT_MAPPING } from '../../domain/mapping/mapping.js';
import {
  emptyDriftCounts,
  emptyGroupCounts,
  type ReconciliationRun,
  type ReconciliationState,
  type RunProgress,
  type RunRequest,
} from '../../domain/reconciliation.js';
import type { GroupPage, RequestRecorder, TenantGateway } from '../ports.js';
import { tenantGateway } from '../tenant.js';
import { type ReconcileDeps, settingsOf } from './deps.js';
import { Findings } from './findings.js';
import { GROUP_DELTA_SELECT, groupRound, hasGroups, runReferences } from './group-rounds.js';
import { RunLease } from './lease.js';
import { pausable, RunPaused } from './pause.js';
import { evaluateQuarantine, quarantine } from './quarantine.js';
import { DeltaPager, fullRound, incrementalRound, reconcileSelect } from './rounds.js';

export type { ReconcileDeps } from './deps.js';

export const RUN_LEASE_MS = 5 * 60_000;
/** A full round at least this often, and before a delta link nears its 7-day life. */
const FULL_ROUND_EVERY_MS = 6 * 24 * 3600_000;
/** A paused run's progress lives in its connection's state row (a Table entity holds at most 1 MiB). */
const MAX_PROGRESS_CHARS = 400_000;

/** How a run ended, or that it paused (its record stays `running`; its request comes back at `until`). */
export type RunOutcome = ReconciliationRun & { paused?: { until: string; why: string } };

/** Runs (or continues) one reconciliation request until it ends or pauses; never throws (the record says how it ended). */
export async function runReconciliation(deps: ReconcileDeps, request: RunRequest): Promise<RunOutcome> {
  const now = () => deps.clock.now();
  const stored = await deps.reconciliation.getRun(request.connectionId, request.runId);
  let run: ReconciliationRun = { ...(stored ?? blankRun(request)), status: 'running', startedAt: now().toISOString() };
  const connection = await deps.connections.get(request.connectionId);
  if (!connection) return endRun(deps, run, 'failed', 'The connection no longer exists');

  const lease = new RunLease(deps.reconciliation, request, deps.runLeaseMs ?? RUN_LEASE_MS, now);
  const holder = await lease.acquire();
  // Another copy of this run's own message took the lease first: that one carries on.
  if (holder?.runId === request.runId) return stored ?? run;
  if (holder)
    return endRun(
      deps,
      run,
      'skipped',
      `Another run (${holder.runId}) holds this connection until ${holder.until}: this one did nothing`,
    );
  const progress = lease.progress;
  // Continuing after a pause: the same record, started when the run first started.
  if (progress && stored) run = { ...stored, status: 'running' };
  await deps.reconciliation.saveRun(run);
  try {
    return await reconcileConnection(deps, connection, run, lease, request, progress);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    run.errors.push(message);
    if (isAppError(error) && error.kind === 'unauthorized')
      await quarantine(deps, connection.id, `The credentials were refused during reconciliation: ${message}`);
    await lease.release({}).catch(() => undefined);
    return endRun(deps, run, 'failed', message);
  }
}

/** The record of a run that has not started yet. */
export function blankRun(request: RunRequest): ReconciliationRun {
  return {
    connectionId: request.connectionId,
    runId: request.runId,
    trigger: request.trigger,
    dryRun: request.dryRun,
    status: 'queued',
    requestedAt: request.requestedAt,
    examined: { microsoft365: 0, directory: 0 },
    drift: emptyDriftCounts(),
    enqueued: 0,
    staged: 0,
    unmatched: 0,
    failedUsers: 0,
    errors: [],
    items: 0,
    itemsTruncated: false,
    graphRequests: 0,
    groups: emptyGroupCounts(),
  };
}

export async function endRun(
  deps: Pick<ReconcileDeps, 'reconciliation' | 'clock'>,
  run: ReconciliationRun,
  status: ReconciliationRun['status'],
  reason?: string,
): Promise<ReconciliationRun> {
  const ended: ReconciliationRun = {
    ...run,
    status,
    ...(reason ? { reason } : {}),
    endedAt: deps.clock.now().toISOString(),
  };
  await deps.reconciliation.saveRun(ended);
  return ended;
}

async function reconcileConnection(
  deps: ReconcileDeps,
  connection: Connection,
  run: ReconciliationRun,
  lease: RunLease,
  request: RunRequest,
  progress: RunProgress | undefined,
): Promise<RunOutcome> {
  if (connection.status !== 'ready') {
    if (connection.status === 'needs-attention')
      await quarantine(deps, connection.id, `Credentials refused: ${connection.statusReason ?? 'needs attention'}`);
    await lease.release({});
    return endRun(
      deps,
      run,
      'skipped',
      `The connection is ${connection.status}${connection.statusReason ? ` (${connection.statusReason})` : ''}: test it to reconcile`,
    );
  }
  if (!request.dryRun && !progress) await evaluateQuarantine(deps, connection);

  const recorder: RequestRecorder = { requestIds: [], planned: [] };
  const earlierRequests = progress ? run.graphRequests : 0;
  const gateway = tenantGateway(deps, connection, { recorder });
  const work = new Findings(deps, connection, run, request.dryRun, lease, progress);
  const tries = { attempts: progress?.attempts ?? 0 };
  const select = reconcileSelect(connection);
  // Paused in the groups round: the users round is done.
  const at: RunPosition =
    progress?.phase === 'groups'
      ? {
          phase: 'groups',
          ...(progress.usersDeltaLink ? { usersDeltaLink: progress.usersDeltaLink } : {}),
          ...(progress.groupsRound ? { groupsRound: progress.groupsRound } : {}),
        }
      : { phase: 'users' };
  const continuedGroups = at.phase === 'groups';
  let pager =
    at.phase === 'users' && progress?.round
      ? DeltaPager.users(gateway.users, select, tries, {
          round: progress.round,
          ...(progress.link ? { link: progress.link } : {}),
          continued: true,
          ...(progress.seen ? { seen: progress.seen } : {}),
        })
      : undefined;
  let groupsDeltaLink: string | undefined;
  try {
    const skus = await subscribedSkus(gateway, tries, run);
    const ctx: DriftContext = {
      mapping: connection.mapping ?? DEFAULT_MAPPING,
      settings: settingsOf(connection),
      domain: connection.domain,
      ...(skus ? { skus } : {}),
    };
    if (at.phase === 'users') {
      if (!pager) {
        const state = lease.current;
        run.deltaRound = chooseRound(state, request, deps.clock.now());
        pager = DeltaPager.users(gateway.users, select, tries, {
          round: run.deltaRound.kind,
          ...(run.deltaRound.kind === 'incremental' ? { link: state.deltaLink! } : {}),
          continued: false,
        });
      }
      const usersDeltaLink = await readRound(deps, work, pager, ctx, connection);
      at.phase = 'groups';
      if (usersDeltaLink) at.usersDeltaLink = usersDeltaLink;
    }
    groupsDeltaLink = await readGroups(
      deps,
      work,
      gateway,
      tries,
      connection,
      lease.current,
      at,
      continuedGroups,
      skus,
    );
  } catch (error) {
    if (!(error instanceof RunPaused)) throw error;
    run.graphRequests = earlierRequests + recorder.requestIds.length;
    return pause(deps, run, lease, request, work, at, pager, tries, error);
  }
  await work.finish();
  run.graphRequests = earlierRequests + recorder.requestIds.length;
  const ended = deps.clock.now().toISOString();
  await lease.release(
    request.dryRun
      ? { lastRunAt: ended, lastRunId: run.runId }
      : {
          deltaLink: at.usersDeltaLink,
          deltaLinkAt: ended,
          // None (no groups, or the round ended without one): the next groups round is full.
          groupsDeltaLink,
          groupsDeltaLinkAt: groupsDeltaLink ? ended : undefined,
          lastRunAt: ended,
          lastRunId: run.runId,
          ...(run.deltaRound?.kind === 'full' ? { lastFullAt: ended } : {}),
        },
  );
  return endRun(deps, run, 'completed');
}

/** Where a run is: its users round, then its groups round (and the users round's next delta link, once read). */
interface RunPosition {
  phase: 'users' | 'groups';
  usersDeltaLink?: string;
  groupsRound?: 'full' | 'incremental';
}

/**
 * The groups round (none for a connection without group rows); answers the groups delta link to store. A run
 * continuing after a pause in this round reads it again from its beginning, its counts started over.
 */
async function readGroups(
  deps: ReconcileDeps,
  work: Findings,
  gateway: TenantGateway,
  tries: { attempts: number },
  connection: Connection,
  state: ReconciliationState,
  at: RunPosition,
  continued: boolean,
  skus: SkuInfo[] | undefined,
): Promise<string | undefined> {
  const counts = work.groups;
  if (!(await hasGroups(deps, connection.id))) {
    delete counts.deltaRound;
    counts.skipped = 'no groups on this connection: no groups delta round';
    return undefined;
  }
  if (continued) work.resetGroupRound();
  if (!continued || !at.groupsRound) {
    counts.deltaRound = chooseGroupRound(state, work.run, deps.clock.now());
    at.groupsRound = counts.deltaRound.kind;
  }
  const pager = new DeltaPager<GroupPage>(
    (link) => gateway.groups.groupsDeltaPage(GROUP_DELTA_SELECT, link),
    tries,
    at.groupsRound === 'incremental' && state.groupsDeltaLink
      ? { round: 'incremental', link: state.groupsDeltaLink, continued: false }
      : { round: 'full', continued: false },
  );
  const references = runReferences(deps, connection.id);
  try {
    return await groupRound(deps, work, pager, connection, references, skus);
  } catch (error) {
    if (!(isAppError(error) && error.code === 'delta-token-expired' && pager.position.round === 'incremental'))
      throw error;
    work.resetGroupRound();
    counts.deltaRound = { kind: 'full', why: `the groups delta token expired or was reset (${error.message})` };
    at.groupsRound = 'full';
    pager.restart();
    return groupRound(deps, work, pager, connection, references, skus);
  }
}

/** The groups round: full with a full users round, without a groups delta link, or when it nears its life. */
function chooseGroupRound(
  state: ReconciliationState,
  run: ReconciliationRun,
  started: Date,
): NonNullable<ReconciliationRun['deltaRound']> {
  if (run.deltaRound?.kind === 'full') return { kind: 'full', why: run.deltaRound.why };
  if (!state.groupsDeltaLink) return { kind: 'full', why: 'first groups round (no groups delta link yet)' };
  if (started.getTime() - Date.parse(state.groupsDeltaLinkAt ?? '1970-01-01') > FULL_ROUND_EVERY_MS)
    return { kind: 'full', why: 'the groups delta link is about to expire' };
  return { kind: 'incremental', why: `changes since ${state.groupsDeltaLinkAt}` };
}

/** The round a run starts with, and why. */
function chooseRound(
  state: ReconciliationState,
  request: RunRequest,
  started: Date,
): NonNullable<ReconciliationRun['deltaRound']> {
  const dueFull = request.full
    ? 'requested'
    : !state.deltaLink
      ? 'first run (no delta link yet)'
      : !state.lastFullAt || started.getTime() - Date.parse(state.lastFullAt) > FULL_ROUND_EVERY_MS
        ? 'weekly full round'
        : started.getTime() - Date.parse(state.deltaLinkAt ?? '1970-01-01') > FULL_ROUND_EVERY_MS
          ? 'the delta link is about to expire'
          : undefined;
  return dueFull === undefined
    ? { kind: 'incremental', why: `changes since ${state.deltaLinkAt}` }
    : { kind: 'full', why: dueFull };
}

/** Reads the pager's round; an expired token (or a paused round's expired page link) means a full round from the start. */
async function readRound(
  deps: Pick<ReconcileDeps, 'users'>,
  work: Findings,
  pager: DeltaPager,
  ctx: DriftContext,
  connection: Connection,
): Promise<string | undefined> {
  const { round, continued } = pager.position;
  try {
    return round === 'full'
      ? await fullRound(deps, work, pager, ctx, connection)
      : await incrementalRound(deps, work, pager, ctx, connection);
  } catch (error) {
    if (!(isAppError(error) && error.code === 'delta-token-expired' && (round === 'incremental' || continued)))
      throw error;
    work.reset();
    work.run.deltaRound = {
      kind: 'full',
      why:
        round === 'incremental'
          ? `the delta token expired or was reset (${error.message})`
          : `the paused round's page link expired (${error.message}): started over`,
    };
    pager.restart();
    return fullRound(deps, work, pager, ctx, connection);
  }
}

/** License names resolve through the subscribed SKUs; without them licenses are not compared. */
async function subscribedSkus(gateway: TenantGateway, tries: { attempts: number }, run: ReconciliationRun) {
  return pausable(() => gateway.licenses.subscribedSkus(), tries).catch((error: unknown) => {
    if (error instanceof RunPaused) throw error;
    if (isAppError(error) && error.kind === 'unauthorized' && error.details.status !== 403) throw error;
    run.errors.push(`Licenses not compared: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  });
}

/**
 * Pauses the run: saves its progress (where its round is, what its findings still hold) in the state row with
 * the lease held until it is due back, saves its record (still `running`), and re-enqueues its request with the
 * delay. Should that fail, the run fails (runReconciliation releases the lease).
 */
async function pause(
  deps: ReconcileDeps,
  run: ReconciliationRun,
  lease: RunLease,
  request: RunRequest,
  work: Findings,
  at: RunPosition,
  pager: DeltaPager | undefined,
  tries: { attempts: number },
  paused: RunPaused,
): Promise<RunOutcome> {
  const until = new Date(deps.clock.now().getTime() + paused.delayMs).toISOString();
  const progress: RunProgress = {
    runId: run.runId,
    until,
    why: paused.message,
    ...(at.phase === 'groups'
      ? {
          phase: 'groups' as const,
          ...(at.usersDeltaLink ? { usersDeltaLink: at.usersDeltaLink } : {}),
          ...(at.groupsRound ? { groupsRound: at.groupsRound } : {}),
        }
      : pager?.progress()),
    attempts: tries.attempts,
    ...(await work.settleForPause()),
  };
  if (JSON.stringify(progress).length > MAX_PROGRESS_CHARS) delete progress.found;
  const size = JSON.stringify(progress).length;
  if (size > MAX_PROGRESS_CHARS)
    throw new Error(
      `Paused (${paused.message}), but its progress (${size} characters) is too large to keep while it waits: the next run starts over`,
    );
  await lease.hold(progress, paused.delayMs);
  await deps.reconciliation.saveRun(run);
  await deps.runs.enqueue(request, paused.delayMs);
  return { ...run, paused: { until, why: paused.message } };
}
