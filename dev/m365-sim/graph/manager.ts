// A user's manager: user-list-manager (GET /users/{id}/manager) and user-post-manager
// (PUT /users/{id}/manager/$ref with {"@odata.id": "…/users/{managerId}"}; 204 No Content).
import { resourceNotFound } from './errors.js';
import { referencedId } from './groups.js';
import { contextUrl } from './odata.js';
import { parseSelect } from './odata.js';
import { PERMISSIONS } from './permissions.js';
import type { GraphCall, GraphResult, GraphRoute } from './types.js';
import { findUser, USER_TYPE, userView } from './user-view.js';

function getManager(call: GraphCall, [idOrUpn]: string[]): GraphResult {
  const user = findUser(call.tenant, idOrUpn!);
  if (!user) throw resourceNotFound(idOrUpn!);
  const manager = call.tenant.users.get(call.tenant.managers.get(user.id) ?? '');
  if (!manager) throw resourceNotFound(`${user.id}/manager`);
  return {
    status: 200,
    body: {
      '@odata.context': contextUrl(call, 'directoryObjects/$entity'),
      '@odata.type': '#microsoft.graph.user',
      ...userView(call.tenant, manager, parseSelect(call.query, USER_TYPE)),
    },
  };
}

function setManager(call: GraphCall, [idOrUpn]: string[]): GraphResult {
  const user = findUser(call.tenant, idOrUpn!);
  if (!user) throw resourceNotFound(idOrUpn!);
  const managerId = referencedId((call.body as Record<string, unknown> | undefined)?.['@odata.id']);
  if (!call.tenant.users.get(managerId)) throw resourceNotFound(managerId);
  call.tenant.managers.set(user.id, managerId);
  call.tenant.recordChange('users', user.id);
  return { status: 204 };
}

export const managerRoutes: GraphRoute[] = [
  { method: 'GET', pattern: /^\/users\/([^/]+)\/manager$/, permissions: PERMISSIONS.usersRead, handle: getManager },
  {
    method: 'PUT',
    pattern: /^\/users\/([^/]+)\/manager\/\$ref$/,
    permissions: PERMISSIONS.usersWrite,
    handle: setManager,
  },
];
