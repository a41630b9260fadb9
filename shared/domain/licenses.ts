// License planning (pure): which SKUs to add and remove for one user, given what is desired, what the user has
// directly, and which licenses this connection assigned. Only licenses this connection assigned are ever removed;
// a group-inherited license is never touched (Graph refuses, and it is not ours).
// Group-based licensing (licensingMode `group`): a connection's licences are carried by security groups it manages,
// one per distinct licence set (SKUs and their disabled plans), named after the set (licenceGroupId).
import { createHash } from 'node:crypto';
import type { LicenseRef } from './change.js';

/** `direct`: assignLicense on each user; `group`: membership of the connection's licence group for the set. */
export const licensingModes = ['direct', 'group'] as const;
export type LicensingMode = (typeof licensingModes)[number];

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
  /** Active, ActiveWithError, Disabled or Error (a group's licence a member could not get: CountViolation …). */
  state?: string | null;
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
 * SKUs the account lacks, which of this connection's direct assignments it holds but should not, and what this
 * connection owns (directly) afterwards. Without assignment states (a delta page reads only assignedLicenses) every
 * held licence counts as direct.
 * - `direct`: a desired SKU is held when assigned directly (an inherited one does not count: the connection assigns
 *   its own, and never removes one a group gives);
 * - `group`: a desired SKU is held when assigned directly or inherited from a group (in effect), since the
 *   connection's licence group carries it; a direct one of this connection's that a group now carries is removed
 *   (moving from direct to group licensing), so the user never goes without it.
 * @param desired desired SKUs, or undefined when the change expresses no wish (then nothing is removed)
 */
export function diffLicenses<T extends { skuId: string }>(
  desired: readonly T[] | undefined,
  states: readonly LicenseAssignmentState[],
  owned: readonly string[],
  mode: LicensingMode = 'direct',
): { add: T[]; remove: string[]; owned: string[] } {
  const direct = new Set(states.filter((s) => !s.assignedByGroup).map((s) => s.skuId.toLowerCase()));
  if (desired === undefined) return { add: [], remove: [], owned: owned.filter((id) => direct.has(id)) };
  const wanted = new Set(desired.map((d) => d.skuId));
  if (mode === 'group') {
    const inherited = inheritedSkus(states);
    const add = desired.filter((d) => !direct.has(d.skuId) && !inherited.has(d.skuId));
    const remove = owned.filter((id) => direct.has(id) && (!wanted.has(id) || inherited.has(id)));
    return { add, remove, owned: owned.filter((id) => direct.has(id) && !remove.includes(id)) };
  }
  const add = desired.filter((d) => !direct.has(d.skuId));
  const remove = owned.filter((id) => !wanted.has(id) && direct.has(id));
  const ownedAfter = [
    ...new Set([...owned.filter((id) => !remove.includes(id) && direct.has(id)), ...add.map((a) => a.skuId)]),
  ];
  return { add, remove, owned: ownedAfter };
}

/**
 * A directory group's own licences (the change's `licenses` on a group: group-based licensing the directory asks
 * for) — the same rule as a user's direct licences (diffLicenses): what the group lacks is assigned, and only what this
 * connection assigned is ever removed. No seat check: a group's licences take seats as they reach its members, and
 * Microsoft 365 shows a member it could not license in that member's licenseAssignmentStates.
 * @param refs the licences the change asks for; undefined: no wish (nothing assigned or removed)
 * @param assigned the group's assignedLicenses
 */
export function groupLicencePlan(
  refs: readonly LicenseRef[] | undefined,
  skus: readonly SkuInfo[],
  assigned: readonly { skuId: string }[],
  owned: readonly string[],
) {
  const states = assigned.map((l) => ({ skuId: l.skuId.toLowerCase() }));
  return diffLicenses(refs && resolveLicenses(refs, skus), states, owned);
}

/** SKUs a group gives the account in effect (state Active or ActiveWithError; no state read: in effect). */
export const inheritedSkus = (states: readonly LicenseAssignmentState[], fromGroup?: string): Set<string> =>
  new Set(
    states
      .filter(
        (s) =>
          s.assignedByGroup &&
          (fromGroup === undefined || s.assignedByGroup.toLowerCase() === fromGroup.toLowerCase()) &&
          (s.state === undefined || s.state === null || s.state.startsWith('Active')),
      )
      .map((s) => s.skuId.toLowerCase()),
  );

/** The states of an account as Graph returned it: licenseAssignmentStates when read, else assignedLicenses as direct. */
export const assignmentStates = (account: {
  licenseAssignmentStates?: LicenseAssignmentState[] | undefined;
  assignedLicenses?: { skuId: string }[] | undefined;
}): LicenseAssignmentState[] =>
  account.licenseAssignmentStates ?? (account.assignedLicenses ?? []).map((l) => ({ skuId: l.skuId }));

/**
 * The executor's licence plan: the diff above, refused when a SKU to add (with `group`: one the user holds in no way,
 * which its licence group is to give it) has no free seat.
 * @param desired resolved desired licenses, or undefined when the change expresses no wish (then nothing is removed)
 * @param states the user's licenseAssignmentStates (direct assignments have no assignedByGroup)
 */
export function planLicenses(
  desired: ReturnType<typeof resolveLicenses> | undefined,
  states: readonly LicenseAssignmentState[],
  owned: readonly string[],
  skus: readonly SkuInfo[],
  mode: LicensingMode = 'direct',
): LicensePlan {
  const plan = diffLicenses(desired, states, owned, mode);
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

/** A resolved licence set: the SKUs (skuId, lower case) and the service plans left off each. */
export type LicenceSet = readonly { skuId: string; disabledPlans: readonly string[]; skuPartNumber?: string }[];

/** What every licence group's externalId and mailNickname start with. */
export const LICENCE_GROUP_PREFIX = 'm365prov-lic-';
/** Whether a group row is one of the connection's licence groups (the reserved externalId prefix). */
export const isLicenceGroupId = (externalId: string) => externalId.startsWith(LICENCE_GROUP_PREFIX);

/** The licence set in one order (SKUs, then each one's disabled plans, sorted), whatever order it was asked in. */
export const canonicalLicenceSet = (set: LicenceSet) =>
  [...set]
    .map((l) => ({
      skuId: l.skuId.toLowerCase(),
      disabledPlans: [...new Set(l.disabledPlans.map((p) => p.toLowerCase()))].sort(),
    }))
    .sort((a, b) => a.skuId.localeCompare(b.skuId));

/**
 * The licence group that carries `set` for a connection: its externalId and mailNickname, `m365prov-lic-` and 16 hex
 * digits of a hash of the connection and the set (each connection manages its own groups; the same set always names
 * the same group). undefined for the empty set (no group).
 */
export function licenceGroupId(connectionId: string, set: LicenceSet): string | undefined {
  if (set.length === 0) return undefined;
  const text = JSON.stringify([connectionId.toLowerCase(), canonicalLicenceSet(set)]);
  return `${LICENCE_GROUP_PREFIX}${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
}

/** The licence group's properties: a security group named after its SKUs (displayName ≤ 256), saying what it is. */
export function licenceGroupAttributes(id: string, set: LicenceSet, connectionName: string) {
  const names = canonicalLicenceSet(set)
    .map((l) => {
      const name = set.find((s) => s.skuId.toLowerCase() === l.skuId)?.skuPartNumber ?? l.skuId;
      return l.disabledPlans.length > 0 ? `${name} (${l.disabledPlans.length} plan(s) off)` : name;
    })
    .join(', ');
  return {
    displayName: `m365prov licences: ${names}`.slice(0, 200) + ` [${id.slice(LICENCE_GROUP_PREFIX.length)}]`,
    mailNickname: id,
    description:
      `Group-based licensing of m365-provisioner connection "${connectionName}": members get ${names}. Managed by the connection: members are added and removed by it.`.slice(
        0,
        1024,
      ),
    kind: 'security',
  };
}

/**
 * Products that include group-based licensing (concept-group-based-licensing: Microsoft Entra ID P1 and above,
 * Microsoft 365 Business Premium, Office 365 E3/A3/G3 and above), by skuPartNumber; a SKU with an Entra ID P1/P2
 * service plan (AAD_PREMIUM, AAD_PREMIUM_P2) counts too.
 */
const GROUP_LICENSING_SKUS = new Set([
  'AAD_PREMIUM',
  'AAD_PREMIUM_P2',
  'EMS',
  'EMSPREMIUM',
  'SPB',
  'O365_BUSINESS_PREMIUM',
  'ENTERPRISEPACK',
  'ENTERPRISEPREMIUM',
  'ENTERPRISEPREMIUM_NOPSTNCONF',
  'ENTERPRISEPACKPLUS_FACULTY',
  'ENTERPRISEPACKPLUS_STUDENT',
  'ENTERPRISEPREMIUM_FACULTY',
  'ENTERPRISEPREMIUM_STUDENT',
  'ENTERPRISEPACK_GOV',
  'ENTERPRISEPREMIUM_GOV',
  'ENTERPRISEPACK_USGOV_GCCHIGH',
  'ENTERPRISEPACK_USGOV_DOD',
  'SPE_E3',
  'SPE_E5',
  'SPE_E3_USGOV_DOD',
  'SPE_E3_USGOV_GCCHIGH',
  'SPE_F1',
  'M365EDU_A3_FACULTY',
  'M365EDU_A3_STUDENT',
  'M365EDU_A5_FACULTY',
  'M365EDU_A5_STUDENT',
  'IDENTITY_THREAT_PROTECTION',
  'Microsoft_Entra_Suite',
]);

/** The subscribed SKUs (skuPartNumber) that include group-based licensing. */
export const groupLicensingSubscriptions = (
  skus: readonly { skuPartNumber: string; servicePlans: readonly { servicePlanName: string }[] }[],
): string[] =>
  skus
    .filter(
      (s) =>
        GROUP_LICENSING_SKUS.has(s.skuPartNumber.toUpperCase()) ||
        GROUP_LICENSING_SKUS.has(s.skuPartNumber) ||
        s.servicePlans.some((p) => p.servicePlanName === 'AAD_PREMIUM' || p.servicePlanName === 'AAD_PREMIUM_P2'),
    )
    .map((s) => s.skuPartNumber);
