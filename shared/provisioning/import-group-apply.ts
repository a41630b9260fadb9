// Import from Microsoft 365 for groups, applying an admin's selection of the lists (import-group-preview.ts
// classifies them). As for users, import never writes to Graph itself: "update from the directory" puts a re-apply on
// the provisioning queue; everything else edits the directory groups (the group rows).
import { reapplyStoredState } from '../domain/change.js';
import type { Connection } from '../domain/connection.js';
import type { DesiredState } from '../domain/desired-state.js';
import { isAppError } from '../domain/errors.js';
import { groupDesired, groupMappingOf, kindOf } from '../domain/group-drift.js';
import { externalIdSchema } from '../domain/identifiers.js';
import { attributesFromGroup, DEFAULT_GROUP_MAPPING } from '../domain/mapping/group-mapping.js';
import type { SyncSettings } from '../domain/sync-settings.js';
import type { UserState } from '../domain/user-state.js';
import type { ApplyDeps } from './apply-operation.js';
import type { ImportResult, ImportSelection } from './import-apply.js';
import { classifyGroups, type GroupImportList, linkedObjects } from './import-group-preview.js';
import { settingsOf } from './import-preview.js';
import { claimAccountLink } from './link-claims.js';
import type { GraphGroup, TenantGateway } from './ports.js';
import { tenantGateway } from './tenant.js';

/** How many members a result names as not imported (its detail says how many there are). */
const NAMED_NOT_IMPORTED = 50;

export interface GroupImportOutcome {
  list: GroupImportList;
  objectId?: string;
  externalId?: string;
  result: ImportResult;
  detail: string;
  operationId?: string;
  /** Members of the Microsoft 365 group the directory group does not get, and why. */
  notImported?: { objectId: string; reason: string }[];
}

/** POST …/import with objectType group: applies exactly the selection, each group checked against the lists now. */
export async function applyGroupImport(deps: ApplyDeps, connection: Connection, selection: ImportSelection) {
  const settings = settingsOf(connection);
  const gateway = tenantGateway(deps, connection, {});
  const wantNew = new Map(selection.new.map((n) => [n.objectId, n]));
  const wantUpdate = new Map(selection.update.map((u) => [u.externalId, u.source]));
  const results: GroupImportOutcome[] = [];
  const done = { new: new Set<string>(), update: new Set<string>() };
  const only = { objectIds: new Set(wantNew.keys()), externalIds: new Set(wantUpdate.keys()) };

  for await (const c of classifyGroups(deps, connection, settings, gateway, { only })) {
    const ext = c.row?.externalId;
    try {
      if ((c.list === 'new' || c.list === 'readOnly') && wantNew.has(c.group.id)) {
        done.new.add(c.group.id);
        if (c.list === 'readOnly') {
          results.push({
            list: 'new',
            objectId: c.group.id,
            result: 'skipped',
            detail: `Not imported: the group is read-only. ${c.entry.reason}`,
          });
          continue;
        }
        const chosen = wantNew.get(c.group.id)!.externalId;
        const externalId = chosen ?? defaultExternalId(settings, c.group);
        results.push({
          list: 'new',
          objectId: c.group.id,
          externalId,
          ...(await importGroup(deps, connection, settings, gateway, c.group, externalId)),
        });
      } else if (c.list === 'update' && ext && wantUpdate.has(ext)) {
        done.update.add(ext);
        const properties = c.entry.differences!.map((d) => d.property).join(', ');
        if (wantUpdate.get(ext) === 'directory') {
          const reason = 'import: update Microsoft 365 from the directory';
          const message = reapplyStoredState(connection.id, ext, reason, 'group');
          await deps.queue.enqueue(message);
          results.push({
            list: 'update',
            externalId: ext,
            objectId: c.group.id,
            result: 'enqueued',
            detail: `Microsoft 365 will be updated: ${properties}`,
            operationId: message.operationId,
          });
        } else {
          const membersDiffer = c.entry.differences!.some((d) => d.property === 'members');
          const { skipped, detail, ...taken } = await takeFromMicrosoft365(
            deps,
            connection,
            settings,
            gateway,
            c.row!,
            c.group,
            membersDiffer,
          );
          results.push({
            list: 'update',
            externalId: ext,
            objectId: c.group.id,
            ...taken,
            detail: detail ?? `The directory now has Microsoft 365's ${properties}${notImportedDetail(skipped)}`,
          });
        }
      }
    } catch (error) {
      if (!isAppError(error) || error.kind === 'transient' || error.kind === 'throttled') throw error;
      results.push({
        list: c.list,
        objectId: c.group.id,
        ...(ext ? { externalId: ext } : {}),
        result: 'failed',
        detail: error.message,
      });
    }
  }
  // Selected, but not (or no longer) in that list: say so instead of silently doing nothing.
  for (const id of wantNew.keys())
    if (!done.new.has(id))
      results.push({
        list: 'new',
        objectId: id,
        result: 'skipped',
        detail: 'Not in the new list (any more): nothing done',
      });
  for (const id of wantUpdate.keys())
    if (!done.update.has(id))
      results.push({
        list: 'update',
        externalId: id,
        result: 'skipped',
        detail: 'Not in the update list (any more): nothing done',
      });
  return { objectType: 'group' as const, results };
}

/** The first group matching rule's value when it can be an externalId, else the object id. */
function defaultExternalId(settings: SyncSettings, group: GraphGroup): string {
  const value = group[settings.groupMatchingRules[0]!];
  return typeof value === 'string' && externalIdSchema.safeParse(value).success ? value : group.id;
}

/** A directory group for a group nobody had: linked, in sync, from the group's values and linked members. */
async function importGroup(
  deps: ApplyDeps,
  connection: Connection,
  settings: SyncSettings,
  gateway: TenantGateway,
  group: GraphGroup,
  externalId: string,
): Promise<Omit<GroupImportOutcome, 'list' | 'objectId' | 'externalId'>> {
  if (await deps.groups.get(connection.id, externalId))
    return { result: 'failed', detail: `The directory already has a group ${externalId}: choose another externalId` };
  const members = await membersFromMicrosoft365(deps, connection.id, settings, gateway, group.id);
  const attributes = {
    ...attributesFromGroup(groupMappingOf(connection).mapping ?? DEFAULT_GROUP_MAPPING, group),
    kind: kindOf(group),
    members: members.users,
    groups: members.groups,
  };
  const { problems } = groupDesired(attributes, groupMappingOf(connection));
  if (problems.length > 0) return { result: 'failed', detail: `Not imported: ${problemsOf(problems)}` };
  const refusal = await claimAccountLink({ ...deps, users: deps.groups }, ownerOf(connection, externalId), group.id);
  if (refusal) return { result: 'failed', detail: `Not imported: ${groupRefusal(refusal)}` };
  const now = deps.clock.now().toISOString();
  // Version 0: whatever the source later sends (version ≥ 1) supersedes what was imported.
  const desired: DesiredState = {
    profile: { version: 0, attributes },
    lifecycle: { version: 0, state: 'active', explicit: false },
  };
  await deps.groups.save({
    connectionId: connection.id,
    externalId,
    desired,
    appliedVersion: 0,
    appliedDesired: { profile: 0, lifecycle: 0 },
    objectId: group.id,
    claimedObjectId: group.id,
    status: 'applied',
    statusReason: 'Imported from Microsoft 365',
    ownedLicenses: [],
    // Its members were not added by this connection: additive membership never removes them.
    ownedMembers: [],
    pending: [],
    createdAt: now,
    updatedAt: now,
  });
  return {
    result: 'imported',
    detail: `Imported and linked with ${members.users.length} member(s)${members.groups.length ? ` and ${members.groups.length} nested group(s)` : ''}${notImportedDetail(members.notImported.length)}`,
    ...notImported(members.notImported),
  };
}

/** The directory group takes Microsoft 365's properties, and its members when they differ (versions kept). */
async function takeFromMicrosoft365(
  deps: ApplyDeps,
  connection: Connection,
  settings: SyncSettings,
  gateway: TenantGateway,
  row: UserState,
  group: GraphGroup,
  membersDiffer: boolean,
): Promise<Pick<GroupImportOutcome, 'result' | 'notImported'> & { detail?: string; skipped: number }> {
  const attributes: Record<string, unknown> = {
    ...row.desired!.profile!.attributes,
    ...attributesFromGroup(groupMappingOf(connection).mapping ?? DEFAULT_GROUP_MAPPING, group),
  };
  if (group.description === null || group.description === undefined || group.description === '')
    delete attributes.description;
  let skippedMembers: { objectId: string; reason: string }[] = [];
  if (membersDiffer) {
    const members = await membersFromMicrosoft365(deps, connection.id, settings, gateway, group.id);
    attributes.members = members.users;
    // flatten: Microsoft 365 holds the flattened members, so the directory's nested groups give way to them.
    attributes.groups = members.groups;
    skippedMembers = members.notImported;
  }
  const { problems } = groupDesired(attributes, groupMappingOf(connection));
  if (problems.length > 0)
    return { result: 'failed', detail: `Not taken: ${problemsOf(problems)}`, skipped: skippedMembers.length };
  const linking = row.objectId !== group.id;
  if (linking) {
    // Matched, not linked yet: linking it is adopting it (the claim every connection to the tenant checks).
    const refusal = await claimAccountLink(
      { ...deps, users: deps.groups },
      ownerOf(connection, row.externalId),
      group.id,
    );
    if (refusal)
      return { result: 'failed', detail: `Not taken: ${groupRefusal(refusal)}`, skipped: skippedMembers.length };
  }
  // The ETag of the read the lists were built from: a change received meanwhile is not overwritten.
  await deps.groups.save({
    ...row,
    desired: { ...row.desired, profile: { ...row.desired!.profile!, attributes } },
    ...(linking ? { objectId: group.id, claimedObjectId: group.id } : {}),
    updatedAt: deps.clock.now().toISOString(),
  });
  return { result: 'directory-updated', ...notImported(skippedMembers), skipped: skippedMembers.length };
}

const problemsOf = (problems: { field: string; message: string }[]) =>
  problems.map((p) => `${p.field}: ${p.message}`).join('; ');
const groupRefusal = (refusal: string) => refusal.replace('directory user', 'directory group');

const ownerOf = (connection: Connection, externalId: string) => ({
  tenantId: connection.tenantId,
  connectionId: connection.id,
  externalId,
});

/** The group's properties as directory group attributes. */

/**
 * The group's members as the directory names them: linked users (members), linked directory groups (nested groups,
 * with nestedGroups nest); every other member is not imported, with the reason.
 */
async function membersFromMicrosoft365(
  deps: ApplyDeps,
  connectionId: string,
  settings: SyncSettings,
  gateway: TenantGateway,
  groupId: string,
) {
  const ids = await gateway.groups.memberIds(groupId);
  const linked = await linkedObjects(deps, connectionId, ids);
  const users: string[] = [];
  const groups: string[] = [];
  const skipped: { objectId: string; reason: string }[] = [];
  for (const objectId of ids) {
    const found = linked.get(objectId);
    if (!found) skipped.push({ objectId, reason: 'not a linked user (or group) of this connection' });
    else if (found.row.desired?.lifecycle?.state === 'removed')
      skipped.push({ objectId, reason: `${found.objectType} ${found.row.externalId} is removed in the directory` });
    else if (found.objectType === 'user') users.push(found.row.externalId);
    else if (settings.nestedGroups === 'nest') groups.push(found.row.externalId);
    else
      skipped.push({
        objectId,
        reason: `group ${found.row.externalId} is nested, and nestedGroups is flatten: its members are direct members`,
      });
  }
  return { users, groups, notImported: skipped };
}

const notImported = (skipped: { objectId: string; reason: string }[]) =>
  skipped.length ? { notImported: skipped.slice(0, NAMED_NOT_IMPORTED) } : {};
const notImportedDetail = (n: number) => (n ? `; ${n} member(s) not imported (see notImported)` : '');
