// What a run finds on one linked group, read from a groups delta round: the group decider's own rules
// (domain/group-drift.ts: groupPatch for the properties, membershipPlan for the members, per groupMembership) over
// the members the executor would resolve (group-actions.ts resolveReferences: linked users, nested groups nested or
// flattened). A full round knows every property and member; an incremental one only what changed since the last
// round: a property it does not carry is not compared, and a member it does not mention is taken as it should be
// (a member removed by hand that is wanted is missing; one added by hand that is not wanted is extra).
import type { PropertyDifference } from '../../domain/drift.js';
import {
  groupDesired,
  type GroupMappingContext,
  groupPatch,
  isReadOnlyGroup,
  membershipPlan,
} from '../../domain/group-drift.js';
import { groupLicencePlan, isLicenceGroupId, LicensePlanError, type SkuInfo } from '../../domain/licenses.js';
import type { SyncSettings } from '../../domain/sync-settings.js';
import { isInSync, type UserState } from '../../domain/user-state.js';
import { resolveReferences } from '../group-actions.js';
import type { References } from '../object-kind.js';
import type { GraphGroup } from '../ports.js';
import type { GroupFinding } from './findings.js';

/** What a round read of one group's members. */
export type MembersSeen =
  /** A full round: every member. */
  | { complete: true; ids: Set<string> }
  /** An incremental round: members added and removed since the last round (none: members did not change). */
  | { complete: false; added: Set<string>; removed: Set<string> };

/** How many member ids a finding's detail names. */
const NAMED = 5;
const named = (ids: string[]) => `${ids.slice(0, NAMED).join(', ')}${ids.length > NAMED ? ', …' : ''}`;

/** What a round judges groups by: the connection's settings and group mapping, the directory's rows, the SKUs. */
export interface GroupJudge {
  settings: SyncSettings;
  references: References;
  mapping: GroupMappingContext;
  /** The tenant's subscribed SKUs (to resolve licence names); undefined: licences are not compared. */
  skus?: readonly SkuInfo[];
}

/**
 * The drift of a linked group, or undefined when it has none — or is not to be judged now: not wanted, an
 * operation on its way or references pending (not in sync: that operation reconciles it), a licence group, not a
 * group the decider can describe, or read-only (Exchange owns it).
 */
export async function checkGroup(
  row: UserState,
  observed: GraphGroup,
  members: MembersSeen | undefined,
  complete: boolean,
  { settings, references, mapping, skus }: GroupJudge,
): Promise<GroupFinding | undefined> {
  const attributes = row.desired?.profile?.attributes;
  if (!attributes || row.desired?.lifecycle?.state === 'removed' || !isInSync(row)) return undefined;
  // The connection's own licence groups (group-based licensing) keep their members by their own bookkeeping.
  if (isLicenceGroupId(row.externalId)) return undefined;
  const { desired } = groupDesired(attributes, mapping);
  if (!desired || isReadOnlyGroup(observed)) return undefined;

  const patch = groupPatch(desired, observed);
  // An incremental round carries the properties that changed: one it does not carry is not known to differ.
  const differs = Object.keys(patch).filter((p) => complete || p in observed);
  const differences: PropertyDifference[] = differs.map((p) => ({
    property: p,
    expected: patch[p] ?? null,
    actual: observed[p] ?? null,
  }));

  let plan: { add: string[]; remove: string[] } = { add: [], remove: [] };
  if (members) {
    const refs = await resolveReferences({ settings, user: row, references, trace: () => undefined }, desired);
    const current = members.complete
      ? members.ids
      : new Set([...[...refs.members].filter((id) => !members.removed.has(id)), ...members.added]);
    plan = membershipPlan(refs.members, current, new Set(row.ownedMembers ?? []), settings.groupMembership);
  }
  const licences = skus && (complete || 'assignedLicenses' in observed) ? licenceDrift(row, observed, skus) : undefined;
  if (licences) differences.push({ property: licences.property, expected: licences.expected, actual: licences.actual });
  if (plan.add.length === 0 && plan.remove.length === 0 && differences.length === 0) return undefined;

  const parts = [
    plan.remove.length > 0
      ? `${plan.remove.length} member(s) the directory does not have (${settings.groupMembership}): ${named(plan.remove)}`
      : '',
    plan.add.length > 0 ? `${plan.add.length} member(s) missing: ${named(plan.add)}` : '',
    differs.length > 0 ? `differs in ${differs.join(', ')}` : '',
    licences
      ? `licences: missing ${licences.missing.join(', ') || 'none'}, not wanted ${licences.extra.join(', ') || 'none'}`
      : '',
    settings.allowGroupUpdate ? '' : 'updating groups is not allowed (allowGroupUpdate is off): reported only',
  ].filter(Boolean);
  return {
    kind:
      plan.remove.length > 0
        ? 'extraMembers'
        : plan.add.length > 0
          ? 'missingMembers'
          : differs.length > 0
            ? 'properties'
            : 'licenses',
    detail: parts.join('; '),
    // Removing members is what the accidental-deletion threshold counts (one per member).
    operation: plan.remove.length > 0 ? 'removeMembers' : 'reconcile',
    ...(plan.remove.length > 0 ? { memberRemovals: plan.remove.length } : {}),
    objectId: observed.id,
    ...(differences.length > 0 ? { differences } : {}),
    ...(settings.allowGroupUpdate ? {} : { reportOnly: true }),
  };
}

/**
 * The group's own licences against what its change asks (the executor's rule, groupLicencePlan): the SKUs missing
 * and this connection's not wanted, or undefined when none. A licence name the tenant no longer has is the
 * executor's to report, not drift.
 */
function licenceDrift(row: UserState, observed: GraphGroup, skus: readonly SkuInfo[]) {
  const held = (observed.assignedLicenses ?? []).map((l) => l.skuId.toLowerCase());
  try {
    const plan = groupLicencePlan(
      row.desired?.profile?.licenses,
      skus,
      observed.assignedLicenses ?? [],
      row.ownedLicenses,
    );
    if (plan.add.length === 0 && plan.remove.length === 0) return undefined;
    const missing = plan.add.map((a) => a.skuId);
    const expected = [...held.filter((id) => !plan.remove.includes(id)), ...missing];
    return { property: 'assignedLicenses', expected, actual: held, missing, extra: plan.remove };
  } catch (error) {
    if (error instanceof LicensePlanError) return undefined;
    throw error;
  }
}
