import { describe, expect, it } from 'vitest';
import type { DesiredState } from '../../../shared/domain/desired-state.js';
import {
  attributesFromAccount,
  compareAccount,
  type DriftContext,
  expectedAccount,
  hasDrift,
  patchOf,
} from '../../../shared/domain/drift.js';
import { DEFAULT_MAPPING } from '../../../shared/domain/mapping/mapping.js';
import { DEFAULT_SYNC_SETTINGS } from '../../../shared/domain/sync-settings.js';

const E3 = {
  skuId: '05e9a617-0261-4cee-bb44-138d3ef5d965',
  skuPartNumber: 'SPE_E3',
  enabled: 10,
  consumed: 1,
  servicePlans: [],
};
const ctx = (settings: Partial<typeof DEFAULT_SYNC_SETTINGS> = {}): DriftContext => ({
  mapping: DEFAULT_MAPPING,
  settings: { ...DEFAULT_SYNC_SETTINGS, ...settings },
  domain: 'contoso.example',
  skus: [E3],
});
const attributes = {
  userName: 'nora.lee',
  givenName: 'Nora',
  familyName: 'Lee',
  jobTitle: 'Engineer',
  password: 'sealed:x',
};
const assigned = (state: 'active' | 'inactive' | 'removed', explicit = true, licenses?: string[]): DesiredState => ({
  profile: { version: 2, attributes, ...(licenses ? { licenses } : {}) },
  lifecycle: { version: 3, state, explicit },
});
const account = {
  id: 'a1',
  userPrincipalName: 'nora.lee@contoso.example',
  mailNickname: 'nora.lee',
  displayName: 'Nora Lee',
  givenName: 'Nora',
  surname: 'Lee',
  jobTitle: 'Engineer',
  accountEnabled: true,
  assignedLicenses: [{ skuId: E3.skuId }],
};

describe('expectedAccount', () => {
  it("maps the profile in update mode (no password), wants the lifecycle's enabled state and resolves license names", () => {
    const e = expectedAccount(assigned('active', true, ['SPE_E3']), ctx());
    expect(e.values).toMatchObject({
      userPrincipalName: 'nora.lee@contoso.example',
      displayName: 'Nora Lee',
      jobTitle: 'Engineer',
    });
    expect(e.values).not.toHaveProperty('passwordProfile');
    expect(e.values).not.toHaveProperty('accountEnabled');
    expect(e).toMatchObject({ enabled: true, licenses: [E3.skuId], absent: false, present: true });
  });

  it('follows the policy toggles: values not updatable without allowUpdate, no enabled state without allowDeactivate or when only assignment implies it and activateOnAssign is off', () => {
    expect(expectedAccount(assigned('active'), ctx({ allowUpdate: false }))).toMatchObject({
      updatable: false,
      values: { jobTitle: 'Engineer' },
    });
    expect(expectedAccount(assigned('inactive'), ctx({ allowDeactivate: false }))).not.toHaveProperty('enabled');
    expect(expectedAccount(assigned('active', false), ctx({ activateOnAssign: false }))).not.toHaveProperty('enabled');
    expect(expectedAccount(assigned('active', false), ctx())).toMatchObject({ enabled: true });
  });

  it('a removed user: disabled (remove action disable), absent (delete), or left alone (allowRemove off)', () => {
    expect(expectedAccount(assigned('removed'), ctx())).toMatchObject({
      enabled: false,
      absent: false,
      present: false,
    });
    expect(expectedAccount(assigned('removed'), ctx({ removeAction: 'delete' }))).toMatchObject({
      absent: true,
      present: false,
    });
    expect(expectedAccount(assigned('removed'), ctx({ allowRemove: false }))).toEqual({
      values: {},
      updatable: true,
      absent: false,
      present: false,
    });
  });

  it('an unknown SKU is not compared (the operation itself reports it)', () => {
    expect(expectedAccount(assigned('active', true, ['NOPE']), ctx())).not.toHaveProperty('licenses');
  });
});

describe('compareAccount', () => {
  const expected = expectedAccount(assigned('active', true, ['SPE_E3']), ctx());

  it('finds nothing when the account matches (null, absent and [] are the same "no value")', () => {
    expect(
      hasDrift(
        compareAccount(
          expected,
          { ...account, mobilePhone: null, businessPhones: [] },
          { complete: true, owned: [E3.skuId] },
        ),
      ),
    ).toBe(false);
  });

  it('reports each differing property with both values, the enabled state, and missing or surplus licenses of ours', () => {
    const drift = compareAccount(
      expected,
      { ...account, jobTitle: 'Hacked', accountEnabled: false, assignedLicenses: [] },
      { complete: true, owned: [] },
    );
    expect(drift.profile).toEqual([{ property: 'jobTitle', expected: 'Engineer', actual: 'Hacked' }]);
    expect(drift.enabled).toBe(true);
    expect(drift.licenses).toEqual({ missing: [E3.skuId], extra: [] });
    const other = 'c7df2760-2c81-4ef7-b578-5b5392b571df';
    const surplus = compareAccount(
      expected,
      { ...account, assignedLicenses: [{ skuId: E3.skuId }, { skuId: other }] },
      { complete: true, owned: [E3.skuId, other] },
    );
    expect(surplus.licenses).toEqual({ missing: [], extra: [other] });
    // A license someone else assigned (not ours) is never reported as surplus.
    expect(
      compareAccount(
        expected,
        { ...account, assignedLicenses: [{ skuId: E3.skuId }, { skuId: other }] },
        { complete: true, owned: [E3.skuId] },
      ).licenses,
    ).toBeUndefined();
  });

  it('in an incremental page a property Graph did not return is unknown, not empty', () => {
    const partial = { id: 'a1', jobTitle: 'Hacked' };
    expect(compareAccount(expected, partial, { complete: false, owned: [] })).toEqual({
      profile: [{ property: 'jobTitle', expected: 'Engineer', actual: 'Hacked' }],
      shouldBeAbsent: false,
      blocked: [],
    });
    expect(compareAccount(expected, partial, { complete: true, owned: [] }).profile.length).toBeGreaterThan(1);
  });
});

describe('the plan: what the executor writes and reconciliation reports, one decision', () => {
  const hacked = { ...account, jobTitle: 'Hacked' };
  const disabled = { ...account, accountEnabled: false };
  it.each([
    ['in sync: nothing to write', {}, assigned('active'), account, {}, [], false],
    ['a hand edit is written back', {}, assigned('active'), hacked, { jobTitle: 'Engineer' }, [], true],
    [
      'allowUpdate off: the edit is blocked, not written, not drift',
      { allowUpdate: false },
      assigned('active'),
      hacked,
      {},
      ['allowUpdate:jobTitle'],
      false,
    ],
    ['inactive at the source: disabled', {}, assigned('inactive'), account, { accountEnabled: false }, [], true],
    [
      'allowDeactivate off: the enabled state is left alone, and said to be blocked',
      { allowDeactivate: false },
      assigned('inactive'),
      account,
      {},
      ['allowDeactivate:accountEnabled'],
      false,
    ],
    [
      'assigned (an upsert, `active: true` included) and activateOnAssign off: a disabled account stays disabled, blocked',
      { activateOnAssign: false },
      assigned('active', false),
      disabled,
      {},
      ['activateOnAssign:accountEnabled'],
      false,
    ],
    [
      'explicitly active: a disabled account is enabled even with activateOnAssign off',
      { activateOnAssign: false },
      assigned('active', true),
      disabled,
      { accountEnabled: true },
      [],
      true,
    ],
    ['removed, remove action disable: disabled', {}, assigned('removed'), account, { accountEnabled: false }, [], true],
    ['removed, allowRemove off: left alone', { allowRemove: false }, assigned('removed'), account, {}, [], false],
  ] as const)('%s', (_name, settings, desired, observed, patch, blocked, drift) => {
    const plan = compareAccount(expectedAccount(desired, ctx(settings)), observed, { complete: true, owned: [] });
    expect(patchOf(plan)).toEqual(patch);
    expect(plan.blocked.flatMap((b) => b.differences.map((d) => `${b.setting}:${d.property}`))).toEqual(blocked);
    expect(hasDrift(plan)).toBe(drift);
  });
});

describe('attributesFromAccount', () => {
  it('reverses plain source rules, takes userName from the UPN, and stands in an expression target for itself', () => {
    const withPhone = { ...account, businessPhones: ['+1 555 0100'] };
    const attrs = attributesFromAccount(DEFAULT_MAPPING, withPhone);
    expect(attrs).toMatchObject({
      userName: 'nora.lee@contoso.example',
      givenName: 'Nora',
      familyName: 'Lee',
      jobTitle: 'Engineer',
      active: true,
      displayName: 'Nora Lee',
      businessPhone: '+1 555 0100',
    });
    expect(attrs).not.toHaveProperty('password');
    // Round trip: those attributes map back to the same account.
    const back = expectedAccount({ profile: { version: 0, attributes: attrs } }, ctx());
    expect(compareAccount(back, withPhone, { complete: true, owned: [] }).profile).toEqual([]);
  });
});
