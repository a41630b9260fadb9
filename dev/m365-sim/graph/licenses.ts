// Licensing: GET /subscribedSkus (subscribedsku-list), POST /users/{id}/assignLicense (user-assignlicense),
// GET /users/{id}/licenseDetails (user-list-licensedetails).
import { propertyType, validateActionBody } from '../graph-schema/validate-body.js';
import type { AssignedLicense, TenantState, UserRecord } from '../state.js';
import { badRequest, GraphError } from './errors.js';
import { contextUrl, project } from './odata.js';
import { PERMISSIONS } from './permissions.js';
import type { GraphCall, GraphResult, GraphRoute } from './types.js';
import { DEFAULT_USER_PROPERTIES, USER_TYPE, userData } from './user-view.js';
import { requireUser } from './users.js';

function listSubscribedSkus(call: GraphCall): GraphResult {
  const value = [...call.tenant.skus.values()].map((s) => ({
    accountId: call.tenant.id,
    accountName: call.tenant.displayName,
    appliesTo: 'User',
    capabilityStatus: 'Enabled',
    consumedUnits: s.assigned + s.externalConsumed,
    id: `${call.tenant.id}_${s.skuId}`,
    skuId: s.skuId,
    skuPartNumber: s.skuPartNumber,
    subscriptionIds: [],
    prepaidUnits: s.prepaidUnits,
    servicePlans: s.servicePlans.map((p) => ({ ...p, provisioningStatus: 'Success', appliesTo: 'User' })),
  }));
  return { status: 200, body: { '@odata.context': contextUrl(call, 'subscribedSkus'), value } };
}

/**
 * Order of checks follows what the service reports first: body shape, usage location, unknown SKU, removal
 * of a group-inherited license, then seats. Messages: usage location and "does not have any available
 * licenses" are community-reported wordings (the reference documents neither); see docs/graph-behaviour.md.
 */
/**
 * The assignLicense body (user-assignlicense, group-assignlicense), validated against the action's metadata, with
 * ids lower-cased and every SKU one the tenant subscribes to.
 */
export function assignLicenseRequest(
  call: GraphCall,
  bindingType?: string,
): { add: AssignedLicense[]; remove: string[] } {
  const invalid = validateActionBody('microsoft.graph.assignLicense', call.body, bindingType);
  if (invalid)
    throw new GraphError(
      400,
      invalid.code,
      invalid.message,
      invalid.target ? [{ code: 'InvalidValue', target: invalid.target }] : undefined,
    );
  const body = call.body as {
    addLicenses: Array<{ skuId: string; disabledPlans?: string[] | null }>;
    removeLicenses: string[];
  };
  const add = body.addLicenses.map((l): AssignedLicense => ({
    skuId: l.skuId.toLowerCase(),
    disabledPlans: (l.disabledPlans ?? []).map((p) => p.toLowerCase()),
  }));
  const remove = body.removeLicenses.map((s) => s.toLowerCase());
  for (const skuId of [...add.map((l) => l.skuId), ...remove]) {
    if (!call.tenant.skus.has(skuId))
      throw badRequest(`License ${skuId} does not correspond to a valid company License.`);
  }
  return { add, remove };
}

function assignLicense(call: GraphCall, [idOrUpn]: string[]): GraphResult {
  const { tenant } = call;
  const user = requireUser(tenant, idOrUpn!);
  const { add, remove } = assignLicenseRequest(call);
  if (add.length > 0 && !user.data.usageLocation)
    throw badRequest('License assignment cannot be done for user with invalid usage location.');
  for (const skuId of remove) {
    if (!user.directLicenses.has(skuId)) {
      const inherited = [...user.groupLicenses.values()].some((g) => g.skuId === skuId);
      if (inherited)
        throw badRequest(
          'User license is inherited from a group membership and it cannot be removed directly from the user.',
        );
      throw badRequest(`User does not have a corresponding license for ${skuId}.`);
    }
  }
  const effective = tenant.effectiveSkus(user);
  for (const lic of add) {
    // A user already holding the SKU (directly or through a group) takes no extra seat.
    if (!effective.has(lic.skuId) && tenant.freeSeats(lic.skuId) <= 0) {
      throw badRequest(`Subscription with SKU ${lic.skuId} does not have any available licenses.`);
    }
  }
  tenant.withSeatAccounting(user, () => {
    for (const skuId of remove) user.directLicenses.delete(skuId);
    for (const lic of add) user.directLicenses.set(lic.skuId, lic satisfies AssignedLicense);
  });
  tenant.recordChange('users', user.id);
  // user-assignlicense: "returns 200 OK and a user object": the whole user (its example shows accountEnabled,
  // assignedLicenses, assignedPlans, businessPhones, city, companyName …), not the default property set.
  return {
    status: 200,
    body: { '@odata.context': contextUrl(call, 'users/$entity'), ...wholeUser(tenant, user) },
  };
}

/** Every property of the user the list shows (declared on the user type), set or null, computed ones included. */
function wholeUser(tenant: TenantState, user: UserRecord): Record<string, unknown> {
  const data = userData(tenant, user);
  // passwordProfile is never read back (Graph answers it null).
  const declared = Object.keys(data).filter((p) => p !== 'passwordProfile' && propertyType(USER_TYPE, p) !== undefined);
  return project(USER_TYPE, data, [...new Set([...DEFAULT_USER_PROPERTIES, ...declared])]);
}

function licenseDetails(call: GraphCall, [idOrUpn]: string[]): GraphResult {
  const { tenant } = call;
  const user = requireUser(tenant, idOrUpn!);
  const value = [...tenant.effectiveSkus(user)].map((skuId) => {
    const sku = tenant.skus.get(skuId)!;
    return {
      id: `${skuId}_${user.id}`,
      skuId,
      skuPartNumber: sku.skuPartNumber,
      servicePlans: sku.servicePlans.map((p) => ({ ...p, provisioningStatus: 'Success', appliesTo: 'User' })),
    };
  });
  return { status: 200, body: { '@odata.context': contextUrl(call, `users('${user.id}')/licenseDetails`), value } };
}

export const licenseRoutes: GraphRoute[] = [
  {
    method: 'GET',
    pattern: /^\/subscribedSkus$/,
    permissions: PERMISSIONS.subscribedSkusRead,
    baseCost: 3,
    handle: listSubscribedSkus,
  },
  {
    method: 'POST',
    pattern: /^\/users\/([^/]+)\/assignLicense$/,
    permissions: PERMISSIONS.licenseWrite,
    handle: assignLicense,
  },
  {
    method: 'GET',
    pattern: /^\/users\/([^/]+)\/licenseDetails$/,
    permissions: PERMISSIONS.licenseRead,
    baseCost: 2,
    handle: licenseDetails,
  },
];
