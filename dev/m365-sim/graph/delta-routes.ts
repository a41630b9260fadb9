// GET /users/delta and /groups/delta (user-delta, group-delta; members@delta per delta-query-groups).
import type { LinkChange, TenantState } from '../state.js';
import { deltaHandler } from './delta.js';
import { GROUP_TYPE, groupView } from './group-view.js';
import { PERMISSIONS } from './permissions.js';
import type { GraphRoute } from './types.js';
import { USER_TYPE, userView } from './user-view.js';

const entryType = (type: 'user' | 'group') => `#microsoft.graph.${type}`;

/** Index of the first change at or after `position` (the log is in `at` order). */
function firstAt(log: LinkChange[], position: number): number {
  let lo = 0;
  let hi = log.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (log[mid]!.at < position) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A group's members or owners for `<link>@delta`: all of them, or what changed in the window (the last change each). */
function groupLinkEntries(
  tenant: TenantState,
  id: string,
  link: string,
  window: { from: number; to: number } | undefined,
): Array<Record<string, unknown>> {
  const group = tenant.groups.get(id);
  if (!group || (link !== 'members' && link !== 'owners')) return [];
  if (!window) {
    return [...group[link]].map((memberId) => ({
      '@odata.type': entryType(tenant.directoryObject(memberId)?.type ?? 'user'),
      id: memberId,
    }));
  }
  const log = tenant.linkChanges.get(group.id) ?? [];
  const last = new Map<string, LinkChange>();
  for (let i = firstAt(log, window.from); i < log.length && log[i]!.at < window.to; i++) {
    const change = log[i]!;
    if (change.relation === link) last.set(change.targetId, change);
  }
  return [...last.values()].map((c) => ({
    '@odata.type': entryType(c.targetType),
    id: c.targetId,
    ...(c.removed ? { '@removed': { reason: 'deleted' } } : {}),
  }));
}

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
  {
    method: 'GET',
    pattern: /^\/groups\/delta(?:\(\))?$/,
    permissions: PERMISSIONS.groupsRead,
    handle: deltaHandler({
      kind: 'groups',
      typeName: GROUP_TYPE,
      view: (tenant, id, select) => {
        const group = tenant.groups.get(id);
        return group ? groupView(tenant, group, select) : undefined;
      },
      links: { tracked: ['members', 'owners'], byDefault: ['members'] },
      linkEntries: groupLinkEntries,
    }),
  },
];
