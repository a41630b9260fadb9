// What one change does to one Microsoft 365 group (the group object type of the pipeline): find it (the link, else
// the group matching rules; a group linked to another directory group is never adopted), create it with its first
// 20 members in the same request, update what differs, bring the members in line at Graph's minimum cost (20 per
// write), remove it per groupRemoveAction. A member, nested group or owner that is not provisioned yet waits
// (pending, with the reason) and the group is re-applied by itself once it is linked (apply-operation.ts).
import { AppError } from '../domain/errors.js';
import {
  groupCreateBody,
  type GroupDesired,
  groupDesired,
  groupMappingOf,
  groupPatch,
  isReadOnlyGroup,
  kindOf,
  MEMBERS_PER_WRITE,
  membershipPlan,
} from '../domain/group-drift.js';
import { groupLicencePlan, isLicenceGroupId, LicensePlanError } from '../domain/licenses.js';
import type { PendingReference, UserState } from '../domain/user-state.js';
import { actOnLicenceGroup } from './licence-groups.js';
import { type ActionContext, type ActionOutcome, isReplicationDelay, type ObjectKind } from './object-kind.js';
import type { GraphGroup, GraphUser } from './ports.js';

/** Groups as an object type of the operation pipeline (apply-operation.ts). */
export const groupKind: ObjectKind = { name: 'group', rows: 'groups', act: (ctx) => performGroupAction(ctx) };

/** How soon a group whose member writes met replication delay (just created) is applied again. */
const REPLICATION_RETRY_MS = 2_000;

const asAccount = (g: GraphGroup): GraphUser => ({ ...g, id: g.id });
const none = (ctx: ActionContext, reason: string, extra: Partial<ActionOutcome> = {}): ActionOutcome => ({
  result: 'skipped',
  action: 'none',
  reason,
  changedProperties: [],
  ownedLicenses: ctx.user.ownedLicenses,
  ...extra,
});

async function performGroupAction(ctx: ActionContext): Promise<ActionOutcome> {
  // The connection's own licence groups (group-based licensing) send their waiting member changes.
  if (isLicenceGroupId(ctx.user.externalId)) return actOnLicenceGroup(ctx);
  if (ctx.change.type === 'remove') return removeGroup(ctx);
  if (ctx.change.type !== 'upsert') return none(ctx, 'Groups are upserted or removed; nothing else applies to them');
  const { desired, problems } = groupDesired(ctx.change.attributes, groupMappingOf(ctx.connection));
  if (!desired)
    throw new AppError(
      'invalid',
      'invalid-group',
      `The group change does not describe a group Microsoft 365 can hold: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`,
      { problems },
    );
  if (ctx.settings.nestedGroups === 'nest' && desired.kind === 'microsoft365' && desired.groups.length > 0)
    throw new AppError(
      'invalid',
      'invalid-group',
      'A Microsoft 365 group cannot have groups as members (Graph allows nesting for security groups only): set nestedGroups to flatten, or make it a security group',
    );
  const match = await findGroup(ctx, desired);
  const found = match?.group;
  if (found && isReadOnlyGroup(found))
    throw new AppError(
      'invalid',
      'read-only-group',
      `Group ${found.id} (${found.displayName ?? '?'}) is a mail-enabled security group or distribution list: Exchange owns it and Microsoft Graph cannot change it. Nothing was changed`,
      { objectId: found.id },
    );
  // Checked before any write: a group whose licences cannot be given is neither created nor changed.
  const licences = await planGroupLicences(ctx, desired, found);
  const refs = await resolveReferences(ctx, desired);
  return found
    ? updateGroup(ctx, desired, found, refs, licences, match.restored)
    : createGroup(ctx, desired, refs, licences);
}

type GroupLicencePlan = ReturnType<typeof groupLicencePlan>;

/**
 * The group's own licences, as the change asks (groupLicencePlan: only this connection's are ever removed). Refused,
 * before anything is written, when a SKU or service plan is unknown or the group is not a security group — Microsoft
 * 365 licenses security groups only. The subscribed SKUs are read only when licences are asked for.
 */
async function planGroupLicences(
  ctx: ActionContext,
  desired: GroupDesired,
  found: GraphGroup | undefined,
): Promise<GroupLicencePlan> {
  const refs = ctx.change.licenses;
  const skus = refs?.length ? await ctx.gateway.licenses.subscribedSkus() : [];
  let plan: GroupLicencePlan;
  try {
    plan = groupLicencePlan(refs, skus, found?.assignedLicenses ?? [], ctx.user.ownedLicenses);
  } catch (error) {
    if (error instanceof LicensePlanError) throw new AppError('invalid', error.code, error.message);
    throw error;
  }
  const securityEnabled = found ? found.securityEnabled === true : groupCreateBody(desired).securityEnabled === true;
  if (plan.add.length > 0 && !securityEnabled)
    throw new AppError(
      'invalid',
      'group-licensing-unsupported',
      `${found ? `Group ${found.id}` : `A ${desired.kind} group`} is not a security group (securityEnabled): Microsoft 365 assigns licences to security groups only. Nothing was changed`,
    );
  return plan;
}

/** Assigns and removes the group's licences in one write (none when nothing differs). */
async function applyGroupLicences(ctx: ActionContext, groupId: string, plan: GroupLicencePlan): Promise<boolean> {
  if (plan.add.length === 0 && plan.remove.length === 0) return false;
  ctx.trace(
    'licenses',
    `Group licences: add ${plan.add.map((a) => a.skuId).join(', ') || 'none'}; remove ${plan.remove.join(', ') || 'none'}`,
  );
  await ctx.gateway.groups.assignLicenses(
    groupId,
    plan.add.map(({ skuId, disabledPlans }) => ({ skuId, disabledPlans })),
    plan.remove,
  );
  return true;
}

/**
 * The linked group (restored from deleted items when it was deleted but is still wanted), or (not linked yet) the
 * one the group matching rules find, claimed for this directory group.
 */
async function findGroup(
  ctx: ActionContext,
  desired: GroupDesired,
): Promise<{ group: GraphGroup; restored?: boolean } | undefined> {
  if (ctx.user.objectId) {
    const linked = await ctx.gateway.groups.getGroup(ctx.user.objectId);
    if (linked) {
      ctx.trace('match', `Linked group ${linked.id} (${linked.displayName ?? '?'})`);
      if (ctx.user.claimedObjectId !== linked.id) await claimOrRefuse(ctx, linked);
      return { group: linked };
    }
    // Deleted in Microsoft 365 (by hand) but still wanted: the same group back from deleted items (30 days) keeps
    // its id, mail, files and members, as a user's account is restored (account-matching.ts). Restoring brings a
    // group into existence, so it needs allowGroupCreate like creating one.
    if (ctx.settings.allowGroupCreate) {
      const restored = await ctx.gateway.groups.restoreDeletedGroup(ctx.user.objectId);
      if (restored) {
        ctx.trace('match', `Restored group ${restored.id} (${restored.displayName ?? '?'}) from deleted items`);
        if (ctx.user.claimedObjectId !== restored.id) await claimOrRefuse(ctx, restored);
        return { group: restored, restored: true };
      }
    }
    ctx.trace('match', `The linked group ${ctx.user.objectId} no longer exists in Microsoft 365: it is created again`);
  }
  for (const rule of ctx.settings.groupMatchingRules) {
    const value = rule === 'mailNickname' ? desired.mailNickname : desired.displayName;
    const groups = await ctx.gateway.groups.findGroups(rule, value, 2);
    if (groups.length > 1)
      throw new AppError(
        'conflict',
        'ambiguous-match',
        `More than one Microsoft 365 group has ${rule} = ${value} (${groups.map((g) => g.id).join(', ')}): a conflict, not a pick`,
        { rule, objectIds: groups.map((g) => g.id) },
      );
    const group = groups[0];
    if (!group) continue;
    await claimOrRefuse(ctx, group);
    ctx.trace('match', `Found group ${group.id} by ${rule} = ${value}: adopted`);
    return { group };
  }
  return undefined;
}

async function claimOrRefuse(ctx: ActionContext, group: GraphGroup): Promise<void> {
  const refusal = await ctx.links.claim(group.id);
  if (refusal)
    throw new AppError(
      'conflict',
      'adoption-refused',
      `Group ${group.id} (${group.displayName ?? '?'}) is not adopted: ${refusal.replace('directory user', 'directory group')}. It was not modified`,
      { objectId: group.id },
    );
}

export interface Resolved {
  members: Set<string>;
  owners: string[];
  pending: PendingReference[];
}

/**
 * Object ids for the group's members (users; nested groups per nestedGroups) and owners; the rest waits. Import
 * (import-group-preview.ts) compares with the same rule.
 */
export async function resolveReferences(
  ctx: Pick<ActionContext, 'settings' | 'user' | 'references' | 'trace'>,
  desired: GroupDesired,
): Promise<Resolved> {
  const pending: PendingReference[] = [];
  const members = new Set<string>();
  const userIds = new Set(desired.members);
  const nested: string[] = [];
  if (ctx.settings.nestedGroups === 'flatten') {
    // Members of nested directory groups, all the way down (each group once: a cycle ends).
    const seen = new Set<string>([ctx.user.externalId]);
    const queue = [...desired.groups];
    while (queue.length > 0) {
      const id = queue.shift()!;
      if (seen.has(id)) continue;
      seen.add(id);
      const row = await ctx.references.group(id);
      const attributes = row?.desired?.lifecycle?.state === 'removed' ? undefined : row?.desired?.profile?.attributes;
      if (!attributes) {
        if (!row) pending.push(waiting('group', id, 'group', 'no change has been received for this group yet'));
        continue;
      }
      for (const m of stringsOf(attributes.members)) userIds.add(m);
      queue.push(...stringsOf(attributes.groups));
    }
  } else nested.push(...desired.groups);

  const users = await ctx.references.users([...userIds, ...desired.owners]);
  for (const id of userIds) {
    const objectId = linkedId(users.get(id), id, 'member', pending);
    if (objectId) members.add(objectId);
  }
  const owners = desired.owners
    .map((id) => linkedId(users.get(id), id, 'owner', pending))
    .filter((o): o is string => o !== undefined);
  const groups = await ctx.references.groups(nested);
  for (const id of nested) {
    const row = groups.get(id);
    if (row?.objectId && row.desired?.lifecycle?.state !== 'removed') members.add(row.objectId);
    else if (!row?.objectId)
      pending.push(
        waiting('group', id, 'group', row ? `not provisioned yet (${row.status})` : 'no change received yet'),
      );
  }
  if (pending.length > 0)
    ctx.trace(
      'members',
      `${pending.length} reference(s) wait to be provisioned: ${pending.map((p) => p.externalId).join(', ')}`,
    );
  return { members, owners, pending };
}

/** The linked object id of a referenced user; a removed user is no member (it leaves); otherwise it waits. */
function linkedId(
  row: UserState | undefined,
  externalId: string,
  as: 'member' | 'owner',
  pending: PendingReference[],
): string | undefined {
  if (row?.desired?.lifecycle?.state === 'removed') return undefined;
  if (row?.objectId) return row.objectId;
  pending.push(
    waiting(
      'user',
      externalId,
      as,
      row ? `not provisioned yet (${row.status})` : 'no change received for this user yet',
    ),
  );
  return undefined;
}

const waiting = (
  objectType: 'user' | 'group',
  externalId: string,
  as: PendingReference['as'],
  reason: string,
): PendingReference => ({ objectType, externalId, as, reason });

const stringsOf = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];

const pendingReason = (pending: PendingReference[]) =>
  `${pending.length} reference(s) wait to be provisioned and are added by themselves once they are: ${pending
    .slice(0, 5)
    .map((p) => `${p.as} ${p.externalId} (${p.reason})`)
    .join('; ')}${pending.length > 5 ? '; …' : ''}`;

async function createGroup(
  ctx: ActionContext,
  desired: GroupDesired,
  refs: Resolved,
  licences: GroupLicencePlan,
): Promise<ActionOutcome> {
  if (!ctx.settings.allowGroupCreate) return none(ctx, 'Creating groups is not allowed (allowGroupCreate is off)');
  const members = [...refs.members];
  ctx.trace('action', `Create group ${desired.displayName} (${desired.kind}) with ${members.length} member(s)`);
  // The create binds up to 20 owners and members together (owners first: a group should not start ownerless).
  const owners = refs.owners.slice(0, MEMBERS_PER_WRITE);
  const bound = members.slice(0, MEMBERS_PER_WRITE - owners.length);
  const created = await ctx.gateway.groups.createGroup(groupCreateBody(desired), bound, owners);
  const refusal = await ctx.links.claim(created.id);
  if (refusal)
    throw new AppError(
      'conflict',
      'account-conflict',
      `The group ${created.id} created was claimed meanwhile (${refusal})`,
    );
  let requeueAfterMs: number | undefined;
  let licensed = false;
  try {
    licensed = await applyGroupLicences(ctx, created.id, licences);
    if (members.length > bound.length) await ctx.gateway.groups.addMembers(created.id, members.slice(bound.length));
    if (refs.owners.length > owners.length)
      await ctx.gateway.groups.addOwners(created.id, refs.owners.slice(owners.length));
  } catch (error) {
    // "The source resource object or one of the objects being referenced do not exist" right after a create is
    // replication delay, not a failure: the group is linked now, and applied again shortly to add the rest.
    if (!isReplicationDelay(error)) throw error;
    ctx.trace(
      'members',
      `Adding the rest met replication delay (${error.message}): again in ${REPLICATION_RETRY_MS} ms`,
    );
    requeueAfterMs = REPLICATION_RETRY_MS;
  }
  const owned = requeueAfterMs === undefined ? members : bound;
  return {
    result: 'applied',
    action: 'create',
    ...(refs.pending.length ? { reason: pendingReason(refs.pending) } : {}),
    changedProperties: [
      ...Object.keys(groupCreateBody(desired)),
      ...(licensed ? ['assignedLicenses'] : []),
      ...(members.length ? ['members'] : []),
    ],
    account: asAccount(created),
    ownedLicenses: licensed ? licences.owned : [],
    ownedMembers: owned,
    pending: refs.pending,
    ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}),
  };
}

async function updateGroup(
  ctx: ActionContext,
  desired: GroupDesired,
  current: GraphGroup,
  refs: Resolved,
  licences: GroupLicencePlan,
  restored = false,
): Promise<ActionOutcome> {
  const g = ctx.gateway.groups;
  if (kindOf(current) !== desired.kind)
    ctx.trace('action', `The group is ${kindOf(current)}; a group's kind cannot change (asked: ${desired.kind})`);
  if (!ctx.settings.allowGroupUpdate) {
    const differs = Object.keys(groupPatch(desired, current));
    return differs.length
      ? {
          ...none(ctx, `Blocked by allowGroupUpdate: ${differs.join(', ')} would change`),
          result: 'blocked',
          account: asAccount(current),
          blockedBy: [{ setting: 'allowGroupUpdate', properties: differs }],
        }
      : none(ctx, 'Updating groups is not allowed (allowGroupUpdate is off)', { account: asAccount(current) });
  }
  const patch = groupPatch(desired, current);
  if (Object.keys(patch).length > 0) {
    ctx.trace('action', `Update ${Object.keys(patch).join(', ')}`);
    await g.updateGroup(current.id, patch);
  }
  const licensed = await applyGroupLicences(ctx, current.id, licences);
  const present = new Set(await g.memberIds(current.id));
  const owned = new Set(ctx.user.ownedMembers ?? []);
  const plan = membershipPlan(refs.members, present, owned, ctx.settings.groupMembership);
  if (plan.add.length) {
    ctx.trace('members', `Add ${plan.add.length}`);
    await g.addMembers(current.id, plan.add);
  }
  if (plan.remove.length) {
    ctx.trace('members', `Remove ${plan.remove.length} (${ctx.settings.groupMembership})`);
    await g.removeMembers(current.id, plan.remove);
  }
  let ownersAdded = false;
  if (refs.owners.length) {
    // Owners are added, never removed (an owner added by hand may be the group's only one).
    const existing = new Set(await g.ownerIds(current.id));
    const add = refs.owners.filter((o) => !existing.has(o));
    if (add.length) await g.addOwners(current.id, add);
    ownersAdded = add.length > 0;
  }
  // This connection's members: those it added, less those it removed (members added by hand are never its own).
  const ownedNext = [...new Set([...[...owned].filter((id) => !plan.remove.includes(id)), ...plan.add])];
  const changed = [
    ...Object.keys(patch),
    ...(licensed ? ['assignedLicenses'] : []),
    ...(plan.add.length || plan.remove.length ? ['members'] : []),
    ...(ownersAdded ? ['owners'] : []),
  ];
  if (restored) changed.unshift('restored');
  return {
    result: changed.length ? 'applied' : 'skipped',
    action: restored ? 'restore' : changed.length ? 'update' : 'none',
    ...(refs.pending.length
      ? { reason: pendingReason(refs.pending) }
      : changed.length
        ? {}
        : { reason: 'Already up to date: no Graph write needed' }),
    changedProperties: changed,
    account: asAccount(current),
    ownedLicenses: licences.owned,
    ownedMembers: ownedNext,
    pending: refs.pending,
  };
}

async function removeGroup(ctx: ActionContext): Promise<ActionOutcome> {
  if (!ctx.settings.allowGroupRemove) return none(ctx, 'Removing groups is not allowed (allowGroupRemove is off)');
  const current = ctx.user.objectId ? await ctx.gateway.groups.getGroup(ctx.user.objectId) : undefined;
  if (!current) return none(ctx, 'No Microsoft 365 group to remove (already deleted or never provisioned)');
  if (isReadOnlyGroup(current)) return none(ctx, 'A mail-enabled group cannot be changed through Graph: left as it is');
  const action = ctx.settings.groupRemoveAction;
  if (action === 'delete') {
    ctx.trace('action', `Delete group ${current.id}`);
    await ctx.gateway.groups.deleteGroup(current.id);
    return {
      result: 'applied',
      action: 'delete',
      changedProperties: ['deleted'],
      account: asAccount(current),
      ownedLicenses: [],
    };
  }
  const changed: string[] = [];
  if (action === 'emptyAndKeep') {
    const present = await ctx.gateway.groups.memberIds(current.id);
    const owned = new Set(ctx.user.ownedMembers ?? []);
    const remove = ctx.settings.groupMembership === 'authoritative' ? present : present.filter((id) => owned.has(id));
    if (remove.length) {
      ctx.trace('members', `Remove ${remove.length} member(s) before letting the group go`);
      await ctx.gateway.groups.removeMembers(current.id, remove);
      changed.push('members');
    }
  }
  ctx.trace('action', `Keep group ${current.id}: no longer managed by this connection`);
  return {
    result: 'applied',
    action: 'none',
    reason: `Kept (groupRemoveAction ${action}): the group stays in Microsoft 365 and is no longer managed`,
    changedProperties: changed,
    ownedLicenses: [],
    unlink: true,
  };
}
