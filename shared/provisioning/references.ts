// The other objects of a connection as this app holds them, to resolve a group's references (members, owners,
// nested groups) and a user's manager by externalId. A few are point reads (at most POINT_READS_IN_FLIGHT at once);
// many users at once — a large group's members — are found by one scan of the connection's users instead: a point
// read is one storage transaction, a scan one per 1,000 rows, so from SCAN_FROM references on the scan costs no more
// while the directory has up to SCAN_FROM × 1,000 users, and it takes seconds where 10,000 point reads take most of
// a minute (npm run bench -- members). A reconciliation round's changed accounts are found the same way, by their
// Microsoft 365 object id (linkedRows).
import type { UserState } from '../domain/user-state.js';
import type { References } from './object-kind.js';
import type { UserStateRepository } from './ports.js';

const POINT_READS_IN_FLIGHT = 32;
/** From this many users at once, they are found by a scan of the connection's users. */
export const SCAN_FROM = 1_000;

type Rows = Pick<UserStateRepository, 'get' | 'scan'>;

/**
 * The rows (users, or groups) linked to these Microsoft 365 accounts, for a reconciliation round's changed accounts:
 * objectId → row, absent when none is linked. Each point read through the link index is two reads, so from
 * SCAN_FROM / 2 accounts one scan of the connection's rows, ending once every account was found, costs no more.
 */
export async function linkedRows(
  rows: Pick<UserStateRepository, 'findByObjectId' | 'scan'>,
  connectionId: string,
  objectIds: Iterable<string>,
): Promise<Map<string, UserState>> {
  const wanted = new Set(objectIds);
  const found = new Map<string, UserState>();
  if (wanted.size >= SCAN_FROM / 2) {
    for await (const page of rows.scan(connectionId, { linkedTo: wanted })) {
      for (const row of page) found.set(row.objectId!, row);
      if (found.size === wanted.size) break;
    }
    return found;
  }
  const ids = [...wanted];
  const read = await pointReads(ids, (id) => rows.findByObjectId(connectionId, id));
  for (const [id, row] of read) if (row) found.set(id, row);
  return found;
}

/**
 * References of one connection. `cacheLimit`: rows read are kept (up to that many; then forgotten and read again),
 * for a reconciliation run that resolves many groups.
 */
export function connectionReferences(
  deps: { users: Rows; groups: Rows },
  connectionId: string,
  { cacheLimit = 0 }: { cacheLimit?: number } = {},
): References {
  const cache = new Map<string, Promise<UserState | undefined>>();
  const read = (kind: 'user' | 'group', rows: Rows) => (externalId: string) => {
    if (cacheLimit === 0) return rows.get(connectionId, externalId);
    const key = `${kind}:${externalId}`;
    let row = cache.get(key);
    if (!row) {
      if (cache.size >= cacheLimit) cache.clear();
      row = rows.get(connectionId, externalId);
      cache.set(key, row);
    }
    return row;
  };
  const user = read('user', deps.users);
  const group = read('group', deps.groups);
  return {
    user,
    group,
    groups: (externalIds) => pointReads([...new Set(externalIds)], group),
    users: async (externalIds) => {
      const wanted = [...new Set(externalIds)];
      return wanted.length >= SCAN_FROM ? scanFor(deps.users, connectionId, wanted) : pointReads(wanted, user);
    },
  };
}

/** One read per id, at most POINT_READS_IN_FLIGHT at once: id → what its read answered. */
export async function pointReads<T>(ids: string[], read: (id: string) => Promise<T>): Promise<Map<string, T>> {
  const rows = new Map<string, T>();
  for (let i = 0; i < ids.length; i += POINT_READS_IN_FLIGHT) {
    const slice = ids.slice(i, i + POINT_READS_IN_FLIGHT);
    const found = await Promise.all(slice.map(read));
    slice.forEach((id, j) => rows.set(id, found[j] as T));
  }
  return rows;
}

/** One pass over the connection's users, ending as soon as every wanted one was seen. */
async function scanFor(users: Rows, connectionId: string, ids: string[]) {
  const wanted = new Set(ids);
  const rows = new Map<string, UserState | undefined>(ids.map((id) => [id, undefined]));
  let left = wanted.size;
  for await (const page of users.scan(connectionId)) {
    for (const row of page)
      if (wanted.has(row.externalId)) {
        rows.set(row.externalId, row);
        left--;
      }
    if (left === 0) break;
  }
  return rows;
}
