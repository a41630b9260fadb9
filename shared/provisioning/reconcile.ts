// Reconciliation: compares one connection's desired state with its Microsoft 365 tenant and puts corrective
// operations on the provisioning queue (it never writes to Graph itself; the executor does, under the same
// ordering, lease and retry rules as every other change).
// - One run per connection at a time: a lease in the reconciliation state row, claimed with its ETag.
// - Incremental by Graph delta query: the first run (or after a lost/expired token, or weekly) is a full round
//   that also finds linked accounts deleted in Microsoft 365 (not seen); later runs read only what changed.
//   Pages are processed as they arrive; the directory side of a full round is held as a compact map.
// - Disable/delete corrections over the accidental-deletion threshold are staged for an admin.
// - A connection whose operations keep failing, or whose credentials are refused, is quarantined.
import { reapplyStoredState } from '../domain/change.js';
import { effectiveChange } from '../domain/desired-state.js';
import { compareAccount, expectedAccount, hasDrift, type AccountDrift, type DriftContext, type ExpectedAccount } from '../domain/drift.js';
import { AppError, isAppError } from '../domain/errors.js';
import type { Connection } from '../domain/connection.js';
import { DEFAULT_MAPPING, mappedProperties } from '../domain/mapping/mapping.js';
import { emptyDriftCounts, type DriftKind, type ItemDisposition, type ReconciliationRun, type ReconciliationState, type RunItem, type RunRequest, type StagedOperation } from '../domain/reconciliation.js';
import { DEFAULT_SYNC_SETTINGS, type SyncSettings } from '../domain/sync-settings.js';
import { isInSync, type UserState } from '../domain/user-state.js';
import type { ApplyDeps } from './apply-operation.js';
import type { GraphUser, ReconciliationStore, RequestRecorder, RunQueue, TenantGateway, UserPage } from './ports.js';
import { tenantGateway } from './tenant.js';

export interface ReconcileDeps extends ApplyDeps {
  reconciliation: ReconciliationStore;
  runs: RunQueue;
  /** How long a run holds its connection before another may take over (renewed while it works). */
  runLeaseMs?: number;
}

export const RUN_LEASE_MS = 5 * 60_000;
/** A change not reconciled this long after it was received is presumed lost, and re-enqueued. */
export const STUCK_AFTER_MS = 15 * 60_000;
/** A full round at least this often, and before a delta link nears its 7-day life. */
const FULL_ROUND_EVERY_MS = 6 * 24 * 3600_000;
/** A quarantined connection is reconciled at most this often by the timer. */
export const QUARANTINE_INTERVAL_MS = 6 * 3600_000;
/** Items (drift, plan, unmatched accounts) recorded per run; the counts are always complete. */
export const MAX_RUN_ITEMS = 5_000;
const PAGE_ATTEMPTS = 6;
const LOOKUP_CONCURRENCY = 16;

const settingsOf = (c: Connection): SyncSettings => ({ ...DEFAULT_SYNC_SETTINGS, ...c.settings });

/** The properties a run reads from Graph: what it compares, plus what names an account in a report. */
export function reconcileSelect(c: Connection): string[] {
  const s = settingsOf(c);
  return [...new Set(['id', 'userPrincipalName', 'accountEnabled', 'assignedLicenses', s.matchingAttribute, ...mappedProperties(c.mapping ?? DEFAULT_MAPPING, 'update')])];
}

/** What a run reads of a user after the directory scan: a full round holds one of these per linked user. */
type LinkedUser = Pick<UserState, 'connectionId' | 'externalId' | 'appliedDesired' | 'desired' | 'objectId' | 'userPrincipalName' | 'status' | 'ownedLicenses'>;


/** The corrective operation a drift calls for, as the accidental-deletion threshold counts it. */
const operationFor = (drift: AccountDrift): NonNullable<RunItem['operation']> => (drift.shouldBeAbsent ? 'delete' : drift.enabled === false ? 'disable' : 'reconcile');

interface Finding {
  user: LinkedUser;
  kind: DriftKind;
  detail: string;
  operation: NonNullable<RunItem['operation']>;
  drift?: AccountDrift;
  objectId?: string;
  userPrincipalName?: string;
  /** Found but not to be corrected (policy forbids it): recorded only. */
  reportOnly?: boolean;
}

/** Runs one reconciliation request to its end; never throws (the run record says how it ended). */
export async function runReconciliation(deps: ReconcileDeps, request: RunRequest): Promise<ReconciliationRun> {
  const now = () => deps.clock.now();
  const run: ReconciliationRun = {
    ...((await deps.reconciliation.getRun(request.connectionId, request.runId)) ?? blankRun(request)),
    status: 'running',
    startedAt: now().toISOString(),
  };
  const connection = await deps.connections.get(request.connectionId);
  if (!connection) return endRun(deps, run, 'failed', 'The connection no longer exists');

  const leaseMs = deps.runLeaseMs ?? RUN_LEASE_MS;
  const lease = new RunLease(deps.reconciliation, request, leaseMs, now);
  const holder = await lease.acquire();
  if (holder) return endRun(deps, run, 'skipped', `Another run (${holder.runId}) holds this connection until ${holder.until}: this one did nothing`);
  await deps.reconciliation.saveRun(run);
  try {
    const result = await reconcileConnection(deps, connection, run, lease, request);
    return result;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    run.errors.push(message);
    if (isAppError(error) && error.kind === 'unauthorized') await quarantine(deps, connection.id, `The credentials were refused during reconciliation: ${message}`);
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
  };
}

async function endRun(deps: ReconcileDeps, run: ReconciliationRun, status: ReconciliationRun['status'], reason?: string): Promise<ReconciliationRun> {
  const ended: ReconciliationRun = { ...run, status, ...(reason ? { reason } : {}), endedAt: deps.clock.now().toISOString() };
  await deps.reconciliation.saveRun(ended);
  return ended;
}

/** The per-connection run lease, in the reconciliation state row (ETag-guarded); renewed while the run works. */
class RunLease {
  private state: ReconciliationState | undefined;
  constructor(
    private readonly store: ReconciliationStore,
    private readonly request: RunRequest,
    private readonly leaseMs: number,
    private readonly now: () => Date,
  ) {}

  get current(): ReconciliationState {
    return this.state!;
  }

  /** Claims the connection; answers the live holder instead when another run has it. */
  async acquire(): Promise<{ runId: string; until: string } | undefined> {
    const state = await this.store.getState(this.request.connectionId);
    if (state.lease && state.lease.runId !== this.request.runId && Date.parse(state.lease.until) > this.now().getTime()) return state.lease;
    try {
      this.state = await this.store.saveState({ ...state, lease: { runId: this.request.runId, until: this.until() } });
    } catch (error) {
      if (isAppError(error) && error.code === 'concurrent-update') return (await this.store.getState(this.request.connectionId)).lease ?? { runId: '(unknown)', until: this.until() };
      throw error;
    }
    return undefined;
  }

  /** Extends the lease when half of it is used up; fails the run if another run took over meanwhile. */
  async renew(): Promise<void> {
    const until = Date.parse(this.state!.lease!.until);
    if (until - this.now().getTime() > this.leaseMs / 2) return;
    try {
      this.state = await this.store.saveState({ ...this.state!, lease: { runId: this.request.runId, until: this.until() } });
    } catch (error) {
      if (isAppError(error) && error.code === 'concurrent-update') throw new AppError('conflict', 'run-lease-lost', 'Another run took over this connection (the lease expired while this run was paused)');
      throw error;
    }
  }

  async release(update: Partial<ReconciliationState>): Promise<void> {
    const { lease: _lease, ...rest } = this.state!;
    this.state = await this.store.saveState({ ...rest, ...update });
  }

  private until(): string {
    return new Date(this.now().getTime() + this.leaseMs).toISOString();
  }
}

async function reconcileConnection(deps: ReconcileDeps, connection: Connection, run: ReconciliationRun, lease: RunLease, request: RunRequest): Promise<ReconciliationRun> {
  if (connection.status !== 'ready') {
    if (connection.status === 'needs-attention') await quarantine(deps, connection.id, `Credentials refused: ${connection.statusReason ?? 'needs attention'}`);
    await lease.release({});
    return endRun(deps, run, 'skipped', `The connection is ${connection.status}${connection.statusReason ? ` (${connection.statusReason})` : ''}: test it to reconcile`);
  }
  if (!request.dryRun) await evaluateQuarantine(deps, connection);

  const settings = settingsOf(connection);
  const recorder: RequestRecorder = { requestIds: [], planned: [] };
  const gateway = tenantGateway(deps, connection, { recorder });
  const work = new RunWork(deps, connection, run, request, lease);
  // License names resolve through the subscribed SKUs; without them licenses are not compared.
  const skus = await withRetries(() => gateway.licenses.subscribedSkus()).catch((error: unknown) => {
    if (isAppError(error) && error.kind === 'unauthorized' && error.details.status !== 403) throw error;
    run.errors.push(`Licenses not compared: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  });
  const ctx: DriftContext = { mapping: connection.mapping ?? DEFAULT_MAPPING, settings, domain: connection.domain, ...(skus ? { skus } : {}) };
  const state = lease.current;
  const started = deps.clock.now();

  const dueFull =
    request.full ? 'requested' :
    !state.deltaLink ? 'first run (no delta link yet)' :
    !state.lastFullAt || started.getTime() - Date.parse(state.lastFullAt) > FULL_ROUND_EVERY_MS ? 'weekly full round' :
    started.getTime() - Date.parse(state.deltaLinkAt ?? '1970-01-01') > FULL_ROUND_EVERY_MS ? 'the delta link is about to expire' : undefined;

  let deltaLink: string | undefined;
  if (dueFull === undefined) {
    try {
      run.deltaRound = { kind: 'incremental', why: `changes since ${state.deltaLinkAt}` };
      deltaLink = await incrementalRound(work, gateway, ctx, connection, state.deltaLink!);
    } catch (error) {
      if (!(isAppError(error) && error.code === 'delta-token-expired')) throw error;
      work.reset();
      run.deltaRound = { kind: 'full', why: `the delta token expired or was reset (${error.message})` };
      deltaLink = await fullRound(work, gateway, ctx, connection);
    }
  } else {
    run.deltaRound = { kind: 'full', why: dueFull };
    deltaLink = await fullRound(work, gateway, ctx, connection);
  }
  await work.finish();
  run.graphRequests = recorder.requestIds.length;
  const at = deps.clock.now().toISOString();
  // A dry run leaves the delta link where it was: the next real run must still see these changes.
  await lease.release(
    request.dryRun
      ? { lastRunAt: at, lastRunId: run.runId }
      : { deltaLink, deltaLinkAt: at, lastRunAt: at, lastRunId: run.runId, ...(run.deltaRound?.kind === 'full' ? { lastFullAt: at } : {}) },
  );
  return endRun(deps, run, 'completed');
}

interface DirectoryEntry {
  user: LinkedUser;
  expected: ExpectedAccount;
  seen: boolean;
}

/** Every account against every directory user: drift, linked accounts gone, unmatched accounts. */
async function fullRound(work: RunWork, gateway: TenantGateway, ctx: DriftContext, connection: Connection): Promise<string | undefined> {
  const { deps } = work;
  const linked = new Map<string, DirectoryEntry>();
  for await (const page of deps.users.scan(connection.id)) {
    for (const user of page) {
      work.run.examined.directory++;
      if (!user.desired) continue;
      if (user.objectId) linked.set(user.objectId, { user: compact(user, connection.id), expected: expectedAccount(user.desired, ctx), seen: false });
      await work.checkUnsettled(user);
    }
    await work.flush();
  }
  let link: string | undefined;
  let deltaLink: string | undefined;
  do {
    const page: UserPage = await withRetries(() => gateway.users.usersDeltaPage(reconcileSelect(connection), link));
    for (const account of page.users) {
      if (account['@removed']) continue;
      work.run.examined.microsoft365++;
      const entry = linked.get(account.id);
      if (!entry) {
        work.unmatched(account, connection);
        continue;
      }
      entry.seen = true;
      await work.compare(entry.user, entry.expected, account, true);
    }
    await work.flush();
    link = page.nextLink;
    deltaLink = page.deltaLink;
  } while (link);
  // Linked accounts the full round did not return no longer exist in Microsoft 365.
  for (const entry of linked.values()) {
    if (!entry.seen) await work.accountGone(entry.user, entry.user.objectId!);
  }
  await work.flush();
  return deltaLink;
}

/** Only what changed since the stored delta link, looked up through the link index; plus unsettled users. */
async function incrementalRound(work: RunWork, gateway: TenantGateway, ctx: DriftContext, connection: Connection, from: string): Promise<string | undefined> {
  const { deps } = work;
  let link: string | undefined = from;
  let deltaLink: string | undefined;
  do {
    const page: UserPage = await withRetries(() => gateway.users.usersDeltaPage(reconcileSelect(connection), link));
    // The same user can appear twice in one round: the last appearance is the current one.
    const latest = new Map(page.users.map((u) => [u.id, u]));
    const accounts = [...latest.values()];
    const users = await mapLimit(accounts, LOOKUP_CONCURRENCY, (a) => deps.users.findByObjectId(connection.id, a.id));
    for (const [i, account] of accounts.entries()) {
      const user = users[i];
      if (!account['@removed']) work.run.examined.microsoft365++;
      if (!user?.desired) {
        if (!account['@removed']) work.unmatched(account, connection);
        continue;
      }
      const expected = expectedAccount(user.desired, ctx);
      if (account['@removed']) await work.accountGone(user, account.id);
      else await work.compare(user, expected, account, false);
    }
    await work.flush();
    link = page.nextLink;
    deltaLink = page.deltaLink;
  } while (link);
  for (const user of await deps.users.listNeedingAttention(connection.id)) {
    work.run.examined.directory++;
    await work.checkUnsettled(user);
  }
  await work.flush();
  return deltaLink;
}

const NO_ATTRIBUTES: Record<string, unknown> = Object.freeze({});
const NO_LICENSES: string[] = Object.freeze([]) as unknown as string[];

/**
 * Only the fields a run reads after the directory scan (a full round holds every linked user in memory: at
 * 100,000 users each field and object counts). The connection id string and the empty attributes and licenses
 * are shared instead of one copy per user.
 */
function compact(u: UserState, connectionId: string): LinkedUser {
  return {
    connectionId: u.connectionId === connectionId ? connectionId : u.connectionId,
    externalId: u.externalId,
    ...(u.appliedDesired ? { appliedDesired: u.appliedDesired } : {}),
    ...(u.desired ? { desired: { ...(u.desired.lifecycle ? { lifecycle: u.desired.lifecycle } : {}), ...(u.desired.profile ? { profile: { version: u.desired.profile.version, attributes: NO_ATTRIBUTES } } : {}) } } : {}),
    ...(u.objectId ? { objectId: u.objectId } : {}),
    ...(u.userPrincipalName ? { userPrincipalName: u.userPrincipalName } : {}),
    status: u.status,
    ownedLicenses: u.ownedLicenses.length > 0 ? u.ownedLicenses : NO_LICENSES,
  };
}

/** What a run found and does about it: corrections enqueued as found, disables/deletes held for the threshold. */
class RunWork {
  private items: RunItem[] = [];
  private itemSeq = 0;
  private removals: Finding[] = [];
  private enqueuedUsers = new Set<string>();
  readonly settings: SyncSettings;

  constructor(
    readonly deps: ReconcileDeps,
    readonly connection: Connection,
    readonly run: ReconciliationRun,
    private readonly request: RunRequest,
    private readonly lease: RunLease,
  ) {
    this.settings = settingsOf(connection);
  }

  /** Starts over (an incremental round that turned into a full one). */
  reset(): void {
    this.removals = [];
    this.run.drift = emptyDriftCounts();
    this.run.examined = { microsoft365: 0, directory: 0 };
    this.run.unmatched = 0;
  }

  /** A user the executor has not settled: failed (reported), never linked or stuck (re-enqueued). */
  async checkUnsettled(user: UserState): Promise<void> {
    if (!user.desired) return;
    if (user.status === 'failed') {
      this.run.failedUsers++;
      return;
    }
    if (user.status === 'held') return; // released when the connection is tested
    const inSync = isInSync(user);
    const age = this.deps.clock.now().getTime() - Date.parse(user.updatedAt);
    const wanted = user.desired.lifecycle?.state !== 'removed';
    if (!inSync && age > STUCK_AFTER_MS) {
      await this.found({ user, kind: 'stuck', detail: `Received ${user.updatedAt} and still not reconciled (status ${user.status}): the operation was lost`, operation: effectiveChange(user.desired).type === 'remove' ? (this.settings.removeAction === 'delete' ? 'delete' : 'disable') : 'reconcile' });
    } else if (inSync && wanted && !user.objectId && effectiveChange(user.desired).hasProfile && this.settings.allowCreate) {
      // In sync means no operation is on its way: the last one ended without an account (creating was off, or
      // it was skipped); creating is allowed now.
      await this.found({ user, kind: 'neverLinked', detail: `Wanted (${user.desired.lifecycle?.state ?? 'assigned'}) but never linked to a Microsoft 365 account (last result: ${user.status}${user.statusReason ? `: ${user.statusReason}` : ''})`, operation: 'reconcile' });
    }
  }

  async compare(user: LinkedUser, expected: ExpectedAccount, account: GraphUser, complete: boolean): Promise<void> {
    // An operation is on its way for a user not in sync: it reconciles the account itself.
    if (!isInSync(user)) return;
    const drift = compareAccount(expected, account, { complete, owned: user.ownedLicenses });
    if (!hasDrift(drift)) return;
    const kind: DriftKind = drift.shouldBeAbsent ? 'present' : drift.enabled !== undefined ? 'enabled' : drift.licenses ? 'license' : 'profile';
    const parts = [
      drift.shouldBeAbsent ? 'exists but the user was removed (remove action delete)' : '',
      drift.enabled !== undefined ? `accountEnabled is ${String(account.accountEnabled)}, should be ${drift.enabled}` : '',
      drift.profile.length > 0 ? `differs in ${drift.profile.map((d) => d.property).join(', ')}` : '',
      drift.licenses ? `licenses: missing ${drift.licenses.missing.join(', ') || 'none'}, not desired ${drift.licenses.extra.join(', ') || 'none'}` : '',
    ].filter(Boolean);
    await this.found({ user, kind, detail: parts.join('; '), operation: operationFor(drift), drift, objectId: account.id, ...(account.userPrincipalName ? { userPrincipalName: account.userPrincipalName } : {}) });
  }

  /** The linked account is gone from Microsoft 365: a wanted user gets it back (restored or re-created). */
  async accountGone(user: LinkedUser, objectId: string): Promise<void> {
    const wanted = user.desired?.lifecycle?.state !== 'removed' && Boolean(user.desired?.profile);
    if (!wanted || !isInSync(user)) return;
    const { restoreDeletedUsers, allowCreate } = this.settings;
    const how = restoreDeletedUsers && allowCreate ? 'restore it from deleted items, or re-create it' : restoreDeletedUsers ? 'restore it from deleted items' : allowCreate ? 're-create it' : 'neither restoring nor creating accounts is allowed: reported only';
    await this.found({ user, kind: 'deleted', detail: `The linked account ${objectId} was deleted in Microsoft 365 but the user is still assigned: ${how}`, operation: 'reconcile', objectId, reportOnly: !restoreDeletedUsers && !allowCreate });
  }

  unmatched(account: GraphUser, connection: Connection): void {
    this.run.unmatched++;
    const match = account[settingsOf(connection).matchingAttribute];
    this.item({ kind: 'unmatched', objectId: account.id, ...(account.userPrincipalName ? { userPrincipalName: account.userPrincipalName } : {}), detail: `No directory user is linked to this account${match ? ` (${settingsOf(connection).matchingAttribute} ${String(match)})` : ''}: reported, not touched (see GET …/import)`, disposition: 'reported' });
  }

  private async found(f: Finding): Promise<void> {
    // One correction per user per run (a user can drift in several ways; the executor fixes them all at once).
    if (this.enqueuedUsers.has(f.user.externalId)) return;
    this.enqueuedUsers.add(f.user.externalId);
    this.run.drift[f.kind]++;
    if (f.reportOnly) await this.correct(f, 'reported');
    else if (f.operation !== 'reconcile') this.removals.push(f);
    else await this.correct(f, this.request.dryRun ? 'planned' : 'enqueued');
  }

  private async correct(f: Finding, disposition: ItemDisposition): Promise<void> {
    let operationId: string | undefined;
    if (disposition === 'enqueued') {
      const message = reapplyStoredState(f.user.connectionId, f.user.externalId, `reconciliation ${this.run.runId}: ${f.kind}`);
      operationId = message.operationId;
      await this.deps.queue.enqueue(message);
      this.run.enqueued++;
    }
    if (disposition === 'staged') this.run.staged++;
    this.item({
      kind: f.kind,
      externalId: f.user.externalId,
      ...(f.objectId ?? f.user.objectId ? { objectId: f.objectId ?? f.user.objectId } : {}),
      ...(f.userPrincipalName ?? f.user.userPrincipalName ? { userPrincipalName: f.userPrincipalName ?? f.user.userPrincipalName } : {}),
      detail: f.detail,
      ...(f.drift && f.drift.profile.length > 0 ? { differences: f.drift.profile } : {}),
      disposition,
      ...(disposition === 'reported' ? {} : { operation: f.operation }),
      ...(operationId ? { operationId } : {}),
    });
  }

  private item(item: RunItem): void {
    if (this.run.items >= MAX_RUN_ITEMS) {
      this.run.itemsTruncated = true;
      return;
    }
    this.run.items++;
    this.items.push(item);
  }

  /** Saves the items found so far and keeps the lease (called after each page). */
  async flush(): Promise<void> {
    if (this.items.length > 0) {
      const batch = this.items;
      this.items = [];
      await this.deps.reconciliation.appendItems(this.connection.id, this.run.runId, this.itemSeq, batch);
      this.itemSeq += batch.length;
    }
    await this.lease.renew();
  }

  /** Disables and deletes: enqueued, or staged when there are more than the threshold allows. */
  async finish(): Promise<void> {
    const threshold = this.settings.accidentalDeletionThreshold;
    const overThreshold = threshold !== null && this.removals.length > threshold;
    if (this.request.dryRun) {
      if (overThreshold) this.run.errors.push(`${this.removals.length} disable/delete operations exceed the accidental-deletion threshold (${threshold}): a real run would stage them for approval`);
      for (const f of this.removals) await this.correct(f, 'planned');
      return this.flush();
    }
    const stage = overThreshold;
    if (stage) {
      const stagedAt = this.deps.clock.now().toISOString();
      await this.deps.reconciliation.stage(
        this.removals.map((f): StagedOperation => ({ connectionId: this.connection.id, externalId: f.user.externalId, runId: this.run.runId, operation: f.operation as StagedOperation['operation'], kind: f.kind, detail: f.detail, stagedAt })),
      );
      const count = (await this.deps.reconciliation.listStaged(this.connection.id)).length;
      await updateConnection(this.deps, this.connection.id, (c) => ({ ...c, stagedOperations: { count, runId: this.run.runId, since: c.stagedOperations?.since ?? stagedAt } }));
      this.run.errors.push(`${this.removals.length} disable/delete operations exceed the accidental-deletion threshold (${threshold}): staged for approval (POST …/staged/approve or …/staged/reject)`);
    }
    for (const f of this.removals) await this.correct(f, stage ? 'staged' : 'enqueued');
    await this.flush();
  }
}

/** Read-modify-write of a connection with its ETag, retried when someone else wrote it meanwhile. */
export async function updateConnection(deps: Pick<ApplyDeps, 'connections' | 'clock'>, id: string, change: (c: Connection) => Connection | undefined): Promise<Connection | undefined> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await deps.connections.get(id);
    if (!current) return undefined;
    const next = change(current);
    if (!next) return current;
    try {
      return await deps.connections.replace({ ...next, updatedAt: deps.clock.now().toISOString() });
    } catch (error) {
      if (!(isAppError(error) && error.code === 'concurrent-update')) throw error;
    }
  }
  throw new AppError('conflict', 'concurrent-update', `Connection ${id} kept changing; try again`);
}

async function quarantine(deps: ReconcileDeps, connectionId: string, reason: string): Promise<void> {
  await updateConnection(deps, connectionId, (c) => (c.quarantine ? undefined : { ...c, quarantine: { since: deps.clock.now().toISOString(), reason } }));
}

/** Quarantines the connection when too many of its recent operations failed (thresholds in its settings). */
async function evaluateQuarantine(deps: ReconcileDeps, connection: Connection): Promise<void> {
  if (connection.quarantine) return;
  const s = settingsOf(connection);
  const { records } = await deps.log.query(connection.id, { limit: s.quarantineMinimumOperations });
  const operations = records.filter((r) => r.result !== 'planned');
  if (operations.length < s.quarantineMinimumOperations) return;
  const failed = operations.filter((r) => r.result === 'failed').length;
  const percent = (100 * failed) / operations.length;
  if (percent > s.quarantineFailurePercent) {
    await quarantine(deps, connection.id, `${failed} of the last ${operations.length} operations failed (${percent.toFixed(0)} % > ${s.quarantineFailurePercent} %): fix the cause (see the log), then test the connection`);
  }
}

/**
 * A Graph read retried through throttling and Graph's own transient answers (a run is long; it waits rather than
 * restarts). A tenant that cannot be reached at all fails the run at once: the next run tries again.
 */
async function withRetries<T>(read: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (error) {
      const retryable = isAppError(error) && (error.kind === 'throttled' || (error.kind === 'transient' && typeof error.details.status === 'number'));
      if (!retryable || attempt >= PAGE_ATTEMPTS) throw error;
      await new Promise<void>((r) => setTimeout(r, error.retryAfterMs ?? Math.min(30_000, 500 * 2 ** attempt)));
    }
  }
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}
