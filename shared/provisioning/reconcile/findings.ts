// The finding collector of a run: decides what each finding becomes. Drift on an account (`compare`), a linked
// account gone (`accountGone`), a user or group the executor has not settled (`checkUnsettled`: stuck, never
// linked; failed ones are only counted), accounts no directory user is linked to (`unmatched`, reported, never
// touched), and a group's drift as group-check.ts judges it (`groupDrift`, `groupGone`). A user or group gets at
// most one correction per run. Corrections go on the provisioning queue as they are found (planned only in a dry
// run); disables, deletes and a group's member removals are held until the run ends, then enqueued, or staged for
// an admin when there are more than the accidental-deletion threshold allows (each member removed counts one).
// Items are recorded (at most MAX_RUN_ITEMS) and flushed after every page. When the run pauses, what is still held
// becomes part of its saved progress, after settling whatever is already decided (a dry run's plan; no threshold;
// over the threshold), so that stays small.
// Over ~300 lines on purpose: one collector, whose counters, items and staging must see every finding of a run.
import { reapplyStoredState } from '../../domain/change.js';
import type { Connection } from '../../domain/connection.js';
import { effectiveChange } from '../../domain/desired-state.js';
import { type AccountDrift, compareAccount, type ExpectedAccount, hasDrift } from '../../domain/drift.js';
import type {
  CorrectiveOperation,
  DriftKind,
  GroupDriftKind,
  GroupRunCounts,
  HeldCorrection,
  ItemDisposition,
  ReconciledType,
  ReconciliationRun,
  RunItem,
  RunProgress,
  StagedOperation,
} from '../../domain/reconciliation.js';
import { emptyDriftCounts, emptyGroupCounts, thresholdWeight } from '../../domain/reconciliation.js';
import { primaryMatchingRule, type SyncSettings } from '../../domain/sync-settings.js';
import { isInSync, type UserState } from '../../domain/user-state.js';
import type { GraphUser } from '../ports.js';
import { updateConnectionFlags } from './connection-flags.js';
import { type ReconcileDeps, settingsOf } from './deps.js';

/** A change not reconciled this long after it was received is presumed lost, and re-enqueued. */
export const STUCK_AFTER_MS = 15 * 60_000;
/** Items (drift, plan, unmatched accounts) recorded per run; the counts are always complete. */
export const MAX_RUN_ITEMS = 5_000;
/** Corrections sent to the queue at once (each send is one storage request; sequential, 1,000 took ~10 s). */
const SENDS_IN_FLIGHT = 32;
/** The users already corrected are kept across a pause only up to this size (else a rare duplicate correction). */
const MAX_FOUND_CHARS = 100_000;

/** What a run reads of a user after the directory scan: a full round holds one of these per linked user. */
export type LinkedUser = Pick<
  UserState,
  | 'connectionId'
  | 'externalId'
  | 'appliedDesired'
  | 'desired'
  | 'objectId'
  | 'userPrincipalName'
  | 'status'
  | 'ownedLicenses'
>;

/** One finding, as it is recorded (and, held, saved across a pause). */
interface Finding extends Omit<HeldCorrection, 'operation'> {
  operation: CorrectiveOperation;
  /** Found but not to be corrected (policy forbids it): recorded only. */
  reportOnly?: boolean;
}

/** What group-check.ts found on a group, for the collector to record and correct. */
export type GroupFinding = Omit<Finding, 'externalId' | 'objectType' | 'kind'> & { kind: GroupDriftKind };

/** The corrective operation a drift calls for, as the accidental-deletion threshold counts it. */
const operationFor = (drift: AccountDrift): CorrectiveOperation =>
  drift.shouldBeAbsent ? 'delete' : drift.enabled === false ? 'disable' : 'reconcile';

/** The key of a user or group in a run's found list (users' are their externalIds, as before groups). */
const foundKey = (objectType: ReconciledType | undefined, externalId: string) =>
  objectType === 'group' ? `group:${externalId}` : externalId;

/** The disables, deletes and member removals among held corrections, as the threshold message names them. */
function describeHeld(held: { operation: CorrectiveOperation; memberRemovals?: number }[], total: number): string {
  const removals = held.reduce((n, h) => n + (h.memberRemovals ?? 0), 0);
  if (removals === 0) return `${total} disable/delete operations`;
  return `${total - removals} disable/delete operation(s) and ${removals} member removal(s)`;
}

export type FindingsDeps = Pick<ReconcileDeps, 'clock' | 'queue' | 'reconciliation' | 'connections'>;

export class Findings {
  private items: RunItem[] = [];
  /** Corrections on their way to the queue: every flush waits for them, so none is left behind. */
  private sending: Promise<void>[] = [];
  private itemSeq: number;
  private held: HeldCorrection[];
  private settled: RunProgress['settled'];
  /** Users (by externalId) and groups (`group:` externalId) corrected by this run. */
  private foundObjects: Set<string>;
  readonly settings: SyncSettings;

  /** `progress`: the run continues after a pause (its items so far are stored, `run` has its counts). */
  constructor(
    private readonly deps: FindingsDeps,
    readonly connection: Connection,
    readonly run: ReconciliationRun,
    private readonly dryRun: boolean,
    private readonly lease: { renew(): Promise<void> },
    progress?: RunProgress,
  ) {
    this.settings = settingsOf(connection);
    this.itemSeq = progress ? run.items : 0;
    this.held = progress ? [...progress.held] : [];
    this.settled = progress ? { ...progress.settled } : { staged: 0, planned: 0 };
    this.foundObjects = new Set([
      ...(progress?.found ?? []),
      ...this.held.map((h) => foundKey(h.objectType, h.externalId)),
    ]);
    run.groups ??= emptyGroupCounts();
  }

  /** The run's group counts. */
  get groups(): GroupRunCounts {
    return (this.run.groups ??= emptyGroupCounts());
  }

  /** Starts over (an incremental round that turned into a full one). */
  reset(): void {
    this.held = [];
    this.run.drift = emptyDriftCounts();
    this.run.examined = { microsoft365: 0, directory: 0 };
    this.run.unmatched = 0;
  }

  /**
   * The groups round starts over (its token expired, or the run continues after a pause in it): what it counts
   * as it reads is counted again; its findings are not (each group is corrected once per run).
   */
  resetGroupRound(): void {
    const g = this.groups;
    g.examined = { microsoft365: 0, directory: 0 };
    g.unmatched = 0;
    g.failed = 0;
  }

  /** A user or group the executor has not settled: failed (reported), never linked or stuck (re-enqueued). */
  async checkUnsettled(user: UserState, objectType: ReconciledType = 'user'): Promise<void> {
    if (!user.desired) return;
    const group = objectType === 'group';
    if (user.status === 'failed') {
      if (group) this.groups.failed++;
      else this.run.failedUsers++;
      return;
    }
    if (user.status === 'held') return; // released when the connection is tested
    if (user.status === 'blocked') return; // policy holds it back: the user view and its log say what
    const inSync = isInSync(user);
    const age = this.deps.clock.now().getTime() - Date.parse(user.updatedAt);
    const wanted = user.desired.lifecycle?.state !== 'removed';
    const removal = effectiveChange(user.desired).type === 'remove';
    if (!inSync && age > STUCK_AFTER_MS) {
      await this.found(user, objectType, {
        kind: 'stuck',
        detail: `Received ${user.updatedAt} and still not reconciled (status ${user.status}): the operation was lost`,
        operation: !removal
          ? 'reconcile'
          : group
            ? this.settings.groupRemoveAction === 'delete'
              ? 'delete'
              : 'reconcile'
            : this.settings.removeAction === 'delete'
              ? 'delete'
              : 'disable',
      });
    } else if (
      inSync &&
      wanted &&
      !user.objectId &&
      effectiveChange(user.desired).hasProfile &&
      (group ? this.settings.allowGroupCreate : this.settings.allowCreate)
    ) {
      // In sync means no operation is on its way: the last one ended without an account (creating was off, or
      // it was skipped); creating is allowed now.
      await this.found(user, objectType, {
        kind: 'neverLinked',
        detail: `Wanted (${user.desired.lifecycle?.state ?? 'assigned'}) but never linked to a Microsoft 365 ${group ? 'group' : 'account'} (last result: ${user.status}${user.statusReason ? `: ${user.statusReason}` : ''})`,
        operation: 'reconcile',
      });
    }
  }

  /** What group-check.ts found on a linked group. */
  async groupDrift(group: Pick<UserState, 'externalId' | 'objectId'>, finding: GroupFinding): Promise<void> {
    await this.found(group, 'group', finding);
  }

  /** The linked group is gone from Microsoft 365: a wanted group gets it back (restored, or re-created). */
  async groupGone(group: UserState, objectId: string): Promise<void> {
    const wanted = group.desired?.lifecycle?.state !== 'removed' && Boolean(group.desired?.profile);
    if (!wanted || !isInSync(group)) return;
    const allowed = this.settings.allowGroupCreate;
    await this.found(group, 'group', {
      kind: 'deleted',
      detail: `The linked group ${objectId} was deleted in Microsoft 365 but the directory still has it: ${
        allowed
          ? 'restore it from deleted items, or re-create it'
          : 'restoring or creating groups needs allowGroupCreate: reported only'
      }`,
      operation: 'reconcile',
      objectId,
      reportOnly: !allowed,
    });
  }

  /** A Microsoft 365 group no directory group is linked to: counted, never touched. */
  unmatchedGroup(): void {
    this.groups.unmatched++;
  }

  async compare(user: LinkedUser, expected: ExpectedAccount, account: GraphUser, complete: boolean): Promise<void> {
    // An operation is on its way for a user not in sync: it reconciles the account itself.
    if (!isInSync(user)) return;
    const drift = compareAccount(expected, account, { complete, owned: user.ownedLicenses });
    if (!hasDrift(drift)) return;
    const kind: DriftKind = drift.shouldBeAbsent
      ? 'present'
      : drift.enabled !== undefined
        ? 'enabled'
        : drift.licenses
          ? 'license'
          : 'profile';
    const parts = [
      drift.shouldBeAbsent ? 'exists but the user was removed (remove action delete)' : '',
      drift.enabled !== undefined
        ? `accountEnabled is ${String(account.accountEnabled)}, should be ${drift.enabled}`
        : '',
      drift.profile.length > 0 ? `differs in ${drift.profile.map((d) => d.property).join(', ')}` : '',
      drift.licenses
        ? `licenses: missing ${drift.licenses.missing.join(', ') || 'none'}, not desired ${drift.licenses.extra.join(', ') || 'none'}`
        : '',
    ].filter(Boolean);
    await this.found(user, 'user', {
      kind,
      detail: parts.join('; '),
      operation: operationFor(drift),
      objectId: account.id,
      ...(account.userPrincipalName ? { userPrincipalName: account.userPrincipalName } : {}),
      ...(drift.profile.length > 0 ? { differences: drift.profile } : {}),
    });
  }

  /** The linked account is gone from Microsoft 365: a wanted user gets it back (restored or re-created). */
  async accountGone(user: LinkedUser, objectId: string): Promise<void> {
    const wanted = user.desired?.lifecycle?.state !== 'removed' && Boolean(user.desired?.profile);
    if (!wanted || !isInSync(user)) return;
    const { restoreDeletedUsers, allowCreate } = this.settings;
    const how =
      restoreDeletedUsers && allowCreate
        ? 'restore it from deleted items, or re-create it'
        : restoreDeletedUsers
          ? 'restore it from deleted items'
          : allowCreate
            ? 're-create it'
            : 'neither restoring nor creating accounts is allowed: reported only';
    await this.found(user, 'user', {
      kind: 'deleted',
      detail: `The linked account ${objectId} was deleted in Microsoft 365 but the user is still assigned: ${how}`,
      operation: 'reconcile',
      objectId,
      reportOnly: !restoreDeletedUsers && !allowCreate,
    });
  }

  unmatched(account: GraphUser): void {
    this.run.unmatched++;
    const attribute = this.settings.matchingRules.find((rule) => account[rule]) ?? primaryMatchingRule(this.settings);
    const match = account[attribute];
    this.item({
      objectType: 'user',
      kind: 'unmatched',
      objectId: account.id,
      ...(account.userPrincipalName ? { userPrincipalName: account.userPrincipalName } : {}),
      detail: `No directory user is linked to this account${match ? ` (${attribute} ${String(match)})` : ''}: reported, not touched (see GET …/import)`,
      disposition: 'reported',
    });
  }

  /** Saves the items found so far and keeps the lease (called after each page). */
  async flush(): Promise<void> {
    await this.sent();
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
    const held = this.held;
    this.held = [];
    const weight = held.reduce((n, h) => n + thresholdWeight(h), 0);
    if (this.dryRun) {
      const total = this.settled.planned + weight;
      if (threshold !== null && total > threshold)
        this.run.errors.push(
          `${describeHeld(held, total)} exceed the accidental-deletion threshold (${threshold}): a real run would stage them for approval`,
        );
      for (const f of held) await this.correct(f, 'planned');
      return this.flush();
    }
    const total = this.settled.staged + weight;
    // Staged before a pause: the rest of this run's disables and deletes are staged with them.
    if (this.settled.staged > 0 || (threshold !== null && total > threshold)) {
      await this.stage(held);
      this.run.errors.push(
        `${describeHeld(held, total)} exceed the accidental-deletion threshold (${threshold}): staged for approval (POST …/staged/approve or …/staged/reject)`,
      );
    } else {
      for (const f of held) await this.correct(f, 'enqueued');
    }
    await this.flush();
  }

  /**
   * The run pauses: settles the held disables and deletes whose fate is already known (a dry run plans them; no
   * threshold enqueues them; more than the threshold stages them, and whatever follows), flushes the items, and
   * answers what the saved progress must keep.
   */
  async settleForPause(): Promise<Pick<RunProgress, 'held' | 'settled' | 'found'>> {
    const threshold = this.settings.accidentalDeletionThreshold;
    const held = this.held;
    const weight = held.reduce((n, h) => n + thresholdWeight(h), 0);
    if (this.dryRun) {
      for (const f of held) await this.correct(f, 'planned');
      this.settled.planned += weight;
      this.held = [];
    } else if (threshold === null) {
      for (const f of held) await this.correct(f, 'enqueued');
      this.held = [];
    } else if (this.settled.staged > 0 || weight > threshold) {
      await this.stage(held);
      this.settled.staged += weight;
      this.held = [];
    }
    await this.flush();
    const found = [...this.foundObjects];
    return {
      held: this.held,
      settled: { ...this.settled },
      ...(JSON.stringify(found).length <= MAX_FOUND_CHARS ? { found } : {}),
    };
  }

  private async found(
    user: Pick<UserState, 'externalId' | 'objectId' | 'userPrincipalName'>,
    objectType: ReconciledType,
    f: Omit<Finding, 'externalId' | 'objectType'>,
  ): Promise<void> {
    // One correction per user or group per run (it can drift in several ways; the executor fixes them all at once).
    const key = foundKey(objectType, user.externalId);
    if (this.foundObjects.has(key)) return;
    this.foundObjects.add(key);
    if (objectType === 'group') {
      this.groups.drift[f.kind as GroupDriftKind]++;
      if (!f.reportOnly) this.groups.memberRemovals += f.memberRemovals ?? 0;
    } else this.run.drift[f.kind as DriftKind]++;
    const objectId = f.objectId ?? user.objectId;
    const userPrincipalName = f.userPrincipalName ?? user.userPrincipalName;
    const finding: Finding = {
      ...f,
      ...(objectType === 'group' ? { objectType } : {}),
      externalId: user.externalId,
      ...(objectId ? { objectId } : {}),
      ...(userPrincipalName ? { userPrincipalName } : {}),
    };
    if (finding.reportOnly) await this.correct(finding, 'reported');
    else if (finding.operation !== 'reconcile') this.held.push({ ...finding, operation: finding.operation });
    else await this.correct(finding, this.dryRun ? 'planned' : 'enqueued');
  }

  /** Stages disables/deletes for an admin and flags the connection (count of everything staged, since when). */
  private async stage(corrections: HeldCorrection[]): Promise<void> {
    if (corrections.length === 0) return;
    const stagedAt = this.deps.clock.now().toISOString();
    await this.deps.reconciliation.stage(
      corrections.map((f): StagedOperation => ({
        connectionId: this.connection.id,
        ...(f.objectType ? { objectType: f.objectType } : {}),
        externalId: f.externalId,
        runId: this.run.runId,
        operation: f.operation,
        kind: f.kind,
        detail: f.detail,
        ...(f.memberRemovals ? { memberRemovals: f.memberRemovals } : {}),
        stagedAt,
      })),
    );
    const count = (await this.deps.reconciliation.listStaged(this.connection.id)).length;
    await updateConnectionFlags(this.deps, this.connection.id, (c) => ({
      ...c,
      stagedOperations: { count, runId: this.run.runId, since: c.stagedOperations?.since ?? stagedAt },
    }));
    for (const f of corrections) await this.correct(f, 'staged');
  }

  private async correct(f: Finding, disposition: ItemDisposition): Promise<void> {
    let operationId: string | undefined;
    if (disposition === 'enqueued') {
      const message = reapplyStoredState(
        this.connection.id,
        f.externalId,
        `reconciliation ${this.run.runId}: ${f.kind}`,
        f.objectType ?? 'user',
      );
      operationId = message.operationId;
      const sending = this.deps.queue.enqueue(message);
      // Its failure is the next flush's (sent()); handled now, so it is never an unhandled rejection meanwhile.
      sending.catch(() => undefined);
      this.sending.push(sending);
      if (this.sending.length >= SENDS_IN_FLIGHT) await this.sent();
      this.run.enqueued++;
    }
    if (disposition === 'staged') this.run.staged++;
    this.item({
      objectType: f.objectType ?? 'user',
      kind: f.kind,
      externalId: f.externalId,
      ...(f.objectId ? { objectId: f.objectId } : {}),
      ...(f.userPrincipalName ? { userPrincipalName: f.userPrincipalName } : {}),
      detail: f.detail,
      ...(f.differences ? { differences: f.differences } : {}),
      disposition,
      ...(disposition === 'reported' ? {} : { operation: f.operation }),
      ...(f.memberRemovals ? { memberRemovals: f.memberRemovals } : {}),
      ...(operationId ? { operationId } : {}),
    });
  }

  /** Waits for the corrections on their way to the queue (a failed send fails the flush, as it would alone). */
  private async sent(): Promise<void> {
    const sending = this.sending;
    this.sending = [];
    await Promise.all(sending);
  }

  private item(item: RunItem): void {
    if (this.run.items >= MAX_RUN_ITEMS) {
      this.run.itemsTruncated = true;
      return;
    }
    this.run.items++;
    this.items.push(item);
  }
}
