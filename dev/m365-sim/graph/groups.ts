// /groups: group-list, group-post-groups, group-get, group-update (incl. `members@odata.bind`, up to 20
// per request), group-delete, group-list-members, group-post-members ($ref), group-delete-members. (A user's memberOf: directory-roles.ts.)
import { validateEntityBody } from '../graph-schema/validate-body.js';
import type { GroupRecord, TenantState } from '../state.js';
import { badRequest, GraphError, resourceNotFound } from './errors.js';
import {
  contextUrl,
  decodeSkipToken,
  encodeSkipToken,
  listPage,
  nextLink,
  parseFilter,
  parseSelect,
  parseTop,
  project,
  rejectUnsupportedOptions,
} from './odata.js';
import { PERMISSIONS } from './permissions.js';
import type { GraphCall, GraphResult, GraphRoute } from './types.js';
import { USER_TYPE, userView } from './user-view.js';

export const GROUP_TYPE = 'microsoft.graph.group';
const REQUIRED_ON_CREATE = ['displayName', 'mailEnabled', 'mailNickname', 'securityEnabled'] as const;
const FILTERABLE_GROUP_PROPERTIES = new Set([
  'id',
  'displayName',
  'mailNickname',
  'mail',
  'mailEnabled',
  'securityEnabled',
  'groupTypes',
  'onPremisesSyncEnabled',
]);
/** group-update / group-post-members: at most 20 members added in one request. */
export const MAX_MEMBERS_PER_REQUEST = 20;

const alreadyMember = () =>
  badRequest("One or more added object references already exist for the following modified properties: 'members'.");

export function groupData(group: GroupRecord): Record<string, unknown> {
  return { ...group.data, assignedLicenses: group.licenses };
}

export function groupView(group: GroupRecord, select: string[] | undefined): Record<string, unknown> {
  if (select) return project(GROUP_TYPE, groupData(group), select);
  const { assignedLicenses: _hiddenByDefault, ...rest } = groupData(group);
  return rest;
}

function requireGroup(tenant: TenantState, id: string): GroupRecord {
  const group = tenant.groups.get(id);
  if (!group) throw resourceNotFound(id);
  return group;
}

/**
 * A directory object reference as the docs write it (`https://graph.microsoft.com/v1.0/directoryObjects/{id}`),
 * on whatever host: the id is what matters, so clients pointed at any Graph endpoint can use the documented form.
 */
export function referencedId(ref: unknown): string {
  if (typeof ref !== 'string') throw badRequest('Invalid object reference: a URL string is expected.');
  const m = /\/(?:directoryObjects|users|groups)\/([0-9a-fA-F-]{36})\/?$/.exec(ref) ?? /^([0-9a-fA-F-]{36})$/.exec(ref);
  if (!m) throw badRequest(`Invalid object identifier '${ref}'.`);
  return m[1]!.toLowerCase();
}

function validateOrThrow(body: unknown, mode: 'create' | 'update'): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badRequest('Empty Payload. JSON content expected.');
  const error = validateEntityBody(GROUP_TYPE, body, mode);
  if (error)
    throw new GraphError(
      400,
      error.code,
      error.message,
      error.target ? [{ code: 'InvalidValue', target: error.target }] : undefined,
    );
  return body as Record<string, unknown>;
}

/** Resolves and checks all references before changing anything: one bad entry fails the whole request. */
function resolveNewMembers(tenant: TenantState, group: GroupRecord, refs: unknown[]) {
  if (refs.length > MAX_MEMBERS_PER_REQUEST)
    throw badRequest(`A maximum of ${MAX_MEMBERS_PER_REQUEST} members can be added in a single request.`);
  const ids = refs.map(referencedId);
  if (new Set(ids).size !== ids.length || ids.some((id) => group.members.has(id))) throw alreadyMember();
  return ids.map((id) => {
    const user = tenant.users.get(id);
    if (!user) throw resourceNotFound(id);
    return user;
  });
}

function listGroups(call: GraphCall): GraphResult {
  rejectUnsupportedOptions(call);
  const top = parseTop(call.query);
  const select = parseSelect(call.query, GROUP_TYPE);
  const clauses = parseFilter(call.query, GROUP_TYPE, FILTERABLE_GROUP_PROPERTIES);
  const { items, next } = listPage(call, call.tenant.groups, clauses, top);
  const body: Record<string, unknown> = { '@odata.context': contextUrl(call, 'groups') };
  if (next) body['@odata.nextLink'] = next;
  body.value = items.map((g) => groupView(g, select));
  return { status: 200, body };
}

function createGroup(call: GraphCall): GraphResult {
  const body = validateOrThrow(call.body, 'create');
  for (const prop of REQUIRED_ON_CREATE) {
    if (body[prop] === undefined || body[prop] === null || body[prop] === '') {
      throw badRequest(`Invalid value specified for property '${prop}' of resource 'Group'.`, [
        { code: 'InvalidValue', target: prop },
      ]);
    }
  }
  const { 'members@odata.bind': memberRefs, 'owners@odata.bind': _owners, ...props } = body;
  const group = call.tenant.newGroup(
    { groupTypes: [], createdDateTime: new Date(call.now).toISOString(), ...props },
    call.now + call.ctx.settings.replicationDelayMs,
  );
  if (Array.isArray(memberRefs)) {
    for (const user of resolveNewMembers(call.tenant, group, memberRefs)) call.tenant.addMember(group, user, call.now);
  }
  return {
    status: 201,
    body: { '@odata.context': contextUrl(call, 'groups/$entity'), ...groupView(group, undefined) },
  };
}

function getGroup(call: GraphCall, [id]: string[]): GraphResult {
  const select = parseSelect(call.query, GROUP_TYPE);
  return {
    status: 200,
    body: {
      '@odata.context': contextUrl(call, 'groups/$entity'),
      ...groupView(requireGroup(call.tenant, id!), select),
    },
  };
}

function updateGroup(call: GraphCall, [id]: string[]): GraphResult {
  const group = requireGroup(call.tenant, id!);
  const body = validateOrThrow(call.body, 'update');
  const { 'members@odata.bind': memberRefs, ...props } = body;
  const newMembers =
    memberRefs === undefined
      ? []
      : resolveNewMembers(call.tenant, group, Array.isArray(memberRefs) ? memberRefs : [memberRefs]);
  call.tenant.groups.update(group, props);
  for (const user of newMembers) {
    call.tenant.addMember(group, user, call.now);
    call.tenant.recordChange('users', user.id);
  }
  call.tenant.recordChange('groups', group.id);
  return { status: 204 };
}

function deleteGroup(call: GraphCall, [id]: string[]): GraphResult {
  const { tenant } = call;
  const group = requireGroup(tenant, id!);
  for (const memberId of [...group.members]) tenant.removeMember(group, memberId);
  tenant.groups.remove(group.id);
  // Only Microsoft 365 groups are soft-deleted (group-delete); security groups are gone at once.
  if (Array.isArray(group.data.groupTypes) && group.data.groupTypes.includes('Unified'))
    tenant.deletedItems.set(group.id, { kind: 'group', record: group, deletedAt: call.now });
  tenant.recordChange('groups', group.id);
  return { status: 204 };
}

function listMembers(call: GraphCall, [id]: string[]): GraphResult {
  const group = requireGroup(call.tenant, id!);
  const top = parseTop(call.query);
  const select = parseSelect(call.query, USER_TYPE);
  const afterSeq = decodeSkipToken(call.query);
  // Membership order is insertion order; the cursor is the member user's seq.
  const members = [...group.members]
    .map((m) => call.tenant.users.get(m))
    .filter((u) => u !== undefined)
    .sort((a, b) => a.seq - b.seq)
    .filter((u) => u.seq > afterSeq);
  const page = members.slice(0, top);
  const body: Record<string, unknown> = { '@odata.context': contextUrl(call, 'directoryObjects') };
  if (members.length > top) body['@odata.nextLink'] = nextLink(call, encodeSkipToken(page[page.length - 1]!.seq));
  body.value = page.map((u) => ({ '@odata.type': '#microsoft.graph.user', ...userView(call.tenant, u, select) }));
  return { status: 200, body };
}

function addMemberRef(call: GraphCall, [id]: string[]): GraphResult {
  const group = requireGroup(call.tenant, id!);
  const ref = (call.body as Record<string, unknown> | undefined)?.['@odata.id'];
  if (ref === undefined) throw badRequest("The request body must contain '@odata.id'.");
  const [user] = resolveNewMembers(call.tenant, group, [ref]);
  call.tenant.addMember(group, user!, call.now);
  call.tenant.recordChange('groups', group.id);
  call.tenant.recordChange('users', user!.id);
  return { status: 204 };
}

function removeMemberRef(call: GraphCall, [id, memberId]: string[]): GraphResult {
  const group = requireGroup(call.tenant, id!);
  const member = memberId!.toLowerCase();
  if (!group.members.has(member)) throw resourceNotFound(member);
  call.tenant.removeMember(group, member);
  call.tenant.recordChange('groups', group.id);
  call.tenant.recordChange('users', member);
  return { status: 204 };
}

const GROUP = String.raw`/groups/([0-9a-fA-F-]{36})`;

export const groupRoutes: GraphRoute[] = [
  { method: 'GET', pattern: /^\/groups$/, permissions: PERMISSIONS.groupsRead, handle: listGroups },
  { method: 'POST', pattern: /^\/groups$/, permissions: PERMISSIONS.groupsWrite, handle: createGroup },
  {
    method: 'GET',
    pattern: new RegExp(`^${GROUP}/members$`),
    permissions: PERMISSIONS.groupsRead,
    baseCost: 3,
    handle: listMembers,
  },
  {
    method: 'POST',
    pattern: new RegExp(`^${GROUP}/members/\\$ref$`),
    permissions: PERMISSIONS.membersWrite,
    handle: addMemberRef,
  },
  {
    method: 'DELETE',
    pattern: new RegExp(`^${GROUP}/members/([0-9a-fA-F-]{36})/\\$ref$`),
    permissions: PERMISSIONS.membersWrite,
    handle: removeMemberRef,
  },
  { method: 'GET', pattern: new RegExp(`^${GROUP}$`), permissions: PERMISSIONS.groupsRead, handle: getGroup },
  { method: 'PATCH', pattern: new RegExp(`^${GROUP}$`), permissions: PERMISSIONS.groupsWrite, handle: updateGroup },
  { method: 'DELETE', pattern: new RegExp(`^${GROUP}$`), permissions: PERMISSIONS.groupsWrite, handle: deleteGroup },
];
