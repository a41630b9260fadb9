// License planning (pure): which SKUs to add and remove for one user, given what is desired, what the user has
// directly, and which licenses this connection assigned. Only licenses this connection assigned are ever removed;
// a group-inherited license is never touched (Graph refuses, and it is not ours).
import type { LicenseRef } from './change.js';

export interface SkuInfo {
  skuId: string;
  skuPartNumber: string;
  enabled: number;
  consumed: number;
  servicePlans: { servicePlanId: string; servicePlanName: string }[];
}

export interface LicenseAssignmentState {
  skuId: string;
  assignedByGroup?: string | null;
}

export interface LicensePlan {
  add: { skuId: string; disabledPlans: string[]; skuPartNumber: string }[];
  remove: string[];
  /** skuIds this connection owns after the plan is applied. */
  owned: string[];
}

export class LicensePlanError extends Error {
  constructor(
    readonly code: 'unknown-sku' | 'unknown-service-plan' | 'no-free-seats',
    message: string,
  ) {
    super(message);
    this.name = 'LicensePlanError';
  }
}

const ref = (r: LicenseRef) =>
  typeof r === 'string'
    ? { sku: r, disabledPlans: [] as string[] }
    : { sku: r.sku, disabledPlans: r.disabledPlans ?? [] };

export function resolveLicenses(
  refs: readonly LicenseRef[],
  skus: readonly SkuInfo[],
): { skuId: string; disabledPlans: string[]; skuPartNumber: string }[] {
  return refs.map(ref).map(({ sku, disabledPlans }) => {
    const found = skus.find(
      (s) => s.skuId.toLowerCase() === sku.toLowerCase() || s.skuPartNumber.toLowerCase() === sku.toLowerCase(),
    );
    if (!found) {
      throw new LicensePlanError(
        'unknown-sku',
        `SKU "${sku}" is not subscribed in this tenant (subscribed: ${skus.map((s) => s.skuPartNumber).join(', ') || 'none'})`,
      );
    }
    return {
      skuId: found.skuId.toLowerCase(),
      skuPartNumber: found.skuPartNumber,
      disabledPlans: disabledPlans.map((p) => {
        const plan = found.servicePlans.find(
          (sp) =>
            sp.servicePlanId.toLowerCase() === p.toLowerCase() || sp.servicePlanName.toLowerCase() === p.toLowerCase(),
        );
        if (!plan)
          throw new LicensePlanError(
            'unknown-service-plan',
            `Service plan "${p}" is not part of ${found.skuPartNumber}`,
          );
        return plan.servicePlanId.toLowerCase();
      }),
    };
  });
}

/**
 * The licence part of the plan, shared by the executor and reconciliation (the decider, drift.ts): which desired
 * SKUs the account lacks as a direct assignment, which of this connection's it holds but should not, and what this
 * connection owns afterwards. Without assignment states (a delta page reads only assignedLicenses) every held
 * licence counts as direct.
 * @param desired desired SKUs, or undefined when the change expresses no wish (then nothing is removed)
 */
export function diffLicenses<T extends { skuId: string }>(
  desired: readonly T[] | undefined,
  states: readonly LicenseAssignmentState[],
  owned: readonly string[],
): { add: T[]; remove: string[]; owned: string[] } {
  const direct = new Set(states.filter((s) => !s.assignedByGroup).map((s) => s.skuId.toLowerCase()));
  if (desired === undefined) return { add: [], remove: [], owned: owned.filter((id) => direct.has(id)) };
  const wanted = new Set(desired.map((d) => d.skuId));
  const add = desired.filter((d) => !direct.has(d.skuId));
  const remove = owned.filter((id) => !wanted.has(id) && direct.has(id));
  const ownedAfter = [
    ...new Set([...owned.filter((id) => !remove.includes(id) && direct.has(id)), ...add.map((a) => a.skuId)]),
  ];
  return { add, remove, owned: ownedAfter };
}

/** The states of an account as Graph returned it: licenseAssignmentStates when read, else assignedLicenses as direct. */
export const assignmentStates = (account: {
  licenseAssignmentStates?: LicenseAssignmentState[] | undefined;
  assignedLicenses?: { skuId: string }[] | undefined;
}): LicenseAssignmentState[] =>
  account.licenseAssignmentStates ?? (account.assignedLicenses ?? []).map((l) => ({ skuId: l.skuId }));

/**
 * The executor's licence plan: the diff above, refused when a SKU to add has no free seat.
 * @param desired resolved desired licenses, or undefined when the change expresses no wish (then nothing is removed)
 * @param states the user's licenseAssignmentStates (direct assignments have no assignedByGroup)
 */
export function planLicenses(
  desired: ReturnType<typeof resolveLicenses> | undefined,
  states: readonly LicenseAssignmentState[],
  owned: readonly string[],
  skus: readonly SkuInfo[],
): LicensePlan {
  const plan = diffLicenses(desired, states, owned);
  for (const a of plan.add) {
    const sku = skus.find((s) => s.skuId.toLowerCase() === a.skuId)!;
    if (sku.enabled - sku.consumed <= 0) {
      throw new LicensePlanError(
        'no-free-seats',
        `No free seats for SKU ${sku.skuPartNumber} (${sku.consumed} of ${sku.enabled} in use)`,
      );
    }
  }
  return plan;
}
