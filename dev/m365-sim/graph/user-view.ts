// How a stored user looks through Graph: stored properties plus the license properties the directory
// computes (assignedLicenses, licenseAssignmentStates, assignedPlans) and the documented default property
// set returned when no $select is given (user-list: "By default, only a limited set of properties are returned").
import type { TenantState, UserRecord } from '../state.js';
import { project } from './odata.js';

export const USER_TYPE = 'microsoft.graph.user';

export const DEFAULT_USER_PROPERTIES = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
  'id',
] as const;

/** Returned only by GET of a single user; selecting them on a list gives 501 (user-list, "$select"). */
export const SINGLE_USER_ONLY_PROPERTIES = new Set([
  'aboutMe',
  'birthday',
  'hireDate',
  'interests',
  'mySite',
  'pastProjects',
  'preferredName',
  'responsibilities',
  'schools',
  'skills',
  'mailboxSettings',
]);

/** Properties user-list documents as supporting $filter (eq at least); the first five are indexed. */
export const FILTERABLE_USER_PROPERTIES = new Set([
  'id',
  // aad-advanced-queries: eq (through `assignedLicenses/any(x:x/skuId eq {guid})`) works by default, no
  // ConsistencyLevel or $count needed; `not` would be an advanced query.
  'assignedLicenses',
  'userPrincipalName',
  'mail',
  'employeeId',
  'onPremisesImmutableId',
  'accountEnabled',
  'displayName',
  'givenName',
  'surname',
  'mailNickname',
  'userType',
  'usageLocation',
  'department',
  'jobTitle',
  'companyName',
  'employeeType',
  'city',
  'country',
  'state',
  'officeLocation',
  'onPremisesSamAccountName',
  'onPremisesSyncEnabled',
  'externalUserState',
  'creationType',
  'preferredLanguage',
  'proxyAddresses',
  'otherMails',
  'imAddresses',
]);

export function userData(tenant: TenantState, user: UserRecord): Record<string, unknown> {
  const assigned = new Map<string, string[]>();
  for (const lic of user.directLicenses.values()) assigned.set(lic.skuId, lic.disabledPlans);
  const states: Array<Record<string, unknown>> = [...user.directLicenses.values()].map((l) => ({
    skuId: l.skuId,
    disabledPlans: l.disabledPlans,
    assignedByGroup: null,
    state: 'Active',
    error: 'None',
    lastUpdatedDateTime: null,
  }));
  for (const g of user.groupLicenses.values()) {
    if (g.state === 'Active' && !assigned.has(g.skuId)) assigned.set(g.skuId, g.disabledPlans);
    states.push({
      skuId: g.skuId,
      disabledPlans: g.disabledPlans,
      assignedByGroup: g.groupId,
      state: g.state,
      error: g.error,
      lastUpdatedDateTime: new Date(g.lastUpdatedDateTime).toISOString(),
    });
  }
  const assignedPlans = [...assigned.keys()].flatMap((skuId) =>
    (tenant.skus.get(skuId)?.servicePlans ?? [])
      .filter((p) => !assigned.get(skuId)!.includes(p.servicePlanId))
      .map((p) => ({
        assignedDateTime: user.data.createdDateTime ?? null,
        capabilityStatus: 'Enabled',
        service: p.servicePlanName,
        servicePlanId: p.servicePlanId,
      })),
  );
  return {
    ...user.data,
    assignedLicenses: [...assigned].map(([skuId, disabledPlans]) => ({ skuId, disabledPlans })),
    licenseAssignmentStates: states,
    assignedPlans,
  };
}

export function userView(
  tenant: TenantState,
  user: UserRecord,
  select: readonly string[] | undefined,
): Record<string, unknown> {
  return project(USER_TYPE, userData(tenant, user), select ?? DEFAULT_USER_PROPERTIES);
}

/** GET /users/{id | userPrincipalName}: ids are GUIDs, anything with an @ is a UPN (user-get). */
export function findUser(tenant: TenantState, idOrUpn: string): UserRecord | undefined {
  return idOrUpn.includes('@') ? tenant.users.findBy('userPrincipalName', idOrUpn)[0] : tenant.users.get(idOrUpn);
}
