// A user's licences, as one step of the user actions: add what the plan (diffLicenses) says is missing, remove only
// what this connection assigned, check free seats first (re-reading seat counts once when they look exhausted),
// and set usageLocation before licensing when the account has none.
// licensingMode `group` (licence-groups.ts): the user is put into the connection's licence group for its licence
// set instead — recorded now, sent with other users' membership changes 20 per write — and a direct licence of
// this connection's is removed only once no longer wanted, or once a group gives the user that licence.
import { desiredLicenseRefs } from '../domain/drift.js';
import { AppError } from '../domain/errors.js';
import {
  assignmentStates,
  licenceGroupAttributes,
  licenceGroupId,
  LicensePlanError,
  type LicensingMode,
  planLicenses,
  resolveLicenses,
} from '../domain/licenses.js';
import { licenceGroupSpec } from './licence-groups.js';
import type { ActionContext } from './object-kind.js';
import type { GraphUser, SubscribedSku } from './ports.js';

/** How often a user whose direct licences wait for its licence group's is applied again, and for how long. */
const GROUP_LICENCE_CHECK_MS = 60_000;
const GROUP_LICENCE_WAIT_MS = 30 * 60_000;

export interface LicenceOutcome {
  owned: string[];
  changed: string[];
  /** Come back later: this connection's direct licences wait until the licence group's reach the user. */
  requeueAfterMs?: number;
}

/** Adds and removes licenses so the user has the desired ones; usageLocation is set first when missing. */
export async function reconcileLicenses(
  ctx: ActionContext,
  user: GraphUser,
  owned: string[],
  mappedUsageLocation?: string,
): Promise<LicenceOutcome> {
  const refs = desiredLicenseRefs(ctx.change.licenses, ctx.settings);
  if (refs === undefined) return { owned, changed: [] };
  const mode: LicensingMode = ctx.settings.licensingMode;
  const states = assignmentStates(user);
  let skus = await ctx.gateway.licenses.subscribedSkus();
  const planWith = (s: SubscribedSku[]) => planLicenses(resolveLicenses(refs, s), states, owned, s, mode);
  let plan;
  try {
    try {
      plan = planWith(skus);
    } catch (error) {
      // Seat counts may be cached from before a seat was freed (by hand, or by another connection): look again.
      if (!(error instanceof LicensePlanError && error.code === 'no-free-seats')) throw error;
      skus = await ctx.gateway.licenses.subscribedSkus(true);
      plan = planWith(skus);
    }
  } catch (error) {
    if (error instanceof LicensePlanError) throw new AppError('invalid', error.code, error.message);
    throw error;
  }
  if (mode === 'group') return throughLicenceGroup(ctx, user, resolveLicenses(refs, skus), plan, mappedUsageLocation);
  if (plan.add.length === 0 && plan.remove.length === 0) {
    ctx.trace('licenses', 'Licenses already as desired');
    return { owned: plan.owned, changed: await leaveLicenceGroupOnceDirect(ctx, user) };
  }
  const changed: string[] = [];
  if (plan.add.length > 0 && (await setUsageLocation(ctx, user, mappedUsageLocation))) changed.push('usageLocation');
  ctx.trace(
    'licenses',
    `Add ${plan.add.map((a) => a.skuPartNumber).join(', ') || 'none'}; remove ${plan.remove.join(', ') || 'none'}`,
  );
  try {
    await ctx.gateway.licenses.assignLicenses(
      user.id,
      plan.add.map(({ skuId, disabledPlans }) => ({ skuId, disabledPlans })),
      plan.remove,
    );
  } catch (error) {
    if (!(error instanceof AppError && error.code === 'no-free-seats')) throw error;
    // The classifier knows the seats ran out; name the SKUs this assignment asked for.
    throw new AppError(
      'invalid',
      'no-free-seats',
      `No free seats for SKU ${plan.add.map((a) => a.skuPartNumber).join(', ')} (Microsoft 365 refused the assignment: no available licenses)`,
      error.details,
    );
  }
  changed.push('assignedLicenses', ...(await leaveLicenceGroupOnceDirect(ctx, user)));
  return { owned: plan.owned, changed };
}

/** usageLocation before any licence (user-assignlicense refuses without one); true when it was written. */
async function setUsageLocation(ctx: ActionContext, user: GraphUser, mapped: string | undefined): Promise<boolean> {
  if (user.usageLocation) return false;
  const usageLocation = mapped ?? ctx.settings.usageLocation;
  if (!usageLocation) {
    throw new AppError(
      'invalid',
      'usage-location-required',
      "Licenses need a usage location: map usageLocation, send an ISO `country`, or set the connection's default usageLocation",
    );
  }
  ctx.trace('licenses', `Set usageLocation = ${usageLocation} before licensing`);
  await ctx.gateway.users.updateUser(user.id, { usageLocation });
  return true;
}

/**
 * licensingMode group: the user belongs in the connection's licence group for its licence set (none for no
 * licence). A move is recorded and sent with others' by the group's flush; this connection's direct licences go
 * when they are no longer wanted or a group gives the user the same licence (diffLicenses, mode group).
 */
async function throughLicenceGroup(
  ctx: ActionContext,
  user: GraphUser,
  set: ReturnType<typeof resolveLicenses>,
  plan: ReturnType<typeof planLicenses>,
  mappedUsageLocation: string | undefined,
): Promise<LicenceOutcome> {
  const changed: string[] = [];
  const target = licenceGroupId(ctx.connection.id, set);
  if (target && (await setUsageLocation(ctx, user, mappedUsageLocation))) changed.push('usageLocation');
  const lg = ctx.licenceGroups;
  // A user never linked before (its first create) is in no licence group yet: nothing to read.
  const neverLinked = ctx.user.appliedVersion === 0 && !ctx.user.objectId && !ctx.user.unlinkedFrom;
  const membership = neverLinked ? undefined : await lg.membership(ctx.user.externalId);
  const moving = membership?.group !== target || (membership !== undefined && membership.objectId !== user.id);
  if (moving) {
    const names = set.map((l) => l.skuPartNumber).join(', ');
    ctx.trace(
      'licenses',
      target
        ? `Join licence group ${target} (${names})${membership ? `, leave ${membership.group}` : ''}: sent with other members' changes, 20 per write`
        : `Leave licence group ${membership!.group}: no licence is wanted`,
    );
    if (!ctx.settings.dryRun)
      await lg.move(
        ctx.user.externalId,
        user.id,
        target ? licenceGroupSpec(target, set, licenceGroupAttributes(target, set, ctx.connection.name)) : undefined,
        membership,
      );
    changed.push('licenceGroup');
  } else if (target) {
    const groupId = await lg.objectIdOf(target);
    const fromGroup = (user.licenseAssignmentStates ?? []).filter(
      (s) => groupId !== undefined && s.assignedByGroup?.toLowerCase() === groupId.toLowerCase(),
    );
    const failed = fromGroup.find((s) => s.state === 'Error');
    if (failed)
      throw new AppError(
        'invalid',
        'licence-group-error',
        `Microsoft 365 could not give ${failed.skuId} from licence group ${target} (${groupId}) to this user: ${
          (failed as { error?: string }).error ?? 'error'
        } (CountViolation: no free seats; MutuallyExclusiveViolation: a conflicting plan). Fix it, then retry`,
        { skuId: failed.skuId, groupId },
      );
    // Recorded earlier; until the group's licences show, make sure its flush is on its way (an earlier attempt may
    // have recorded the move and stopped before scheduling it).
    if (fromGroup.length < set.length && !ctx.settings.dryRun) await lg.scheduleFlush(target);
    ctx.trace(
      'licenses',
      fromGroup.length >= set.length
        ? `In licence group ${target}: its licences are assigned`
        : `In licence group ${target}: Microsoft 365 assigns its licences shortly`,
    );
  }
  if (plan.remove.length > 0) {
    ctx.trace(
      'licenses',
      `Remove this connection's direct ${plan.remove.join(', ')} (not wanted, or a group gives it)`,
    );
    await ctx.gateway.licenses.assignLicenses(user.id, [], plan.remove);
    changed.push('assignedLicenses');
  }
  // Moving from direct licensing: this connection's direct licences stay until the group's are in effect; the user
  // is applied again meanwhile (for a while after it joined) to remove them then.
  const since = moving ? Date.now() : Date.parse(membership?.since ?? '');
  const waiting = target !== undefined && plan.owned.length > 0 && Date.now() - since < GROUP_LICENCE_WAIT_MS;
  if (waiting) ctx.trace('licenses', `Direct ${plan.owned.join(', ')} stay until the licence group's reach the user`);
  return { owned: plan.owned, changed, ...(waiting ? { requeueAfterMs: GROUP_LICENCE_CHECK_MS } : {}) };
}

/**
 * licensingMode direct: a user this connection put in one of its licence groups (group mode before) leaves it once
 * its licences are direct. Only read when a group gives the user a licence.
 */
async function leaveLicenceGroupOnceDirect(ctx: ActionContext, user: GraphUser): Promise<string[]> {
  if (!(user.licenseAssignmentStates ?? []).some((s) => s.assignedByGroup)) return [];
  return (await leaveLicenceGroup(ctx, user.id)) ? ['licenceGroup'] : [];
}

/** Takes the account out of the licence group this connection put it in, if any (recorded, sent by its flush). */
export async function leaveLicenceGroup(ctx: ActionContext, accountId: string): Promise<boolean> {
  const membership = await ctx.licenceGroups.membership(ctx.user.externalId);
  if (!membership) return false;
  ctx.trace('licenses', `Leave licence group ${membership.group}`);
  if (!ctx.settings.dryRun) await ctx.licenceGroups.move(ctx.user.externalId, accountId, undefined, membership);
  return true;
}
