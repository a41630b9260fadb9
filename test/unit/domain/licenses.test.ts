import { describe, expect, it } from 'vitest';
import { LicensePlanError, planLicenses, resolveLicenses, type SkuInfo } from '../../../shared/domain/licenses.js';

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
