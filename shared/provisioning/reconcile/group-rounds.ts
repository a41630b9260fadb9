// The groups round of a run, after the users round: `GET /groups/delta` with `members@delta` (group-delta), with its
// own delta link. A full round (the users round was full, no groups link yet, or it nears its 7-day life) reads the
// connection's group rows first, then every group with all its members, and judges each linked group once the
// round has ended (a large group's members come over several pages, the group repeated with each part); a linked
// group no page returned was deleted. An incremental round reads only what changed since the groups link, finds
// each group's row through the link index, and judges it on what changed; then the group rows needing attention.
// What a group's drift is, group-check.ts says; what becomes of it, the finding collector. A connection without
// group rows has no groups round at all (one small read). Paused in this round (throttled), a run continues with
// the round from its beginning: the users round is done, and the found list keeps each correction single.
import type { Connection } from '../../domain/connection.js';
import { groupMappingOf } from '../../domain/group-drift.js';
import type { SkuInfo } from '../../domain/licenses.js';
import type { UserState } from '../../domain/user-state.js';
import type { References } from '../object-kind.js';
import type { GraphGroup, GroupPage } from '../ports.js';
import { connectionReferences, linkedRows } from '../references.js';
import type { ReconcileDeps } from './deps.js';
import type { Findings } from './findings.js';
import { checkGroup, type GroupJudge, type MembersSeen } from './group-check.js';
import type { DeltaPager } from './rounds.js';

/** What the groups round reads: the decider's properties, and the members (`members@delta`). */
export const GROUP_DELTA_SELECT = [
  'id',
  'displayName',
  'description',
  'mailNickname',
  'mailEnabled',
  'securityEnabled',
  'groupTypes',
  'assignedLicenses',
  'members',
];

/** Groups judged between two flushes of the items (and renewals of the lease). */
const JUDGED_PER_FLUSH = 100;
/** Directory rows a run keeps to resolve members by externalId (cleared when full: more reads, bounded memory). */
const MAX_CACHED_REFERENCES = 50_000;

export type GroupRoundDeps = Pick<ReconcileDeps, 'users' | 'groups'>;

/** Whether the connection has any group row: a connection without groups skips the groups round. */
export async function hasGroups(deps: Pick<ReconcileDeps, 'groups'>, connectionId: string): Promise<boolean> {
  for await (const page of deps.groups.scan(connectionId)) if (page.length > 0) return true;
  return false;
}

/** Members and nested groups resolved by externalId, as the executor resolves them, each row read once per run. */
export const runReferences = (deps: GroupRoundDeps, connectionId: string): References =>
  connectionReferences(deps, connectionId, { cacheLimit: MAX_CACHED_REFERENCES });

/** Reads the pager's groups round (full or incremental, per its position); answers the next round's delta link. */
export function groupRound(
  deps: GroupRoundDeps,
  work: Findings,
  pager: DeltaPager<GroupPage>,
  connection: Connection,
  references: References,
  skus: readonly SkuInfo[] | undefined,
): Promise<string | undefined> {
  const judge: GroupJudge = {
    settings: work.settings,
    references,
    mapping: groupMappingOf(connection),
    ...(skus ? { skus } : {}),
  };
  return pager.position.round === 'full'
    ? fullGroupRound(deps, work, pager, connection, judge)
    : incrementalGroupRound(deps, work, pager, connection, judge);
}

interface LinkedGroup {
  row: UserState;
  seen: boolean;
  group?: GraphGroup;
  members: Set<string>;
}

/** A group's properties without its members part. */
function propertiesOf(g: GroupPage['groups'][number]): GraphGroup {
  const { 'members@delta': _members, '@removed': _removed, ...properties } = g;
  return properties;
}

async function fullGroupRound(
  deps: GroupRoundDeps,
  work: Findings,
  pager: DeltaPager<GroupPage>,
  connection: Connection,
  judge: GroupJudge,
): Promise<string | undefined> {
  const counts = work.groups;
  const linked = new Map<string, LinkedGroup>();
  for await (const page of deps.groups.scan(connection.id)) {
    for (const row of page) {
      counts.examined.directory++;
      if (!row.desired) continue;
      if (row.objectId) linked.set(row.objectId, { row, seen: false, members: new Set() });
      await work.checkUnsettled(row, 'group');
    }
    await work.flush();
  }
  const unmatched = new Set<string>();
  const deltaLink = await pager.each(async (page) => {
    for (const g of page.groups) {
      if (g['@removed']) continue;
      const entry = linked.get(g.id);
      if (!entry) {
        if (!unmatched.has(g.id)) {
          unmatched.add(g.id);
          counts.examined.microsoft365++;
          work.unmatchedGroup();
        }
        continue;
      }
      if (!entry.seen) counts.examined.microsoft365++;
      entry.seen = true;
      entry.group = { ...entry.group, ...propertiesOf(g) };
      for (const m of g['members@delta'] ?? []) {
        if (m['@removed']) entry.members.delete(m.id);
        else entry.members.add(m.id);
      }
    }
    await work.flush();
  });
  let judged = 0;
  for (const [objectId, entry] of linked) {
    // Linked groups the full round did not return no longer exist in Microsoft 365.
    if (!entry.seen) await work.groupGone(entry.row, objectId);
    else {
      const members: MembersSeen = { complete: true, ids: entry.members };
      const finding = await checkGroup(entry.row, entry.group!, members, true, judge);
      if (finding) await work.groupDrift(entry.row, finding);
    }
    if (++judged % JUDGED_PER_FLUSH === 0) await work.flush();
  }
  await work.flush();
  return deltaLink;
}

interface GroupChange {
  group: GraphGroup;
  gone: boolean;
  /** members@delta came with it: its members changed. */
  membersChanged: boolean;
  added: Set<string>;
  removed: Set<string>;
}

async function incrementalGroupRound(
  deps: GroupRoundDeps,
  work: Findings,
  pager: DeltaPager<GroupPage>,
  connection: Connection,
  judge: GroupJudge,
): Promise<string | undefined> {
  const counts = work.groups;
  // The same group can appear several times in one round (its members over several pages): the last word counts.
  const changes = new Map<string, GroupChange>();
  const deltaLink = await pager.each(async (page) => {
    for (const g of page.groups) {
      const c = changes.get(g.id) ?? {
        group: { id: g.id },
        gone: false,
        membersChanged: false,
        added: new Set<string>(),
        removed: new Set<string>(),
      };
      changes.set(g.id, c);
      if (g['@removed']) {
        c.gone = true;
        continue;
      }
      c.gone = false;
      c.group = { ...c.group, ...propertiesOf(g) };
      for (const m of g['members@delta'] ?? []) {
        c.membersChanged = true;
        const [into, from] = m['@removed'] ? [c.removed, c.added] : [c.added, c.removed];
        into.add(m.id);
        from.delete(m.id);
      }
    }
    await work.flush();
  });
  const changed = [...changes.entries()];
  const rows = await linkedRows(deps.groups, connection.id, changes.keys());
  for (const [i, [objectId, c]] of changed.entries()) {
    const row = rows.get(objectId);
    if (!c.gone) counts.examined.microsoft365++;
    if (!row?.desired) {
      if (!c.gone) work.unmatchedGroup();
    } else if (c.gone) await work.groupGone(row, objectId);
    else {
      const members: MembersSeen | undefined = c.membersChanged
        ? { complete: false, added: c.added, removed: c.removed }
        : undefined;
      const finding = await checkGroup(row, c.group, members, false, judge);
      if (finding) await work.groupDrift(row, finding);
    }
    if ((i + 1) % JUDGED_PER_FLUSH === 0) await work.flush();
  }
  for (const row of await deps.groups.listNeedingAttention(connection.id)) {
    counts.examined.directory++;
    await work.checkUnsettled(row, 'group');
  }
  await work.flush();
  return deltaLink;
}
