// GET /users/delta and /groups/delta (user-delta, group-delta).
import { deltaHandler } from './delta.js';
import { GROUP_TYPE, groupData } from './groups.js';
import { project } from './odata.js';
import { PERMISSIONS } from './permissions.js';
import type { GraphRoute } from './types.js';
import { USER_TYPE, userView } from './user-view.js';

export const deltaRoutes: GraphRoute[] = [
  {
    method: 'GET',
    pattern: /^\/users\/delta(?:\(\))?$/,
    permissions: PERMISSIONS.usersRead,
    handle: deltaHandler({
      kind: 'users',
      typeName: USER_TYPE,
      view: (tenant, id, select) => {
        const user = tenant.users.get(id);
        return user ? userView(tenant, user, select) : undefined;
      },
    }),
  },
];

deltaRoutes.push({
  method: 'GET',
  pattern: /^\/groups\/delta(?:\(\))?$/,
  permissions: PERMISSIONS.groupsRead,
  handle: deltaHandler({
    kind: 'groups',
    typeName: GROUP_TYPE,
    view: (tenant, id, select) => {
      const group = tenant.groups.get(id);
      return group ? (select ? project(GROUP_TYPE, groupData(group), select) : group.data) : undefined;
    },
  }),
});
