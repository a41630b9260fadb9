// A user's licences, as one step of the user actions: add what the plan (diffLicenses) says is missing, remove only
// what this connection assigned, check free seats first (re-reading seat counts once when they look exhausted),
// and set usageLocation before licensing when the account has none.
import { desiredLicenseRefs } from '../domain/drift.js';
import { AppError } from '../domain/errors.js';
import { assignmentStates, LicensePlanError, planLicenses, resolveLicenses } from '../domain/licenses.js';
import type { ActionContext } from './object-kind.js';
import type { GraphUser, SubscribedSku } from './ports.js';

/** Adds and removes licenses so the user has the desired ones; usageLocation is set first when missing. */
export async function reconcileLicenses(
  ctx: ActionContext,
  user: GraphUser,
  owned: string[],
  mappedUsageLocation?: string,
): Promise<{ owned: string[]; changed: string[] }> {
  const refs = desiredLicenseRefs(ctx.change.licenses, ctx.settings);
  if (refs === undefined) return { owned, changed: [] };
  const states = assignmentStates(user);
  const planWith = (skus: SubscribedSku[]) => planLicenses(resolveLicenses(refs, skus), states, owned, skus);
  let skus = await ctx.gateway.licenses.subscribedSkus();
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
  if (plan.add.length === 0 && plan.remove.length === 0) {
    ctx.trace('licenses', 'Licenses already as desired');
    return { owned: plan.owned, changed: [] };
  }
  const changed: string[] = [];
  if (plan.add.length > 0 && !user.usageLocation) {
    const usageLocation = mappedUsageLocation ?? ctx.settings.usageLocation;
    if (!usageLocation) {
      throw new AppError(
        'invalid',
        'usage-location-required',
        "Licenses need a usage location: map usageLocation, send an ISO `country`, or set the connection's default usageLocation",
      );
    }
    ctx.trace('licenses', `Set usageLocation = ${usageLocation} before licensing`);
    await ctx.gateway.users.updateUser(user.id, { usageLocation });
    changed.push('usageLocation');
  }
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
  changed.push('assignedLicenses');
  return { owned: plan.owned, changed };
}
