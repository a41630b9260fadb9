// Import from Microsoft 365 for groups, the preview: every group of the tenant against the connection's directory
// groups (the group rows), by the link or else the connection's groupMatchingRules, in three lists:
//   new      – a group no directory group has (linked or matching) → a directory group, linked, from its values
//   update   – both exist, and the group decider (domain/group-drift.ts) would change properties or members
//   readOnly – a mail-enabled security group or distribution list: Exchange owns it, never imported (reported)
// Groups are read a page at a time; members only of the groups compared. Applying a selection:
// import-group-apply.ts. Users have theirs in import-preview.ts.
import type { Connection } from '../domain/connection.js';
import {
  type GroupDesired,
  groupDesired,
  groupMappingOf,
  groupPatch,
  isReadOnlyGroup,
  kindOf,
} from '../domain/group-drift.js';
import { membershipPlan } from '../domain/group-drift.js';
import type { GroupMatchingAttribute, SyncSettings } from '../domain/sync-settings.js';
import type { UserState } from '../domain/user-state.js';
import type { ApplyDeps } from './apply-operation.js';
import { resolveReferences } from './group-actions.js';
import type { GraphGroup, TenantGateway } from './ports.js';
import { connectionReferences } from './references.js';

export const groupImportLists = ['new', 'update', 'readOnly'] as const;
export type GroupImportList = (typeof groupImportLists)[number];

/** How many members one difference names (the counts say how many there are). */
const NAMED_MEMBERS = 20;
/** Point reads of rows in flight at once. */
const LOOKUP_CONCURRENCY = 32;

export interface GroupImportEntry {
  group: {
    objectId: string;
    displayName?: string;
    mailNickname?: string;
    kind: 'security' | 'microsoft365';
    mailEnabled?: boolean;
    /** The first group matching rule's value in Microsoft 365. */
    matchingValue?: string;
  };
  /** The directory group (update). */
  externalId?: string;
  /**
   * update: each property as the directory has it and as Microsoft 365 has it; `members` names the members only
   * the directory has (missing in Microsoft 365) and those only Microsoft 365 has that this connection would remove.
   */
  differences?: GroupDifference[];
  /** readOnly: why it is not imported. */
  reason?: string;
}

export type GroupDifference =
  | { property: string; directory: unknown; microsoft365: unknown }
  | {
      property: 'members';
      directory: MemberRef[];
      microsoft365: MemberRef[];
      counts: { directory: number; microsoft365: number };
    };

export interface MemberRef {
  objectId: string;
  /** The directory user or group linked to it. */
  externalId?: string;
}

export interface ClassifiedGroup {
  list: GroupImportList;
  entry: GroupImportEntry;
  group: GraphGroup;
  row?: UserState;
}

const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
const matchKey = (rule: GroupMatchingAttribute, value: unknown) => {
  const v = text(value);
  // Graph's `eq` on mailNickname and displayName ignores case (the executor finds groups that way).
  return v ? `${rule}:${v.toLowerCase()}` : undefined;
};

interface DirectoryGroups {
  byObjectId: Map<string, UserState>;
  /** Directory groups not linked yet, by each group matching rule's value. */
  byMatch: Map<string, UserState>;
}

/** The directory group of a row, as the decider reads it (undefined: removed, or nothing received yet). */
export const desiredOf = (row: UserState, connection: Connection): GroupDesired | undefined =>
  row.desired?.lifecycle?.state === 'removed' || !row.desired?.profile
    ? undefined
    : groupDesired(row.desired.profile.attributes, groupMappingOf(connection)).desired;

async function directoryGroups(deps: ApplyDeps, connection: Connection, settings: SyncSettings) {
  const index: DirectoryGroups = { byObjectId: new Map(), byMatch: new Map() };
  for await (const page of deps.groups.scan(connection.id)) {
    for (const row of page) {
      const desired = desiredOf(row, connection);
      if (!desired) continue;
      if (row.objectId) {
        index.byObjectId.set(row.objectId, row);
        continue;
      }
      // A directory group linked to another group is never matched to this one (the executor's rule too).
      for (const rule of settings.groupMatchingRules) {
        const key = matchKey(rule, desired[rule]);
        if (key) index.byMatch.set(key, row);
      }
    }
  }
  return index;
}

const summaryOf = (g: GraphGroup, rule: GroupMatchingAttribute): GroupImportEntry['group'] => ({
  objectId: g.id,
  ...(text(g.displayName) ? { displayName: g.displayName! } : {}),
  ...(text(g.mailNickname) ? { mailNickname: g.mailNickname! } : {}),
  kind: kindOf(g),
  ...(typeof g.mailEnabled === 'boolean' ? { mailEnabled: g.mailEnabled } : {}),
  ...(text(g[rule]) ? { matchingValue: g[rule] as string } : {}),
});

export interface ClassifyOptions {
  /** Only these groups (by object id) and directory groups (by externalId): an apply compares no more than it needs. */
  only?: { objectIds: ReadonlySet<string>; externalIds: ReadonlySet<string> };
}

/** Every group of the tenant against the directory, one page of groups at a time. */
export async function* classifyGroups(
  deps: ApplyDeps,
  connection: Connection,
  settings: SyncSettings,
  gateway: TenantGateway,
  options: ClassifyOptions = {},
): AsyncIterable<ClassifiedGroup> {
  const index = await directoryGroups(deps, connection, settings);
  const rules = settings.groupMatchingRules;
  let next: string | undefined;
  do {
    const page = await gateway.groups.groupsPage(next);
    for (const group of page.groups) {
      const row =
        index.byObjectId.get(group.id) ??
        rules.map((r) => index.byMatch.get(matchKey(r, group[r]) ?? '')).find((r) => r !== undefined);
      const only = options.only;
      if (only && !only.objectIds.has(group.id) && !(row && only.externalIds.has(row.externalId))) continue;
      const summary = summaryOf(group, rules[0]!);
      if (isReadOnlyGroup(group)) {
        const reason =
          'A mail-enabled security group or distribution list: Exchange owns it and Microsoft Graph cannot change it, so it is never imported';
        yield {
          list: 'readOnly',
          entry: { group: summary, ...(row ? { externalId: row.externalId } : {}), reason },
          group,
        };
        continue;
      }
      if (!row) {
        yield { list: 'new', entry: { group: summary }, group };
        continue;
      }
      const differences = await groupDifferences(deps, connection, settings, gateway, row, group);
      if (differences.length > 0)
        yield { list: 'update', entry: { group: summary, externalId: row.externalId, differences }, group, row };
    }
    next = page.nextLink;
  } while (next);
}

/** What the group decider would change on `group` for directory group `row` (properties, then members). */
async function groupDifferences(
  deps: ApplyDeps,
  connection: Connection,
  settings: SyncSettings,
  gateway: TenantGateway,
  row: UserState,
  group: GraphGroup,
): Promise<GroupDifference[]> {
  const desired = desiredOf(row, connection)!;
  const differences: GroupDifference[] = Object.keys(groupPatch(desired, group)).map((property) => ({
    property,
    directory: desired[property as keyof GroupDesired] ?? null,
    microsoft365: group[property] ?? null,
  }));
  const references = connectionReferences(deps, connection.id);
  // Members that wait to be provisioned are no difference: they join by themselves once linked.
  const refs = await resolveReferences({ settings, user: row, references, trace: () => {} }, desired);
  const current = new Set(await gateway.groups.memberIds(group.id));
  const owned = new Set(row.objectId === group.id ? (row.ownedMembers ?? []) : []);
  const plan = membershipPlan(refs.members, current, owned, settings.groupMembership);
  if (plan.add.length > 0 || plan.remove.length > 0)
    differences.push({
      property: 'members',
      directory: await memberRefs(deps, connection.id, plan.add.slice(0, NAMED_MEMBERS)),
      microsoft365: await memberRefs(deps, connection.id, plan.remove.slice(0, NAMED_MEMBERS)),
      counts: { directory: plan.add.length, microsoft365: plan.remove.length },
    });
  return differences;
}

/** The directory object linked to each Microsoft 365 object: a user, else a group, else none. */
export async function linkedObjects(
  deps: ApplyDeps,
  connectionId: string,
  objectIds: string[],
): Promise<Map<string, { objectType: 'user' | 'group'; row: UserState } | undefined>> {
  const found = new Map<string, { objectType: 'user' | 'group'; row: UserState } | undefined>();
  for (let i = 0; i < objectIds.length; i += LOOKUP_CONCURRENCY) {
    const slice = objectIds.slice(i, i + LOOKUP_CONCURRENCY);
    const rows = await Promise.all(
      slice.map(async (id) => {
        const user = await deps.users.findByObjectId(connectionId, id);
        if (user) return { objectType: 'user' as const, row: user };
        const group = await deps.groups.findByObjectId(connectionId, id);
        return group ? { objectType: 'group' as const, row: group } : undefined;
      }),
    );
    slice.forEach((id, j) => found.set(id, rows[j]));
  }
  return found;
}

async function memberRefs(deps: ApplyDeps, connectionId: string, objectIds: string[]): Promise<MemberRef[]> {
  const linked = await linkedObjects(deps, connectionId, objectIds);
  return objectIds.map((objectId) => {
    const externalId = linked.get(objectId)?.row.externalId;
    return { objectId, ...(externalId ? { externalId } : {}) };
  });
}
