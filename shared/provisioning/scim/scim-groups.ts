// SCIM /Groups onto the group object type: a group's externalId is its SCIM id, and a member's `value` is the SCIM
// id of a user (or group) of the same endpoint — which is that user's externalId — so members resolve with no
// lookup table: users become the group change's `members`, groups its nested `groups`. A member value that is
// neither is refused (400 invalidValue) before anything is stored.
import { ScimError } from '../../domain/scim/scim-error.js';
import {
  applyPatch,
  type GroupMember,
  patchOperations,
  readGroup,
  type Resource,
} from '../../domain/scim/scim-resource.js';
import type { ScimRecord } from '../ports.js';
import { pointReads } from '../references.js';
import {
  getOne,
  list,
  type ListQuery,
  remove,
  requireConnection,
  type ScimChange,
  type ScimDeps,
  type ScimRequest,
  served,
  submitOrUndo,
  write,
} from './scim-resources.js';

/**
 * Each member typed User or Group as found on this endpoint; members already known to `before` keep their type
 * without a read.
 */
async function resolveMembers(deps: ScimDeps, at: ScimRequest, resource: Resource, before?: Resource) {
  const known = new Map(((before?.members as GroupMember[] | undefined) ?? []).map((m) => [m.value, m.type] as const));
  const members = (resource.members as GroupMember[] | undefined) ?? [];
  const found = await pointReads(
    [...new Set(members.map((m) => m.value).filter((value) => !known.has(value)))],
    async (value): Promise<GroupMember['type'] | undefined> =>
      (await deps.scim.get(at.connectionId, 'user', value))
        ? 'User'
        : (await deps.scim.get(at.connectionId, 'group', value))
          ? 'Group'
          : undefined,
  );
  const typeOf = (value: string) => known.get(value) ?? found.get(value);
  const unknown = members.filter((m) => !typeOf(m.value)).map((m) => m.value);
  if (unknown.length)
    throw new ScimError(
      400,
      `members must be users or groups of this endpoint (their SCIM id); unknown: ${unknown.slice(0, 10).join(', ')}${unknown.length > 10 ? ` and ${unknown.length - 10} more` : ''}`,
      'invalidValue',
    );
  return { ...resource, members: members.map((m) => ({ ...m, type: typeOf(m.value) ?? 'User' })) };
}

function groupChange(id: string, version: number, resource: Resource): ScimChange {
  const members = (resource.members as GroupMember[]) ?? [];
  return {
    objectType: 'group',
    type: 'upsert',
    externalId: id,
    version,
    attributes: {
      displayName: String(resource.displayName),
      ...(typeof resource.externalId === 'string' ? { externalId: resource.externalId } : {}),
      members: members.filter((m) => m.type !== 'Group').map((m) => m.value),
      groups: members.filter((m) => m.type === 'Group').map((m) => m.value),
    },
  };
}

/** A group as served: members with their type and $ref. */
const show = (baseUrl: string) => (record: ScimRecord) =>
  served(record, baseUrl, {
    ...record.resource,
    members: ((record.resource.members as GroupMember[] | undefined) ?? []).map((m) => ({
      ...m,
      $ref: `${baseUrl}/${m.type === 'Group' ? 'Groups' : 'Users'}/${m.value}`,
    })),
  });

export async function createScimGroup(deps: ScimDeps, at: ScimRequest, body: unknown): Promise<Resource> {
  const connection = await requireConnection(deps, at.connectionId);
  const resource = await resolveMembers(deps, at, readGroup(body));
  const id = crypto.randomUUID();
  const now = deps.clock.now().toISOString();
  const stored = await deps.scim.create({
    connectionId: at.connectionId,
    kind: 'group',
    id,
    resource,
    version: 1,
    created: now,
    lastModified: now,
  });
  await submitOrUndo(deps, connection, [groupChange(id, 1, resource)], () => deps.scim.delete(stored));
  return show(at.baseUrl)(stored);
}

export const getScimGroup = (
  deps: ScimDeps,
  at: ScimRequest,
  id: string,
  query: Pick<ListQuery, 'attributes' | 'excludedAttributes'>,
) => getOne(deps, at, 'group', id, query, show(at.baseUrl));

export const listScimGroups = (deps: ScimDeps, at: ScimRequest, query: ListQuery) =>
  list(deps, at, 'group', query, show(at.baseUrl));

/** PUT or PATCH (members added or removed, a rename): the stored group changed. */
export async function updateScimGroup(
  deps: ScimDeps,
  at: ScimRequest,
  id: string,
  how: { replace: unknown } | { patch: unknown },
): Promise<Resource> {
  const operations = 'patch' in how ? patchOperations('group', how.patch) : undefined;
  const stored = await write(deps, at, 'group', id, async (current) => {
    const received = operations
      ? readGroup(applyPatch('group', current.resource, operations))
      : readGroup('replace' in how ? how.replace : undefined);
    const resource = await resolveMembers(deps, at, received, current.resource);
    if (JSON.stringify(resource) === JSON.stringify(current.resource)) return undefined;
    const version = current.version + 1;
    return {
      record: { ...current, resource, version, lastModified: deps.clock.now().toISOString() },
      changes: [groupChange(id, version, resource)],
    };
  });
  return show(at.baseUrl)(stored);
}

/** DELETE: the group's remove (per groupRemoveAction); 404 afterwards. */
export const deleteScimGroup = (deps: ScimDeps, at: ScimRequest, id: string) =>
  remove(deps, at, 'group', id, (current) => ({
    objectType: 'group',
    type: 'remove',
    externalId: id,
    version: current.version + 1,
  }));
