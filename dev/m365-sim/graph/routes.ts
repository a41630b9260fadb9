// Every Graph route the simulator serves. Order matters: literal segments (delta, $ref, assignLicense)
// come before the catch-all `/users/{id | userPrincipalName}`.
import { deltaRoutes } from './delta-routes.js';
import { directoryRoutes } from './directory.js';
import { directoryRoleRoutes } from './directory-roles.js';
import { domainRoutes } from './domains.js';
import { groupRoutes } from './groups.js';
import { licenseRoutes } from './licenses.js';
import { managerRoutes } from './manager.js';
import type { GraphRoute } from './types.js';
import { userRoutes } from './users.js';

let routes: GraphRoute[] | undefined;

export function graphRoutes(): GraphRoute[] {
  routes ??= [
    ...deltaRoutes,
    ...licenseRoutes,
    ...groupRoutes,
    ...directoryRoleRoutes,
    ...managerRoutes,
    ...directoryRoutes,
    ...domainRoutes,
    ...userRoutes,
  ];
  return routes;
}
