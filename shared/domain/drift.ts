// The decider (pure): what a user's Microsoft 365 account should look like given the desired state, the mapping and
// the connection's policy, and what must change on an account read from Graph to get there — properties to write,
// accountEnabled, licences, whether it should exist — and what policy holds back. The executor
// (provisioning/user-actions.ts) writes exactly the plan it answers; reconciliation and import report the same plan
// as drift. Nothing else compares desired state with Microsoft 365.
import type { LicenseRef } from './change.js';
import { type DesiredState, type EffectiveChange, effectiveChange } from './desired-state.js';
import {
  assignmentStates,
  diffLicenses,
  type LicenseAssignmentState,
  LicensePlanError,
  type LicensingMode,
  resolveLicenses,
  type SkuInfo,
} from './licenses.js';
import { applyMapping, type Mapping } from './mapping/mapping.js';
import type { SyncSettings } from './sync-settings.js';
import { withGenerated } from './upn-candidates.js';
import type { BlockedBy, GeneratedValues } from './user-state.js';

export interface ExpectedAccount {
  /** Mapped properties (update mode) the account should have, accountEnabled and values that do not fit left out. */
  values: Record<string, unknown>;
  /** Whether policy lets profile properties be written (allowUpdate); otherwise differences are only blocked. */
  updatable: boolean;
  /** accountEnabled the account should have; undefined when policy leaves it alone. */
  enabled?: boolean;
  /** accountEnabled the lifecycle asks for but a setting holds back (reported as blocked when it differs). */
  enabledHeldBack?: { setting: 'allowDeactivate' | 'activateOnAssign'; enabled: boolean };
  /** skuIds the account should hold; undefined when no license is desired either way. */
  licenses?: string[];
  /** How the licences are given (licensingMode): with `group`, one a group gives counts as held (licenses.ts). */
  licensingMode?: LicensingMode;
  /** The account should not exist (removed, remove action delete). */
  absent: boolean;
  /** The account should exist (the user is assigned and creating is allowed). */
  present: boolean;
}

export interface DriftContext {
  mapping: Mapping;
  settings: SyncSettings;
  domain: string;
  /** The tenant's subscribed SKUs (to resolve license names); undefined: licenses are not compared. */
  skus?: readonly SkuInfo[];
}

/** usageLocation: mapped, else an ISO alpha-2 `country` attribute, else the connection's default. */
export function withUsageLocation(
  values: Record<string, unknown>,
  attributes: Record<string, unknown>,
  settings: Pick<SyncSettings, 'usageLocation'>,
): Record<string, unknown> {
  if (values.usageLocation !== undefined && values.usageLocation !== null) return values;
  const country = attributes.country;
  const derived =
    typeof country === 'string' && /^[A-Za-z]{2}$/.test(country) ? country.toUpperCase() : settings.usageLocation;
  return derived ? { ...values, usageLocation: derived } : values;
}

/** The licenses a change asks for, after the connection's defaults; undefined = no wish (remove nothing). */
export function desiredLicenseRefs(
  licenses: LicenseRef[] | undefined,
  settings: Pick<SyncSettings, 'defaultLicenses' | 'removeLicensesWhenEmpty'>,
): LicenseRef[] | undefined {
  return (
    licenses ??
    (settings.defaultLicenses.length > 0 ? settings.defaultLicenses : settings.removeLicensesWhenEmpty ? [] : undefined)
  );
}

/**
 * The accountEnabled the lifecycle asks for, as policy lets it apply to an existing account: nothing when
 * (de)activating is off, and nothing for "assigned, so active" when activateOnAssign is off.
 */
export function enabledFor(
  change: EffectiveChange,
  settings: Pick<SyncSettings, 'allowDeactivate' | 'activateOnAssign'>,
): boolean | undefined {
  return enabledDecision(change, settings).enabled;
}

/** enabledFor, and which setting holds the lifecycle's wish back when one does. */
function enabledDecision(
  change: EffectiveChange,
  settings: Pick<SyncSettings, 'allowDeactivate' | 'activateOnAssign'>,
): { enabled?: boolean; heldBack?: { setting: 'allowDeactivate' | 'activateOnAssign'; enabled: boolean } } {
  if (change.enabled === undefined) return {};
  if (!settings.allowDeactivate) return { heldBack: { setting: 'allowDeactivate', enabled: change.enabled } };
  if (change.enabled && change.explicit === false && !settings.activateOnAssign) {
    return { heldBack: { setting: 'activateOnAssign', enabled: true } };
  }
  return { enabled: change.enabled };
}

/** `generated`: the user's values generated on a UPN collision (they stand in for the mapped ones). */
export function expectedAccount(
  desired: DesiredState,
  ctx: DriftContext,
  generated?: GeneratedValues,
): ExpectedAccount {
  return expectedAccountFor(effectiveChange(desired), ctx, generated);
}

export function expectedAccountFor(
  change: EffectiveChange,
  ctx: DriftContext,
  generated?: GeneratedValues,
): ExpectedAccount {
  const s = ctx.settings;
  const none = { values: {}, updatable: s.allowUpdate, absent: false, present: false };
  if (change.type === 'remove') {
    if (!s.allowRemove) return none;
    return s.removeAction === 'delete' ? { ...none, absent: true } : { ...none, enabled: false };
  }
  const { enabled, heldBack } = enabledDecision(change, s);
  const lifecycle = {
    ...(enabled === undefined ? {} : { enabled }),
    ...(heldBack ? { enabledHeldBack: heldBack } : {}),
  };
  if (!change.hasProfile) return { ...none, ...lifecycle };
  const mapped = applyMapping(ctx.mapping, change.attributes, { domain: ctx.domain }, 'update');
  // A property whose value does not fit the mapping is reported by the executor; do not compare it. (A new
  // object rather than `delete`: a full round holds one of these per linked user, and deleting properties
  // turns an object into a much larger dictionary.)
  const skip = new Set(['accountEnabled', ...mapped.errors.map((e) => e.field)]);
  const values = Object.fromEntries(
    Object.entries(withGenerated(withUsageLocation(mapped.values, change.attributes, s), generated)).filter(
      ([k]) => !skip.has(k),
    ),
  );
  let licenses: string[] | undefined;
  const refs = desiredLicenseRefs(change.licenses, s);
  if (refs && ctx.skus) {
    try {
      licenses = resolveLicenses(refs, ctx.skus).map((l) => l.skuId);
    } catch (error) {
      // An unknown SKU fails the operation itself; reconciliation cannot compare it.
      if (!(error instanceof LicensePlanError)) throw error;
    }
  }
  return {
    values,
    updatable: s.allowUpdate,
    ...lifecycle,
    ...(licenses ? { licenses, licensingMode: s.licensingMode } : {}),
    absent: false,
    present: s.allowCreate,
  };
}

export interface PropertyDifference {
  property: string;
  expected: unknown;
  actual: unknown;
}

export interface AccountDrift {
  /** Properties to write (allowUpdate on). */
  profile: PropertyDifference[];
  /** The accountEnabled the account should have, when it has the other. */
  enabled?: boolean;
  /** Desired skuIds the account lacks, and this connection's skuIds it holds but should not. */
  licenses?: { missing: string[]; extra: string[] };
  /** The account exists but should not (removed with remove action delete). */
  shouldBeAbsent: boolean;
  /** Differences policy holds back (allowUpdate off): not written, not drift, but not in sync either. */
  blocked: { setting: BlockedBy['setting']; differences: PropertyDifference[] }[];
}

export interface ObservedAccount {
  accountEnabled?: boolean;
  assignedLicenses?: { skuId: string }[];
  licenseAssignmentStates?: LicenseAssignmentState[];
  [property: string]: unknown;
}

/**
 * How `account` differs from `expected`: the plan. With `complete` false (an incremental delta page) a property
 * missing from the account is unknown, not empty: Graph returns only what changed.
 */
export function compareAccount(
  expected: ExpectedAccount,
  account: ObservedAccount,
  options: { complete: boolean; owned: readonly string[] },
): AccountDrift {
  const known = (p: string) => options.complete || p in account;
  const differences: PropertyDifference[] = [];
  for (const [property, value] of Object.entries(expected.values)) {
    if (!known(property)) continue;
    if (!sameValue(account[property], value))
      differences.push({ property, expected: value, actual: account[property] ?? null });
  }
  const drift: AccountDrift = expected.updatable
    ? { profile: differences, shouldBeAbsent: expected.absent, blocked: [] }
    : {
        profile: [],
        shouldBeAbsent: expected.absent,
        blocked: differences.length > 0 ? [{ setting: 'allowUpdate', differences }] : [],
      };
  if (expected.enabled !== undefined && known('accountEnabled') && account.accountEnabled !== expected.enabled)
    drift.enabled = expected.enabled;
  const held = expected.enabledHeldBack;
  if (held && known('accountEnabled') && account.accountEnabled !== held.enabled) {
    drift.blocked.push({
      setting: held.setting,
      differences: [{ property: 'accountEnabled', expected: held.enabled, actual: account.accountEnabled ?? null }],
    });
  }
  if (expected.licenses && known('assignedLicenses')) {
    const { add, remove } = diffLicenses(
      expected.licenses.map((skuId) => ({ skuId })),
      assignmentStates(account),
      options.owned,
      expected.licensingMode,
    );
    if (add.length > 0 || remove.length > 0) drift.licenses = { missing: add.map((a) => a.skuId), extra: remove };
  }
  return drift;
}

/** What policy held back in a plan, as a log record and the user view name it. */
export const blockedBy = (drift: AccountDrift): BlockedBy[] =>
  drift.blocked.map((b) => ({ setting: b.setting, properties: b.differences.map((d) => d.property) }));

/** The Graph PATCH body a plan calls for: the profile properties to write and accountEnabled when it must change. */
export function patchOf(drift: AccountDrift): Record<string, unknown> {
  const patch: Record<string, unknown> = Object.fromEntries(drift.profile.map((d) => [d.property, d.expected]));
  if (drift.enabled !== undefined) patch.accountEnabled = drift.enabled;
  return patch;
}

export const hasDrift = (d: AccountDrift) =>
  d.shouldBeAbsent || d.profile.length > 0 || d.enabled !== undefined || d.licenses !== undefined;

/** Graph's and the mapping's value are the same (null, absent and an empty collection all mean "no value"). */
export function sameValue(a: unknown, b: unknown): boolean {
  const empty = (v: unknown) => v === undefined || v === null || (Array.isArray(v) && v.length === 0);
  if (empty(a) && empty(b)) return true;
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Source attributes that map to what the account holds (import from Microsoft 365): each plain `source` rule is
 * reversed; `userName` (the default mapping's UPN and alias source) is the account's UPN; an expression's
 * target name stands in as an attribute (e.g. `coalesce(displayName, …)`). Expressions are not inverted: the
 * caller compares the result with the account to see what the mapping would still change.
 */
export function attributesFromAccount(mapping: Mapping, account: ObservedAccount): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const [target, rule] of Object.entries(mapping.properties)) {
    if (target.includes('.') || rule.applyOn === 'create') continue;
    const value = account[target];
    if (value === undefined || value === null) continue;
    if ('source' in rule) attributes[rule.source] = Array.isArray(value) && value.length === 1 ? value[0] : value;
    else if ('expression' in rule && attributes[target] === undefined) attributes[target] = value;
  }
  if (attributes.userName === undefined && typeof account.userPrincipalName === 'string')
    attributes.userName = account.userPrincipalName;
  return attributes;
}
