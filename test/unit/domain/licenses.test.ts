import { describe, expect, it } from 'vitest';
import {
  diffLicenses,
  groupLicensingSubscriptions,
  licenceGroupId,
  LicensePlanError,
  planLicenses,
  resolveLicenses,
  type SkuInfo,
} from '../../../shared/domain/licenses.js';

const E3 = 'aaaaaaaa-0000-4000-8000-000000000003';
const E5 = 'aaaaaaaa-0000-4000-8000-000000000005';
const skus: SkuInfo[] = [
  {
    skuId: E3,
    skuPartNumber: 'SPE_E3',
    enabled: 10,
    consumed: 3,
    servicePlans: [{ servicePlanId: 'p-teams', servicePlanName: 'TEAMS1' }],
  },
  { skuId: E5, skuPartNumber: 'SPE_E5', enabled: 2, consumed: 2, servicePlans: [] },
];

describe('license planning', () => {
  it('resolves part numbers or ids, case-insensitively, and service plan names to ids', () => {
    expect(resolveLicenses(['spe_e3', { sku: E3.toUpperCase(), disabledPlans: ['TEAMS1'] }], skus)).toEqual([
      { skuId: E3, skuPartNumber: 'SPE_E3', disabledPlans: [] },
      { skuId: E3, skuPartNumber: 'SPE_E3', disabledPlans: ['p-teams'] },
    ]);
    expect(() => resolveLicenses(['NOPE'], skus)).toThrow(/"NOPE" is not subscribed.*SPE_E3, SPE_E5/);
    expect(() => resolveLicenses([{ sku: 'SPE_E3', disabledPlans: ['EXCHANGE'] }], skus)).toThrow(LicensePlanError);
  });

  it('adds what is missing and removes only what this connection owns', () => {
    const desired = resolveLicenses(['SPE_E3'], skus);
    const states = [{ skuId: E5 }, { skuId: 'cccccccc-0000-4000-8000-000000000001' }];
    expect(planLicenses(desired, states, [E5], skus)).toEqual({
      add: [{ skuId: E3, skuPartNumber: 'SPE_E3', disabledPlans: [] }],
      remove: [E5],
      owned: [E3],
    });
  });

  it('never removes a group-inherited license, even one it once owned', () => {
    const states = [{ skuId: E3, assignedByGroup: 'group-1' }];
    expect(planLicenses([], states, [E3], skus)).toEqual({ add: [], remove: [], owned: [] });
  });

  it('removes nothing when the change expresses no wish', () => {
    expect(planLicenses(undefined, [{ skuId: E3 }], [E3], skus)).toEqual({ add: [], remove: [], owned: [E3] });
  });

  it('refuses an add with no free seat, naming the SKU and the count', () => {
    expect(() => planLicenses(resolveLicenses(['SPE_E5'], skus), [], [], skus)).toThrow(
      'No free seats for SKU SPE_E5 (2 of 2 in use)',
    );
  });
});

describe('group-based licensing (licensingMode group)', () => {
  const fromOurGroup = { skuId: E3, assignedByGroup: 'licence-group', state: 'Active' };

  it("direct: a user's own reconciliation never removes a licence a group gives, and adds its own", () => {
    // Adds its own direct assignment (owned from then on), and removes nothing the group gives.
    expect(diffLicenses([{ skuId: E3 }], [fromOurGroup], [E3])).toEqual({
      add: [{ skuId: E3 }],
      remove: [],
      owned: [E3],
    });
    expect(diffLicenses([], [fromOurGroup], [E3])).toEqual({ add: [], remove: [], owned: [] });
  });

  it('group: a licence a group gives is held; a direct one of ours goes once a group gives it, or once unwanted', () => {
    expect(diffLicenses([{ skuId: E3 }], [fromOurGroup], [], 'group')).toEqual({ add: [], remove: [], owned: [] });
    // Moving from direct to group licensing: kept until the group's licence is in effect, then removed.
    expect(diffLicenses([{ skuId: E3 }], [{ skuId: E3 }], [E3], 'group')).toEqual({ add: [], remove: [], owned: [E3] });
    expect(diffLicenses([{ skuId: E3 }], [{ skuId: E3 }, fromOurGroup], [E3], 'group')).toEqual({
      add: [],
      remove: [E3],
      owned: [],
    });
    // A group's licence in error (no seat) is not held: the direct one stays.
    const failed = { ...fromOurGroup, state: 'Error' };
    expect(diffLicenses([{ skuId: E3 }], [{ skuId: E3 }, failed], [E3], 'group')).toEqual({
      add: [],
      remove: [],
      owned: [E3],
    });
    expect(diffLicenses([], [{ skuId: E5 }], [E5], 'group')).toEqual({ add: [], remove: [E5], owned: [] });
    // Missing in every way: the licence group is to give it (and a seat is checked for it).
    expect(diffLicenses([{ skuId: E3 }], [], [], 'group').add).toEqual([{ skuId: E3 }]);
    expect(() => planLicenses(resolveLicenses(['SPE_E5'], skus), [], [], skus, 'group')).toThrow(/No free seats/);
  });

  it('names one licence group per connection and licence set, whatever the order it is asked in', () => {
    const a = licenceGroupId('conn-1', [
      { skuId: E3, disabledPlans: ['p2', 'p1'] },
      { skuId: E5, disabledPlans: [] },
    ]);
    expect(a).toMatch(/^m365prov-lic-[0-9a-f]{16}$/);
    expect(
      licenceGroupId('conn-1', [
        { skuId: E5, disabledPlans: [] },
        { skuId: E3.toUpperCase(), disabledPlans: ['P1', 'p2'] },
      ]),
    ).toBe(a);
    expect(
      licenceGroupId('conn-2', [
        { skuId: E3, disabledPlans: ['p1', 'p2'] },
        { skuId: E5, disabledPlans: [] },
      ]),
    ).not.toBe(a);
    expect(
      licenceGroupId('conn-1', [
        { skuId: E3, disabledPlans: ['p1'] },
        { skuId: E5, disabledPlans: [] },
      ]),
    ).not.toBe(a);
    expect(licenceGroupId('conn-1', [])).toBeUndefined();
  });

  it('knows the subscriptions that include group-based licensing', () => {
    expect(
      groupLicensingSubscriptions([
        { skuPartNumber: 'ENTERPRISEPACK', servicePlans: [] },
        { skuPartNumber: 'EXCHANGESTANDARD', servicePlans: [] },
        { skuPartNumber: 'CUSTOM_BUNDLE', servicePlans: [{ servicePlanName: 'AAD_PREMIUM' }] },
      ]),
    ).toEqual(['ENTERPRISEPACK', 'CUSTOM_BUNDLE']);
  });
});
