// Directory roles and a user's memberships: directoryRole-list / -get, directoryRole-list-members,
// directoryRole-post-members ($ref), directoryRole-delete-member ($ref), user-list-memberof and
// user-list-transitivememberof with the OData cast to microsoft.graph.group or microsoft.graph.directoryRole.
// An app without permission to read roles still sees a user's role memberships, with "limited information":
// only @odata.type and id, the other properties null (user-list-memberof, "limited information returned for
// inaccessible member objects").
import type { DirectoryRoleRecord, TenantState, UserRecord } from '../state.js';
import { badRequest, resourceNotFound } from './errors.js';
import { groupView } from './group-view.js';
import { referencedId } from './groups.js';
import { contextUrl } from './odata.js';
import { grantedPermissions, PERMISSIONS } from './permissions.js';
import type { GraphCall, GraphResult, GraphRoute } from './types.js';
import { findUser, userView } from './user-view.js';

const ROLE_TYPE = '#microsoft.graph.directoryRole';
const GROUP_TYPE = '#microsoft.graph.group';

function roleView(role: DirectoryRoleRecord): Record<string, unknown> {
  return {
    '@odata.type': ROLE_TYPE,
    id: role.id,
    deletedDateTime: null,
    description: role.description,
    displayName: role.displayName,
    roleTemplateId: role.roleTemplateId,
  };
}

const canReadRoles = (call: GraphCall) => {
  const granted = grantedPermissions(call.auth);
  return PERMISSIONS.rolesRead.some((p) => granted.has(p.toLowerCase()));
};

function requireRole(tenant: TenantState, id: string): DirectoryRoleRecord {
  const role = tenant.directoryRoles.get(id.toLowerCase());
  if (!role) throw resourceNotFound(id);
  return role;
}

function requireUser(tenant: TenantState, idOrUpn: string): UserRecord {
  const user = findUser(tenant, idOrUpn);
  if (!user) throw resourceNotFound(idOrUpn);
  return user;
}

function listRoles(call: GraphCall): GraphResult {
  return {
    status: 200,
    body: {
      '@odata.context': contextUrl(call, 'directoryRoles'),
      value: [...call.tenant.directoryRoles.values()].map(roleView),
    },
  };
}

function listRoleMembers(call: GraphCall, [id]: string[]): GraphResult {
  const role = requireRole(call.tenant, id!);
  const value = [...role.members]
    .map((m) => call.tenant.users.get(m))
    .filter((u) => u !== undefined)
    .map((u) => ({ '@odata.type': '#microsoft.graph.user', ...userView(call.tenant, u, undefined) }));
  return { status: 200, body: { '@odata.context': contextUrl(call, 'directoryObjects'), value } };
}

function addRoleMember(call: GraphCall, [id]: string[]): GraphResult {
  const role = requireRole(call.tenant, id!);
  const body = call.body as Record<string, unknown> | undefined;
  const memberId = referencedId(body?.['@odata.id']);
  const user = call.tenant.users.get(memberId);
  if (!user) throw resourceNotFound(memberId);
  if (role.members.has(user.id))
    throw badRequest(
      "One or more added object references already exist for the following modified properties: 'members'.",
    );
  call.tenant.addRoleMember(role, user);
  call.tenant.recordChange('users', user.id);
  return { status: 204 };
}

function removeRoleMember(call: GraphCall, [id, memberId]: string[]): GraphResult {
  const role = requireRole(call.tenant, id!);
  if (!role.members.has(memberId!.toLowerCase())) throw resourceNotFound(memberId!);
  call.tenant.removeRoleMember(role, memberId!.toLowerCase());
  call.tenant.recordChange('users', memberId!.toLowerCase());
  return { status: 204 };
}

/**
 * memberOf / transitiveMemberOf (transitive: the groups of groups, through nesting; the simulator has no
 * role-assignable groups, so directory roles are the direct ones), optionally cast to one type.
 */
function memberships(call: GraphCall, [idOrUpn, relation, cast]: string[]): GraphResult {
  const user = requireUser(call.tenant, idOrUpn!);
  const direct = [...user.memberOf].map((g) => call.tenant.groups.get(g)).filter((g) => g !== undefined);
  const groups =
    cast === 'microsoft.graph.directoryRole'
      ? []
      : (relation === 'transitiveMemberOf' ? call.tenant.transitiveGroupsOf(user.memberOf) : direct).map((g) => ({
          '@odata.type': GROUP_TYPE,
          ...groupView(call.tenant, g, undefined),
        }));
  const full = canReadRoles(call);
  const roles =
    cast === 'microsoft.graph.group'
      ? []
      : call.tenant
          .rolesOf(user.id)
          .map((r) =>
            full
              ? roleView(r)
              : { '@odata.type': ROLE_TYPE, id: r.id, description: null, displayName: null, roleTemplateId: null },
          );
  const value = [...groups, ...roles];
  return {
    status: 200,
    body: {
      '@odata.context': contextUrl(call, cast ? `directoryObjects/${cast}` : 'directoryObjects'),
      ...(call.query.get('$count') === 'true' ? { '@odata.count': value.length } : {}),
      value,
    },
  };
}

const GUID = '([0-9a-fA-F-]{36})';
const CAST = '(?:/(microsoft\\.graph\\.group|microsoft\\.graph\\.directoryRole))?';

export const directoryRoleRoutes: GraphRoute[] = [
  { method: 'GET', pattern: /^\/directoryRoles$/, permissions: PERMISSIONS.rolesRead, handle: listRoles },
  {
    method: 'GET',
    pattern: new RegExp(`^/directoryRoles/${GUID}$`),
    permissions: PERMISSIONS.rolesRead,
    handle: (call, [id]) => ({ status: 200, body: roleView(requireRole(call.tenant, id!)) }),
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/directoryRoles/${GUID}/members$`),
    permissions: PERMISSIONS.rolesRead,
    handle: listRoleMembers,
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/directoryRoles/${GUID}/members/\\$ref$`),
    permissions: PERMISSIONS.rolesWrite,
    handle: addRoleMember,
  },
  {
    method: 'DELETE',
    pattern: new RegExp(`^/directoryRoles/${GUID}/members/${GUID}/\\$ref$`),
    permissions: PERMISSIONS.rolesWrite,
    handle: removeRoleMember,
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/users/([^/]+)/(transitiveMemberOf|memberOf)${CAST}$`),
    permissions: PERMISSIONS.usersRead,
    baseCost: 2,
    handle: memberships,
  },
];
