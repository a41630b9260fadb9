// Drift (pure): what a user's Microsoft 365 account should look like given the desired state, the mapping and
// the connection's policy, and how an account read from Graph differs from it. Reconciliation and import use
// it to find work; the executor (provisioning/user-actions.ts) remains the one place that decides and writes.
import { effectiveChange, type DesiredState } from './desired-state.js';
import { LicensePlanError, resolveLicenses, type SkuInfo } from './licenses.js';
import { applyMapping, type Mapping } from './mapping/mapping.js';
import type { SyncSettings } from './sync-settings.js';
import type { LicenseRef } from './change.js';

export interface ExpectedAccount {
  /** Mapped properties (update mode) the account should have; empty when updates are not allowed. */
  values: Record<string, unknown>;
  /** accountEnabled the account should have; undefined when policy leaves it alone. */
  enabled?: boolean;
  /** skuIds the account should hold; undefined when no license is desired either way. */
  licenses?: string[];
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
export function withUsageLocation(values: Record<string, unknown>, attributes: Record<string, unknown>, settings: Pick<SyncSettings, 'usageLocation'>): Record<string, unknown> {
  if (values.usageLocation !== undefined && values.usageLocation !== null) return values;
  const country = attributes.country;
  const derived = typeof country === 'string' && /^[A-Za-z]{2}$/.test(country) ? country.toUpperCase() : settings.usageLocation;
  return derived ? { ...values, usageLocation: derived } : values;
}

/** The licenses a change asks for, after the connection's defaults; undefined = no wish (remove nothing). */
export function desiredLicenseRefs(licenses: LicenseRef[] | undefined, settings: Pick<SyncSettings, 'defaultLicenses' | 'removeLicensesWhenEmpty'>): LicenseRef[] | undefined {
  return licenses ?? (settings.defaultLicenses.length > 0 ? settings.defaultLicenses : settings.removeLicensesWhenEmpty ? [] : undefined);
}

export function expectedAccount(desired: DesiredState, ctx: DriftContext): ExpectedAccount {
  const change = effectiveChange(desired);
  const s = ctx.settings;
  if (change.type === 'remove') {
    if (!s.allowRemove) return { values: {}, absent: false, present: false };
    return s.removeAction === 'delete' ? { values: {}, absent: true, present: false } : { values: {}, enabled: false, absent: false, present: false };
  }
  const enabled = !s.allowDeactivate ? undefined : change.enabled === true && change.explicit === false && !s.activateOnAssign ? undefined : change.enabled;
  if (!change.hasProfile) return { values: {}, ...(enabled === undefined ? {} : { enabled }), absent: false, present: false };
  let values: Record<string, unknown> = {};
  if (s.allowUpdate) {
    const mapped = applyMapping(ctx.mapping, change.attributes, { domain: ctx.domain }, 'update');
    // A property whose value does not fit the mapping is reported by the executor; do not compare it. (A new
    // object rather than `delete`: a full round holds one of these per linked user, and deleting properties
    // turns an object into a much larger dictionary.)
    const skip = new Set(['accountEnabled', ...mapped.errors.map((e) => e.field)]);
    values = Object.fromEntries(Object.entries(withUsageLocation(mapped.values, change.attributes, s)).filter(([k]) => !skip.has(k)));
  }
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
  return { values, ...(enabled === undefined ? {} : { enabled }), ...(licenses ? { licenses } : {}), absent: false, present: s.allowCreate };
}

export interface PropertyDifference {
  property: string;
  expected: unknown;
  actual: unknown;
}

export interface AccountDrift {
  profile: PropertyDifference[];
  /** The accountEnabled the account should have, when it has the other. */
  enabled?: boolean;
  /** Desired skuIds the account lacks, and this connection's skuIds it holds but should not. */
  licenses?: { missing: string[]; extra: string[] };
  /** The account exists but should not (removed with remove action delete). */
  shouldBeAbsent: boolean;
}

export interface ObservedAccount {
  accountEnabled?: boolean;
  assignedLicenses?: { skuId: string }[];
  [property: string]: unknown;
}

/**
 * How `account` differs from `expected`. With `complete` false (an incremental delta page) a property missing
 * from the account is unknown, not empty: Graph returns only what changed.
 */
export function compareAccount(expected: ExpectedAccount, account: ObservedAccount, options: { complete: boolean; owned: readonly string[] }): AccountDrift {
  const known = (p: string) => options.complete || p in account;
  const profile: PropertyDifference[] = [];
  for (const [property, value] of Object.entries(expected.values)) {
    if (!known(property)) continue;
    if (!sameValue(account[property], value)) profile.push({ property, expected: value, actual: account[property] ?? null });
  }
  const drift: AccountDrift = { profile, shouldBeAbsent: expected.absent };
  if (expected.enabled !== undefined && known('accountEnabled') && account.accountEnabled !== expected.enabled) drift.enabled = expected.enabled;
  if (expected.licenses && known('assignedLicenses')) {
    const held = new Set((account.assignedLicenses ?? []).map((l) => l.skuId.toLowerCase()));
    const want = new Set(expected.licenses);
    const missing = expected.licenses.filter((id) => !held.has(id));
    const extra = options.owned.filter((id) => held.has(id) && !want.has(id));
    if (missing.length > 0 || extra.length > 0) drift.licenses = { missing, extra };
  }
  return drift;
}

export const hasDrift = (d: AccountDrift) => d.shouldBeAbsent || d.profile.length > 0 || d.enabled !== undefined || d.licenses !== undefined;

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
  if (attributes.userName === undefined && typeof account.userPrincipalName === 'string') attributes.userName = account.userPrincipalName;
  return attributes;
}
