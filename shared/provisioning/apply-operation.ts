// applyOperation: the operation pipeline, the one use case every path that changes Microsoft 365 ends in (queue,
// provision on demand, retry, reconciliation corrections, import): load the object's row with its ETag → merge the
// change → lease → hold while the connection is not ready → act (per object type: object-kind.ts) → save + log.
// Per docs/architecture.md:
// - at least once and idempotent: an account is looked up (linked id, else the matching attribute) before any
//   create, so a redelivered message adopts instead of duplicating;
// - ordered per user by version: the user row is read and written with its ETag; an older version is skipped
//   as stale; a concurrent write makes the whole operation run again;
// - nothing lost: every operation ends applied, skipped (why), failed (visible, retryable), held (connection
//   not ready) or planned (dry run), and writes one log record.
// Throttled and transient errors are thrown to the caller, which decides when to try again.
// Over ~300 lines on purpose: one flow whose ordering (claim before acting, save with the claim's ETag) is the
// guarantee; split into files it would be harder to check.
import { objectTypeOf, type OperationMessage, reapplyStoredState } from '../domain/change.js';
import type { Connection } from '../domain/connection.js';
import {
  asksNothingNew,
  desiredVersion,
  type EffectiveChange,
  effectiveChange,
  mergeChange,
} from '../domain/desired-state.js';
import { AppError, isAppError } from '../domain/errors.js';
import { DEFAULT_MAPPING } from '../domain/mapping/mapping.js';
import { effectiveSettings, type SyncSettings } from '../domain/sync-settings.js';
import {
  type BlockedBy,
  isInSync,
  type MatchReport,
  type OperationAction,
  type OperationResult,
  type PendingReference,
  type PlannedRequest,
  type ProvisioningLogRecord,
  type UserState,
} from '../domain/user-state.js';
import { openDesired, sealChange, sealDesired } from './change-secrets.js';
import { settleDeletion, skippedWhileDeleting } from './delete-connection.js';
import { groupKind } from './group-actions.js';
import { licenceGroupsFor } from './licence-groups.js';
import { claimAccountLink } from './link-claims.js';
import type { ActionOutcome, ObjectKind } from './object-kind.js';
import type {
  LicenceGroupStore,
  OperationQueue,
  PendingRemovals,
  ProvisioningLog,
  RequestRecorder,
  ScimStore,
  UserStateRepository,
} from './ports.js';
import { connectionReferences } from './references.js';
import { tenantGateway } from './tenant.js';
import type { TestConnectionDeps } from './test-connection.js';
import { userKind } from './user-actions.js';

export interface ApplyDeps extends TestConnectionDeps {
  users: UserStateRepository;
  /** Group rows: the same shape as user rows, in their own table. */
  groups: UserStateRepository;
  log: ProvisioningLog;
  queue: OperationQueue;
  /** How long an operation holds its user (default USER_LEASE_MS). */
  userLeaseMs?: number;
  /** Removals a connection being deleted still waits for (delete-connection.ts). */
  pendingRemovals: PendingRemovals;
  /** Group-based licensing's bookkeeping (licence-groups.ts). */
  licenceGroups: LicenceGroupStore;
  /** SCIM tokens and resources as received (scim/): forgotten with the connection (delete-connection.ts). */
  scim: Pick<ScimStore, 'clear'>;
}

export interface TraceStep {
  step: string;
  detail: string;
}

export interface OperationOutcome {
  operationId: string;
  externalId: string;
  version: number;
  result: OperationResult;
  action: OperationAction;
  reason?: string;
  error?: { code: string; kind: string; message: string };
  changedProperties: string[];
  graphRequestIds: string[];
  plan?: PlannedRequest[];
  objectId?: string;
  /** What policy held back (see BlockedBy). */
  blockedBy?: BlockedBy[];
  /** What matching found, and whether it adopted each account or why not. */
  match?: MatchReport[];
  /** References that wait to be provisioned (group members, a manager). */
  pending?: PendingReference[];
  trace: TraceStep[];
}

export interface ApplyOptions {
  /** Provision on demand re-applies the current desired state: its version may equal the applied one. */
  reapply?: boolean;
  /** An admin's re-match: matching runs for a user unlinked by an admin, or links the account named here. */
  rematch?: { objectId?: string };
}

const MAX_REDO = 5;
/** How long an operation may hold a user; longer only if its host died mid-operation. */
export const USER_LEASE_MS = 60_000;
/** How soon an operation that found its user busy is tried again. */
const BUSY_RETRY_MS = 1_000;

/** The object type a message is about. A change names none yet: every change is a user's (groups add `objectType`). */
const kindOf = (message: OperationMessage): ObjectKind => (objectTypeOf(message) === 'group' ? groupKind : userKind);

export async function applyOperation(
  deps: ApplyDeps,
  message: OperationMessage,
  options: ApplyOptions = {},
): Promise<OperationOutcome> {
  const kind = kindOf(message);
  for (let attempt = 1; ; attempt++) {
    try {
      const outcome = await attemptOperation(deps, kind, message, options);
      // A connection being deleted (deprovisionOnRuleDeletion) removes itself after its last removal.
      if (message.type === 'remove') await settleDeletion(deps, message.connectionId, message.externalId);
      return outcome;
    } catch (error) {
      // Someone wrote this object meanwhile: start again from a fresh read (the Graph side is idempotent).
      if (isAppError(error) && error.code === 'concurrent-update' && attempt < MAX_REDO) continue;
      throw error;
    }
  }
}

/** Connection-level refusals: the credentials, not this user, are the problem. */
const connectionRefused = (e: AppError) =>
  e.code === 'credentials-refused' || e.code === 'not-authorized' || e.code === 'tenant-not-found';

async function attemptOperation(
  deps: ApplyDeps,
  kind: ObjectKind,
  message: OperationMessage,
  options: ApplyOptions,
): Promise<OperationOutcome> {
  const started = deps.clock.now();
  const trace: TraceStep[] = [];
  const step = (s: string, detail: string) => trace.push({ step: s, detail });
  const recorder: RequestRecorder = { requestIds: [], planned: [] };
  const base = { operationId: message.operationId, externalId: message.externalId, version: message.version };

  const finish = async (
    user: UserState | undefined,
    outcome: Omit<OperationOutcome, keyof typeof base | 'trace' | 'graphRequestIds'>,
  ) => {
    const full: OperationOutcome = { ...base, ...outcome, graphRequestIds: recorder.requestIds, trace };
    if (user) await deps[kind.rows].save(user);
    await deps.log.append(logRecord(message, full, started, deps.clock.now()));
    return full;
  };

  const connection = await (deps.connections.recent ?? deps.connections.get).call(
    deps.connections,
    message.connectionId,
  );
  if (!connection) {
    step('connection', 'No such connection');
    return finish(undefined, {
      result: 'failed',
      action: 'none',
      changedProperties: [],
      error: {
        code: 'connection-not-found',
        kind: 'not-found',
        message: `No connection with id ${message.connectionId}`,
      },
    });
  }
  const whileDeleting = skippedWhileDeleting(connection, message);
  if (whileDeleting) {
    step('connection', whileDeleting);
    return finish(undefined, { result: 'skipped', action: 'none', reason: whileDeleting, changedProperties: [] });
  }
  const now = started.toISOString();
  const user: UserState = (await deps[kind.rows].get(message.connectionId, message.externalId)) ?? {
    connectionId: message.connectionId,
    externalId: message.externalId,
    appliedVersion: 0,
    status: 'pending',
    ownedLicenses: [],
    createdAt: now,
    updatedAt: now,
  };

  // Merge the change into what the source wants; a change that adds nothing is stale (or a duplicate).
  // A retry, a release or provision on demand re-applies the merged state instead.
  const desired = user.desired ? openDesired(deps.secrets, user, user.desired) : {};
  const { next, changed } = mergeChange(desired, message);
  // Only a user already in sync can skip: if an earlier operation merged its change and then died (host
  // killed between claim and save) or failed, any delivery, a duplicate included, finishes the job. A source
  // change (version ≥ 1) that adds nothing to a user in sync ends here without a Graph call, whether it is a
  // duplicate, a redelivery or a deferred copy whose twin was applied meanwhile. Version 0 (the app's own
  // re-apply requests) and provision on demand always act: they exist to fix what Microsoft 365 holds.
  if (!changed && isInSync(user) && !options.reapply && message.version > 0) {
    const known = `profile v${desired.profile?.version ?? 0}, lifecycle v${desired.lifecycle?.version ?? 0}`;
    const why = message.retry
      ? `Already applied: version ${message.version} was applied while this copy waited (${known})`
      : `Stale: version ${message.version} is not newer than version ${desiredVersion(desired)}, already received (${known})`;
    step('version', `Version ${message.version} adds nothing (${known}): skipped`);
    return finish(undefined, { result: 'skipped', action: 'none', reason: why, changedProperties: [] });
  }
  step(
    'version',
    `Version ${message.version}: desired profile v${next.profile?.version ?? 0}, lifecycle v${next.lifecycle?.version ?? 0} (${next.lifecycle?.state ?? 'unknown'})`,
  );
  if (user.lease && Date.parse(user.lease.until) > started.getTime()) {
    // Another operation is acting on this object: try again shortly (the queue defers; nothing sleeps).
    throw new AppError(
      'transient',
      'user-busy',
      `The ${kind.name} ${message.externalId} is being provisioned by operation ${user.lease.operationId}`,
      {},
      BUSY_RETRY_MS,
    );
  }
  if (
    message.version > 0 &&
    !options.reapply &&
    !options.rematch &&
    asksNothingNew(user, desired, next, connection.etag)
  ) {
    const reason = `Nothing new: version ${message.version} asks for what was last applied, under the same configuration; no Graph request (reconciliation finds edits made in Microsoft 365)`;
    step('version', reason);
    const reconciled = { profile: next.profile?.version ?? 0, lifecycle: next.lifecycle?.version ?? 0 };
    return finish(
      {
        ...user,
        desired: sealDesired(deps.secrets, user, next),
        lastChange: sealChange(deps.secrets, { ...message, retry: undefined }),
        lastOperationId: message.operationId,
        appliedVersion: Math.max(user.appliedVersion, reconciled.profile, reconciled.lifecycle),
        appliedDesired: reconciled,
        status: 'skipped',
        statusReason: reason,
        updatedAt: now,
      },
      {
        result: 'skipped',
        action: 'none',
        reason,
        changedProperties: [],
        ...(user.objectId ? { objectId: user.objectId } : {}),
      },
    );
  }
  // Claim the user (ETag) before touching Microsoft 365: a concurrent operation on it now sees the lease, or
  // loses the claim and starts again from a fresh read.
  const claimed = await deps[kind.rows].save({
    ...user,
    desired: sealDesired(deps.secrets, user, next),
    // A version-0 request re-applies what is stored: the last change received stays what it was.
    ...(message.version > 0 ? { lastChange: sealChange(deps.secrets, { ...message, retry: undefined }) } : {}),
    lastOperationId: message.operationId,
    updatedAt: now,
    lease: {
      operationId: message.operationId,
      until: new Date(started.getTime() + (deps.userLeaseMs ?? USER_LEASE_MS)).toISOString(),
    },
  });
  const reconciled = { profile: next.profile?.version ?? 0, lifecycle: next.lifecycle?.version ?? 0 };
  return actOnClaimed(deps, kind, message, claimed, connection, effectiveChange(next), reconciled, {
    now,
    step,
    recorder,
    finish,
    options,
    // A lease left behind: an earlier attempt was cut short (its host died) after it claimed the user.
    ...(user.lease ? { resumedSince: Date.parse(user.updatedAt) } : {}),
  });
}

interface Attempt {
  now: string;
  step: (s: string, detail: string) => void;
  recorder: RequestRecorder;
  finish: (
    user: UserState | undefined,
    outcome: Omit<OperationOutcome, 'operationId' | 'externalId' | 'version' | 'trace' | 'graphRequestIds'>,
  ) => Promise<OperationOutcome>;
  options: ApplyOptions;
  resumedSince?: number;
}

async function actOnClaimed(
  deps: ApplyDeps,
  kind: ObjectKind,
  message: OperationMessage,
  claimed: UserState,
  connection: Connection,
  change: EffectiveChange,
  reconciled: NonNullable<UserState['appliedDesired']>,
  a: Attempt,
): Promise<OperationOutcome> {
  const { now, step, recorder, finish } = a;
  // Every ending below saves the user without the lease (with the claim's ETag).
  const { lease: _lease, ...user } = claimed;

  if (connection.status !== 'ready') {
    step('connection', `Connection is ${connection.status}: operation held until it is ready`);
    const reason = `Held: the connection is ${connection.status}${connection.statusReason ? ` (${connection.statusReason})` : ''}`;
    return finish(
      { ...user, status: 'held', statusReason: reason },
      { result: 'held', action: 'none', reason, changedProperties: [] },
    );
  }
  step('connection', 'Connection is ready');
  if (user.unlinkedFrom && !a.options.rematch) {
    const reason = `Unlinked by an admin from account ${user.unlinkedFrom.objectId} (${user.unlinkedFrom.at}): re-match the user to provision it again`;
    step('match', reason);
    return finish(
      { ...user, status: 'unlinked', statusReason: reason },
      { result: 'skipped', action: 'none', reason, changedProperties: [] },
    );
  }
  const settings: SyncSettings = effectiveSettings(connection.settings);
  const gateway = tenantGateway(deps, connection, { dryRun: settings.dryRun, recorder });
  const owner = { tenantId: connection.tenantId, connectionId: connection.id, externalId: user.externalId };

  try {
    const outcome = await kind.act({
      connection,
      settings,
      mapping: connection.mapping ?? DEFAULT_MAPPING,
      gateway,
      user,
      change,
      trace: step,
      links: {
        claim: (objectId) => claimAccountLink({ ...deps, users: deps[kind.rows] }, owner, objectId, settings.dryRun),
      },
      references: connectionReferences(deps, connection.id),
      licenceGroups: licenceGroupsFor({ ...deps, flushNow: (m) => applyOperation(deps, m) }, connection.id),
      ...(a.resumedSince !== undefined ? { resumedSince: a.resumedSince } : {}),
      ...(a.options.rematch?.objectId ? { linkTo: a.options.rematch.objectId } : {}),
    });
    if (settings.dryRun) {
      step('dry-run', `${recorder.planned.length} write(s) planned, none sent`);
      return finish(
        { ...user, status: 'planned', statusReason: 'Dry run: see the plan in the log' },
        {
          result: 'planned',
          action: outcome.action,
          changedProperties: outcome.changedProperties,
          plan: recorder.planned,
          ...(outcome.match?.length ? { match: outcome.match } : {}),
        },
      );
    }
    const deleted = outcome.action === 'delete';
    const account = outcome.account;
    const saved: UserState = {
      ...user,
      appliedVersion: Math.max(user.appliedVersion, reconciled.profile, reconciled.lifecycle),
      appliedDesired: reconciled,
      ...(connection.etag ? { appliedUnder: connection.etag } : {}),
      status: outcome.result,
      ...(outcome.reason ? { statusReason: outcome.reason } : { statusReason: undefined }),
      lastError: undefined,
      ownedLicenses: outcome.ownedLicenses,
      ...(outcome.unlink
        ? { objectId: undefined, claimedObjectId: undefined, ownedMembers: undefined }
        : account && !deleted
          ? {
              objectId: account.id,
              userPrincipalName: account.userPrincipalName ?? user.userPrincipalName,
              // Every path that links an account claimed it first (user-actions.ts).
              claimedObjectId: account.id,
              unlinkedFrom: undefined,
            }
          : {}),
      ...(outcome.applied ? { lastApplied: outcome.applied } : {}),
      ...(outcome.generated ? { generated: outcome.generated } : {}),
      ...(outcome.ownedMembers ? { ownedMembers: outcome.ownedMembers } : {}),
      blockedBy: outcome.blockedBy?.length ? outcome.blockedBy : undefined,
      pending: outcome.pending?.length ? outcome.pending : undefined,
    };
    await afterApplied(deps, kind, message, user, saved, outcome);
    const done = await finish(saved, {
      result: outcome.result,
      action: outcome.action,
      ...(outcome.reason ? { reason: outcome.reason } : {}),
      changedProperties: outcome.changedProperties,
      ...(saved.objectId ? { objectId: saved.objectId } : {}),
      ...(outcome.blockedBy?.length ? { blockedBy: outcome.blockedBy } : {}),
      ...(outcome.match?.length ? { match: outcome.match } : {}),
      ...(outcome.pending?.length ? { pending: outcome.pending } : {}),
    });
    // Newly linked: look for waiters once more now that the link is saved. A waiter that read this row before the
    // link and recorded its wait after afterApplied took the waits is found here; one recording it later reads
    // the link itself (afterApplied's second look), so no wait is left behind.
    if (saved.objectId && saved.objectId !== user.objectId) await wakeWaiters(deps, kind, message, saved);
    return done;
  } catch (error) {
    if (!isAppError(error) || error.kind === 'throttled' || error.kind === 'transient') {
      // Give the user back before the caller schedules another attempt (best effort: the lease expires anyway).
      await deps[kind.rows].save(user).catch(() => undefined);
      throw error;
    }
    const failure = { code: error.code, kind: error.kind, message: error.message };
    if (connectionRefused(error)) {
      step('connection', `Credentials refused: ${error.message}`);
      await markNeedsAttention(deps, connection.id, error.message);
      const reason = `Held: the connection's credentials were refused (${error.message})`;
      return finish(
        { ...user, status: 'held', statusReason: reason, lastError: { ...failure, at: now } },
        { result: 'held', action: 'none', reason, error: failure, changedProperties: [] },
      );
    }
    step('failed', error.message);
    // Matching's reports ride on its errors (an account not adopted, and why).
    const match = Array.isArray(error.details.match) ? (error.details.match as MatchReport[]) : undefined;
    return finish(
      { ...user, status: 'failed', statusReason: error.message, lastError: { ...failure, at: now } },
      { result: 'failed', action: 'none', error: failure, changedProperties: [], ...(match?.length ? { match } : {}) },
    );
  }
}

/** Re-applies whoever waits for this object to be linked (taking their waits). */
async function wakeWaiters(deps: ApplyDeps, kind: ObjectKind, message: OperationMessage, linked: UserState) {
  const self = { objectType: kind.name, externalId: linked.externalId };
  for (const waiter of await deps.users.takeWaits(message.connectionId, self))
    await deps.queue.enqueue(
      reapplyStoredState(
        message.connectionId,
        waiter.externalId,
        `${kind.name} ${self.externalId} is now provisioned`,
        waiter.objectType,
      ),
    );
}

/**
 * What other objects learn from this one being applied: whoever waited for it to be linked (a group for a member, a
 * user for a manager) is re-applied; what it now waits for is recorded; the groups of a removed user are re-applied
 * (it leaves them); a group whose members could not be added yet (replication) comes back shortly. Runs before the
 * row is saved: a crash in between re-runs the operation, and every step here is idempotent.
 */
async function afterApplied(
  deps: ApplyDeps,
  kind: ObjectKind,
  message: OperationMessage,
  before: UserState,
  after: UserState,
  outcome: ActionOutcome,
): Promise<void> {
  const self = { objectType: kind.name, externalId: after.externalId };
  const reapply = (o: { objectType: 'user' | 'group'; externalId: string }, why: string, delayMs?: number) =>
    deps.queue.enqueue(reapplyStoredState(message.connectionId, o.externalId, why, o.objectType), delayMs);
  if (outcome.pending?.length) {
    const on = outcome.pending.map((p) => ({ objectType: p.objectType, externalId: p.externalId }));
    await deps.users.addWaits(message.connectionId, self, on);
    // A reference linked after this operation read it, whose own operation took the waits before ours were
    // recorded, would never wake us: read them again now that ours are, and re-apply if one is linked meanwhile.
    const linked = await Promise.all(
      on.map(
        async (o) =>
          (await (o.objectType === 'group' ? deps.groups : deps.users).get(message.connectionId, o.externalId))
            ?.objectId,
      ),
    );
    if (linked.some(Boolean)) await reapply(self, 'a reference it waited for was provisioned meanwhile');
  }
  if (after.objectId && after.objectId !== before.objectId) await wakeWaiters(deps, kind, message, after);
  // A removed user leaves the groups that list it; a group whose own change arrived is re-applied into the groups
  // that nest it (flattened members follow). Only for a source change (version ≥ 1): the re-applies themselves
  // (version 0) do not cascade, so a cycle of nested groups ends.
  const removedUser = kind.name === 'user' && message.type === 'remove' && outcome.result === 'applied';
  const changedGroup = kind.name === 'group' && message.version > 0 && outcome.result === 'applied';
  if (removedUser || changedGroup) {
    const list = removedUser ? 'members' : 'groups';
    for await (const page of deps.groups.scan(message.connectionId))
      for (const group of page)
        if (group.externalId !== self.externalId && lists(group, list, self.externalId))
          await reapply(
            { objectType: 'group', externalId: group.externalId },
            `${kind.name} ${self.externalId} changed`,
          );
  }
  if (outcome.requeueAfterMs !== undefined)
    await reapply(self, 'finish what replication delayed', outcome.requeueAfterMs);
}

/** Whether a group row's desired `members` (or nested `groups`) names `externalId`. */
const lists = (group: UserState, list: 'members' | 'groups', externalId: string) => {
  const refs = group.desired?.profile?.attributes[list];
  return Array.isArray(refs) && refs.includes(externalId);
};

async function markNeedsAttention(deps: ApplyDeps, connectionId: string, why: string): Promise<void> {
  const latest = await deps.connections.get(connectionId);
  if (!latest || latest.status === 'needs-attention') return;
  await deps.connections
    .replace({
      ...latest,
      status: 'needs-attention',
      statusReason: `Provisioning was refused by the identity platform: ${why}. Fix the credentials, then test the connection.`,
      updatedAt: deps.clock.now().toISOString(),
    })
    .catch((error: unknown) => {
      // Another writer won; the next refused operation tries again.
      if (!(isAppError(error) && error.code === 'concurrent-update')) throw error;
    });
}

function logRecord(message: OperationMessage, o: OperationOutcome, started: Date, ended: Date): ProvisioningLogRecord {
  return {
    connectionId: message.connectionId,
    time: ended.toISOString(),
    operationId: message.operationId,
    externalId: message.externalId,
    version: message.version,
    type: message.type,
    action: o.action,
    result: o.result,
    ...(o.reason ? { reason: o.reason } : {}),
    ...(o.error
      ? { error: { code: o.error.code, kind: o.error.kind as AppError['kind'], message: o.error.message } }
      : {}),
    graphRequestIds: o.graphRequestIds,
    durationMs: ended.getTime() - started.getTime(),
    changedProperties: o.changedProperties,
    ...(o.plan ? { plan: o.plan } : {}),
    ...(o.blockedBy ? { blockedBy: o.blockedBy } : {}),
    ...(o.match ? { match: o.match } : {}),
    ...(objectTypeOf(message) === 'group' ? { objectType: 'group' as const } : {}),
    ...(o.pending?.length ? { pending: o.pending } : {}),
  };
}
