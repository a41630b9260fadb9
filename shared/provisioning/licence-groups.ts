// Group-based licensing (licensingMode group): a connection's licences are carried by security groups it manages
// itself, one per distinct licence set (SKUs and their disabled plans), named m365prov-lic-<hash> (licenceGroupId).
// Licensing a user is a membership change, and membership changes are batched across users and queue messages:
// - a user's operation records where the user belongs (LicenceGroupStore.move: its membership row and the member
//   change, one transaction) and makes sure a flush of that licence group is scheduled — one per group at a time
//   (a marker row, claimed with its ETag), due FLUSH_DELAY_MS later, so the changes of the users that follow join it;
//   when that flush is overdue (its message waits behind a backlog), the next member change runs it inline;
// - the flush is an operation of the pipeline on the licence group's own row (a version-0 re-apply of a group row
//   whose externalId is the reserved m365prov-lic-…: same lease, hold, dry run, log): it creates the group the first
//   time (security group, the first 20 members bound in the POST, then one assignLicense on the group), then adds the
//   waiting members 20 per PATCH and removes the leaving ones 20 per $batch. A last partial write of fewer than 20
//   waits for more members to fill it (up to PARTIAL_WAIT_MS; not when the flush came late, after a backlog).
// Microsoft 365 gives the group's licences to its members by itself, asynchronously (licenseAssignmentStates with
// assignedByGroup). Only members this connection added are ever removed; no other group is touched.
import { AsyncLocalStorage } from 'node:async_hooks';
import { type OperationMessage, reapplyStoredState } from '../domain/change.js';
import { AppError } from '../domain/errors.js';
import { groupCreateBody, groupDesired } from '../domain/group-drift.js';
import { canonicalLicenceSet } from '../domain/licenses.js';
import {
  type ActionContext,
  type ActionOutcome,
  isReplicationDelay,
  type LicenceGroups,
  type LicenceGroupSpec,
} from './object-kind.js';
import type {
  Clock,
  GraphGroup,
  GraphUser,
  LicenceGroupStore,
  OperationQueue,
  PendingMemberChange,
  UserStateRepository,
} from './ports.js';

/** How long the first member change waits for others before its licence group's flush. */
export const FLUSH_DELAY_MS = 1_000;
/** A flush noted this long ago but not started is taken as lost (its message gone): another one is enqueued. */
const STALE_FLUSH_MS = 10 * 60_000;
/** How long a last partial write (fewer than 20 members) may wait for more members to fill it. */
export const PARTIAL_WAIT_MS = 3_000;
/** A queued flush this late waited behind a backlog (see actOnLicenceGroup). */
const LATE_MS = 2_000;
/** Member changes one flush sends at most (20 writes of 20); more are sent by the next one, enqueued at once. */
const CHANGES_PER_FLUSH = 400;
const MEMBERS_PER_WRITE = 20;
/** Right after a create, a member write may meet replication delay: the flush comes back this much later. */
const REPLICATION_RETRY_MS = 2_000;
/** A member change refused as "does not exist" this long after it was queued is an account gone, not replication. */
const REPLICATION_GRACE_MS = 60_000;

/** Flushes this process noted, per connection and group: the due time (see scheduleFlush). */
const notedFlushes = new Map<string, number>();
/** Overdue by this much, a flush is run inline by the next member change (see scheduleFlush), at most this often. */
const OVERDUE_MS = 1_000;
const INLINE_EVERY_MS = 2_000;
/** Inline flushes this process is running (one per group at a time), and when it last started one. */
const flushingHere = new Set<string>();
const lastInline = new Map<string, number>();
/** Set while an inline flush runs: that flush leaves the marker of the queued one alone. */
const inlineFlush = new AsyncLocalStorage<string>();
/** Licence group rows this process knows exist. */
const knownRows = new Set<string>();
/** Licence groups' object ids this process read lately (a licence group is re-created only if deleted by hand). */
const linkedGroups = new Map<string, { objectId: string; at: number }>();
const LINK_CACHE_MS = 60_000;

export interface LicenceGroupDeps {
  groups: UserStateRepository;
  licenceGroups: LicenceGroupStore;
  queue: OperationQueue;
  clock: Clock;
  /** Runs a licence group's flush now, through the pipeline (applyOperation), when its queued one is overdue. */
  flushNow?: (message: OperationMessage) => Promise<unknown>;
}

/** The licence group of a resolved licence set: the spec the user's operation records and the flush creates. */
export function licenceGroupSpec(
  id: string,
  set: readonly { skuId: string; disabledPlans: readonly string[]; skuPartNumber?: string }[],
  attributes: Record<string, unknown>,
): LicenceGroupSpec {
  return {
    id,
    attributes,
    licenses: canonicalLicenceSet(set).map((l) => ({ sku: l.skuId, disabledPlans: l.disabledPlans })),
  };
}

/** Group-based licensing for one connection, over its store, its group rows and the queue. */
export function licenceGroupsFor(deps: LicenceGroupDeps, connectionId: string): LicenceGroups {
  const store = deps.licenceGroups;
  const scheduleFlush = async (group: string, delayMs = FLUSH_DELAY_MS, urgent = false) => {
    const now = deps.clock.now().getTime();
    const key = `${connectionId}|${group}`;
    // A flush this process saw noted, due later than now, has not started: it will see what was recorded before.
    if ((notedFlushes.get(key) ?? 0) > now + 250 && delayMs >= FLUSH_DELAY_MS) return;
    const { claimed, dueAt } = await store.claimFlush(
      connectionId,
      group,
      new Date(now + delayMs),
      new Date(now - STALE_FLUSH_MS),
      urgent,
    );
    if (claimed)
      await deps.queue.enqueue(
        reapplyStoredState(connectionId, group, 'licence group: send the member changes waiting', 'group'),
        delayMs,
      );
    notedFlushes.set(key, dueAt.getTime());
    // The flush noted is overdue: its message waits behind others on the queue (a wave's backlog). Run a flush here,
    // now (at most one per INLINE_EVERY_MS and process), so membership writes keep pace with the users' own. It leaves
    // the marker alone: the queued message still comes, and finds little left.
    const overdue = !claimed && dueAt.getTime() < now - OVERDUE_MS;
    if (overdue && deps.flushNow && !flushingHere.has(key) && (lastInline.get(key) ?? 0) <= now - INLINE_EVERY_MS) {
      flushingHere.add(key);
      lastInline.set(key, now);
      try {
        await inlineFlush.run(key, () =>
          deps.flushNow!(
            reapplyStoredState(connectionId, group, 'licence group: its flush is overdue, sent inline', 'group'),
          ),
        );
      } catch {
        // Busy (another flush holds the group) or failed: the queued flush is still on its way.
      } finally {
        flushingHere.delete(key);
      }
    }
  };
  const ensureRow = async (spec: LicenceGroupSpec) => {
    const key = `${connectionId}|${spec.id}`;
    if (knownRows.has(key)) return;
    if (!(await deps.groups.get(connectionId, spec.id))) {
      const now = deps.clock.now().toISOString();
      await deps.groups
        .save({
          connectionId,
          externalId: spec.id,
          desired: {
            profile: { version: 1, attributes: spec.attributes, licenses: spec.licenses },
            lifecycle: { version: 1, state: 'active', explicit: false },
          },
          appliedVersion: 0,
          status: 'pending',
          statusReason: 'Licence group: created with its first member change',
          ownedLicenses: [],
          createdAt: now,
          updatedAt: now,
        })
        .catch((error: unknown) => {
          // Another user's operation created it first.
          if (!(error instanceof AppError && error.code === 'concurrent-update')) throw error;
        });
    }
    knownRows.add(key);
  };
  return {
    membership: (externalId) => store.membership(connectionId, externalId),
    async move(externalId, objectId, to, from) {
      if (to) await ensureRow(to);
      await store.move(connectionId, externalId, objectId, to?.id, from);
      if (to) await scheduleFlush(to.id);
      if (from && (from.group !== to?.id || from.objectId !== objectId)) await scheduleFlush(from.group);
    },
    async objectIdOf(group) {
      const key = `${connectionId}|${group}`;
      const cached = linkedGroups.get(key);
      if (cached && cached.at > deps.clock.now().getTime() - LINK_CACHE_MS) return cached.objectId;
      const objectId = (await deps.groups.get(connectionId, group))?.objectId;
      if (objectId) linkedGroups.set(key, { objectId, at: deps.clock.now().getTime() });
      return objectId;
    },
    scheduleFlush,
    pending: (group, limit) => store.pending(connectionId, group, limit),
    settle: (group, sent) => store.settle(connectionId, group, sent),
    releaseFlush: async (group) => {
      notedFlushes.delete(`${connectionId}|${group}`);
      return store.releaseFlush(connectionId, group);
    },
    accountsIn: (group) => store.accountsIn(connectionId, group),
  };
}

const asAccount = (g: GraphGroup): GraphUser => ({ ...g, id: g.id });
const chunks = <T>(items: T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, i * size + size));

/**
 * The flush of one licence group (the group object type's actions for a row whose externalId is a licence group's):
 * find or create the group, its licences, then the member changes waiting, 20 per write.
 */
export async function actOnLicenceGroup(ctx: ActionContext): Promise<ActionOutcome> {
  const id = ctx.user.externalId;
  const none = (reason: string): ActionOutcome => ({
    result: 'skipped',
    action: 'none',
    reason,
    changedProperties: [],
    ownedLicenses: ctx.user.ownedLicenses,
  });
  // The row is the connection's own: a change from the source naming this reserved externalId changes nothing here.
  if (ctx.change.type === 'remove' || !ctx.change.hasProfile)
    return none('A licence group is managed by the connection itself (group-based licensing): left as it is');
  const { desired } = groupDesired({ ...ctx.change.attributes, kind: 'security' });
  if (!desired) throw new AppError('invalid', 'invalid-group', `Licence group ${id} has no valid definition`);
  const licences = (ctx.change.licenses ?? []).map((l) =>
    typeof l === 'string' ? { skuId: l, disabledPlans: [] } : { skuId: l.sku, disabledPlans: l.disabledPlans ?? [] },
  );
  const dryRun = ctx.settings.dryRun;
  const lg = ctx.licenceGroups;
  const g = ctx.gateway.groups;
  // From here on a member change schedules the next flush; this one sends what is recorded now. (An inline flush
  // leaves the marker: it belongs to the queued flush, still to come.)
  const inline = inlineFlush.getStore() === `${ctx.connection.id}|${id}`;
  const noted = !dryRun && !inline ? await lg.releaseFlush(id) : undefined;
  const pending = await lg.pending(id, CHANGES_PER_FLUSH);
  const now = Date.now();
  // An account's latest change is the one that counts; earlier ones are superseded and dropped with it.
  const latest = new Map<string, PendingMemberChange>();
  for (const p of pending) if ((latest.get(p.objectId)?.since ?? '') <= p.since) latest.set(p.objectId, p);
  const superseded = pending.filter((p) => latest.get(p.objectId) !== p);
  // Oldest first: full writes take the members that waited longest, a partial last one the newest.
  const adds = [...latest.values()].filter((p) => p.change === 'add').sort((a, b) => a.since.localeCompare(b.since));
  const removes = [...latest.values()].filter((p) => p.change === 'remove');
  const changed: string[] = [];
  let writes = 0;
  let action: ActionOutcome['action'] = 'none';

  let group = await findLicenceGroup(ctx, desired.mailNickname);
  const settle = async (sent: PendingMemberChange[]) => {
    if (!dryRun) await lg.settle(id, sent);
  };
  await settle(superseded);
  // A full write waits for nobody. A last partial one waits for more members to fill it: left by an inline flush
  // (members are streaming in) to the queued one still to come; held by a flush on time up to PARTIAL_WAIT_MS after
  // its oldest change; sent at once by a flush that came late (it waited behind a backlog: that is over now).
  const full = adds.length - (adds.length % MEMBERS_PER_WRITE);
  const oldestOfRest = adds.slice(full).reduce((m, p) => Math.min(m, Date.parse(p.since)), Infinity);
  const late = noted !== undefined && noted.dueAt.getTime() < now - LATE_MS;
  const sendRest =
    !inline &&
    (late || noted?.urgent || now - oldestOfRest >= PARTIAL_WAIT_MS - 250 || pending.length >= CHANGES_PER_FLUSH);
  let toAdd = sendRest ? adds : adds.slice(0, full);
  const waiting = adds.length - toAdd.length;

  if (!group && toAdd.length === 0 && !ctx.user.objectId) {
    // Nothing to put in a group that does not exist yet (only removals, or a partial write that waits).
    await settle(removes);
    if (waiting > 0 && !inline && !dryRun)
      await lg.scheduleFlush(id, Math.max(0, oldestOfRest + PARTIAL_WAIT_MS - now));
    return none(`Licence group not created yet: ${waiting} member(s) wait to fill a write of 20`);
  }
  if (!group) {
    if (!ctx.settings.allowGroupCreate)
      return none('Creating groups is not allowed (allowGroupCreate is off): the licence group cannot be created');
    // A licence group created before and gone since (deleted by hand): everyone this connection put in it goes back.
    const again = ctx.user.objectId ? await lg.accountsIn(id) : [];
    if (again.length > 0) ctx.trace('licences', `Licence group ${ctx.user.objectId} is gone: created again`);
    const first = toAdd.slice(0, MEMBERS_PER_WRITE);
    ctx.trace('action', `Create licence group ${desired.displayName} with ${first.length} member(s)`);
    group = await g.createGroup(
      groupCreateBody(desired),
      first.map((p) => p.objectId),
      [],
    );
    writes++;
    const refusal = await ctx.links.claim(group.id);
    if (refusal)
      throw new AppError(
        'conflict',
        'account-conflict',
        `The licence group ${group.id} was claimed meanwhile (${refusal})`,
      );
    ctx.trace('licences', `Assign ${licences.map((l) => l.skuId).join(', ')} to the licence group`);
    await g.assignLicenses(group.id, licences, []);
    writes++;
    await settle(first);
    const queued = new Set(toAdd.map((p) => p.objectId));
    toAdd = [
      ...toAdd.slice(MEMBERS_PER_WRITE),
      ...again
        .filter((o) => !queued.has(o) && !removes.some((r) => r.objectId === o))
        .map((objectId): PendingMemberChange => ({
          objectId,
          externalId: '',
          change: 'add',
          since: new Date(0).toISOString(),
        })),
    ];
    action = 'create';
    changed.push(...Object.keys(groupCreateBody(desired)), 'assignedLicenses');
  } else {
    const missing = licences.filter((l) => !holds(group!, l));
    if (missing.length > 0) {
      ctx.trace('licences', `Assign ${missing.map((l) => l.skuId).join(', ')} to the licence group`);
      await g.assignLicenses(group.id, missing, []);
      writes++;
      changed.push('assignedLicenses');
    }
  }

  let requeueAfterMs: number | undefined;
  const memberWrites = { added: 0, removed: 0, dropped: 0 };
  for (const chunk of chunks(toAdd, MEMBERS_PER_WRITE)) {
    try {
      writes += await g.addMembers(
        group.id,
        chunk.map((p) => p.objectId),
      );
      memberWrites.added += chunk.length;
      await settle(chunk.filter((p) => p.externalId !== ''));
    } catch (error) {
      if (!isReplicationDelay(error)) throw error;
      // "Referenced objects do not exist": a group or accounts just created (replication), or an account gone.
      if (chunk.every((p) => now - Date.parse(p.since) < REPLICATION_GRACE_MS) || action === 'create') {
        ctx.trace(
          'members',
          `Adding members met replication delay (${error.message}): again in ${REPLICATION_RETRY_MS} ms`,
        );
        requeueAfterMs = REPLICATION_RETRY_MS;
        break;
      }
      for (const p of chunk) {
        try {
          writes += await g.addMembers(group.id, [p.objectId]);
          memberWrites.added++;
        } catch (e) {
          if (!isReplicationDelay(e)) throw e;
          ctx.trace('members', `Account ${p.objectId} (${p.externalId}) no longer exists: its change is dropped`);
          memberWrites.dropped++;
        }
        await settle([p].filter((x) => x.externalId !== ''));
      }
    }
  }
  if (removes.length > 0 && requeueAfterMs === undefined) {
    ctx.trace('members', `Remove ${removes.length} member(s) this connection added`);
    writes += await g.removeMembers(
      group.id,
      removes.map((p) => p.objectId),
    );
    memberWrites.removed += removes.length;
    await settle(removes);
  }
  if (memberWrites.added + memberWrites.removed > 0) {
    changed.push('members');
    if (action === 'none') action = 'update';
  }
  if (requeueAfterMs === undefined && !dryRun) {
    if (pending.length >= CHANGES_PER_FLUSH) requeueAfterMs = 0;
    // Late: the backlog it waited behind just ended, and the users still in flight then record their changes now.
    // One more flush a moment later sends those at once, rather than holding a partial write for more to come.
    else if (late) await lg.scheduleFlush(id, FLUSH_DELAY_MS, true);
    else if (waiting > 0 && !inline) await lg.scheduleFlush(id, Math.max(0, oldestOfRest + PARTIAL_WAIT_MS - now));
  }
  if (waiting > 0) ctx.trace('members', `${waiting} member(s) wait for more to fill a write of 20`);
  const reason = `Licence group: ${memberWrites.added} member(s) added, ${memberWrites.removed} removed${
    memberWrites.dropped ? `, ${memberWrites.dropped} dropped (account gone)` : ''
  }${waiting ? `, ${waiting} waiting to fill a write` : ''} (${writes} Graph write(s))`;
  ctx.trace('licences', reason);
  return {
    result: changed.length > 0 ? 'applied' : 'skipped',
    action,
    reason,
    changedProperties: changed,
    account: asAccount(group),
    ownedLicenses: licences.map((l) => l.skuId),
    ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}),
  };
}

/** The linked licence group, else the one with its mailNickname (claimed for this row); undefined: none yet. */
async function findLicenceGroup(ctx: ActionContext, mailNickname: string): Promise<GraphGroup | undefined> {
  if (ctx.user.objectId) {
    const linked = await ctx.gateway.groups.getGroup(ctx.user.objectId);
    if (linked) return linked;
  }
  const [found, other] = await ctx.gateway.groups.findGroups('mailNickname', mailNickname, 2);
  if (!found) return undefined;
  if (other || found.securityEnabled !== true || found.mailEnabled === true)
    throw new AppError(
      'conflict',
      'adoption-refused',
      `The licence group's mailNickname ${mailNickname} is held by ${other ? 'more than one group' : `group ${found.id}, which is not a security group`}: it is not adopted`,
    );
  const refusal = await ctx.links.claim(found.id);
  if (refusal)
    throw new AppError(
      'conflict',
      'adoption-refused',
      `Group ${found.id} is not adopted as a licence group: ${refusal}`,
    );
  ctx.trace('match', `Found licence group ${found.id} by mailNickname ${mailNickname}: adopted`);
  return found;
}

/** Whether the group holds licence `l` with exactly its disabled plans. */
const holds = (group: GraphGroup, l: { skuId: string; disabledPlans: string[] }) =>
  (group.assignedLicenses ?? []).some(
    (a) =>
      a.skuId.toLowerCase() === l.skuId &&
      [...(a.disabledPlans ?? [])]
        .map((p) => p.toLowerCase())
        .sort()
        .join() === [...l.disabledPlans].sort().join(),
  );
