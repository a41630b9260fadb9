// How a stored group looks through Graph: stored properties plus what the directory computes (assignedLicenses,
// licenseProcessingState), the documented default property set returned when no $select is given (group resource:
// "Properties returned by default"; group-post-groups returns the same set), and directory objects as the members,
// owners and memberOf collections show them (`@odata.type` plus the object's own properties).
import type { GroupRecord, TenantState, UserRecord } from '../state.js';
import { project } from './odata.js';
import { USER_TYPE, userView } from './user-view.js';

export const GROUP_TYPE = 'microsoft.graph.group';

/** group resource, v1.0: the properties marked "Returned by default" (those in the v1.0 CSDL). */
export const DEFAULT_GROUP_PROPERTIES = [
  'id',
  'deletedDateTime',
  'classification',
  'createdDateTime',
  'description',
  'displayName',
  'expirationDateTime',
  'groupTypes',
  'isAssignableToRole',
  'mail',
  'mailEnabled',
  'mailNickname',
  'membershipRule',
  'membershipRuleProcessingState',
  'onPremisesDomainName',
  'onPremisesLastSyncDateTime',
  'onPremisesNetBiosName',
  'onPremisesSamAccountName',
  'onPremisesSecurityIdentifier',
  'onPremisesSyncEnabled',
  'preferredDataLocation',
  'preferredLanguage',
  'proxyAddresses',
  'renewedDateTime',
  'resourceBehaviorOptions',
  'resourceProvisioningOptions',
  'securityEnabled',
  'securityIdentifier',
  'theme',
  'uniqueName',
  'visibility',
  'onPremisesProvisioningErrors',
  'serviceProvisioningErrors',
] as const;

/** Stored properties plus the computed ones; licenseProcessingState (a scan of pending work) only when asked for. */
export function groupData(
  tenant: TenantState,
  group: GroupRecord,
  withProcessingState = true,
): Record<string, unknown> {
  return {
    ...group.data,
    assignedLicenses: group.licenses,
    // group resource: QueuedForProcessing | ProcessingInProgress | ProcessingComplete.
    ...(withProcessingState
      ? {
          licenseProcessingState: {
            state: tenant.hasLicenseWork(group.id) ? 'ProcessingInProgress' : 'ProcessingComplete',
          },
        }
      : {}),
  };
}

export function groupView(
  tenant: TenantState,
  group: GroupRecord,
  select: readonly string[] | undefined,
): Record<string, unknown> {
  const data = groupData(tenant, group, select?.includes('licenseProcessingState') ?? false);
  return project(GROUP_TYPE, data, select ?? DEFAULT_GROUP_PROPERTIES);
}

/**
 * A member, owner or parent group as a directoryObject collection shows it. With $select, each object answers the
 * selected properties its own type has (a user has no groupTypes, a group no userPrincipalName).
 */
export function directoryObjectView(
  tenant: TenantState,
  object: { type: 'user'; record: UserRecord } | { type: 'group'; record: GroupRecord },
  select: readonly string[] | undefined,
  hasProperty: (typeName: string, prop: string) => boolean,
): Record<string, unknown> {
  const typeName = object.type === 'user' ? USER_TYPE : GROUP_TYPE;
  const own = select?.filter((p) => hasProperty(typeName, p));
  const body = object.type === 'user' ? userView(tenant, object.record, own) : groupView(tenant, object.record, own);
  return { '@odata.type': `#${typeName}`, ...body };
}
