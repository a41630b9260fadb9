// /groups: group-list, group-post-groups (with members@odata.bind / owners@odata.bind), group-get, group-update
// (members@odata.bind), group-delete, group-list-members, group-list-transitivemembers, group-post-members ($ref),
// group-delete-members, group-list-owners, group-post-owners, group-delete-owners, group-assignlicense.
// - At most 20 references bound in one request ("a maximum of 20 relationships, such as owners and members, can be
//   added as part of group creation"; group-post-members: "up to 20 members can be added in a single request").
// - Members (groups-allowed-member-types): users anywhere; security groups nest in security groups; no group is a
//   member of a Microsoft 365 group and a Microsoft 365 group is a member of nothing.
// - Mail-enabled security groups and distribution groups are read-only through Graph (groups-overview): creating one
//   is refused, member changes answer 403 (Microsoft's support article "Troubleshoot 403 error when adding a user to
//   a group"), property updates 400.
// - Replication (group-post-members, group-update notes): right after a group is created, adding members or owners
//   to it — or adding objects just created — answers 400 "The source resource object or one of the objects being
//   referenced do not exist." until the directory replicas catch up (the `replicationDelayMs` setting).
// - Group-based licensing is applied by the directory in the background (group-assignlicense answers 202); members
//   get the group's licences `groupLicenseDelayMs` later (state.ts processLicenseWork).
// (A user's memberOf: directory-roles.ts.)
import { randomUUID } from 'node:crypto';
import { propertyType, validateEntityBody } from '../graph-schema/validate-body.js';
import { completeGroupData, isDistributionGroup, isReadOnlyMailGroup, isUnified } from '../group-defaults.js';
import type { GroupRecord, TenantState, UserRecord } from '../state.js';
import { badRequest, GraphError, insufficientPrivileges, resourceNotFound } from './errors.js';
import { directoryObjectView, GROUP_TYPE, groupData, groupView } from './group-view.js';
import { assignLicenseRequest } from './licenses.js';
import {
  contextUrl,
  decodeSkipToken,
  encodeSkipToken,
  listPage,
  nextLink,
  parseFilter,
  parseSelect,
  parseTop,
  rejectUnsupportedOptions,
} from './odata.js';
import { PERMISSIONS } from './permissions.js';
import type { GraphCall, GraphResult, GraphRoute } from './types.js';
import { USER_TYPE } from './user-view.js';

const REQUIRED_ON_CREATE = ['displayName', 'mailEnabled', 'mailNickname', 'securityEnabled'] as const;
/** group resource: the properties documented as supporting $filter by default (eq at least). */
const FILTERABLE_GROUP_PROPERTIES = new Set([
  'id',
  'assignedLicenses',
  'classification',
  'createdDateTime',
  'description',
  'displayName',
  'expirationDateTime',
  'groupTypes',
  'isAssignableToRole',
  'mail',
  'mailEnabled',
  'mailNickname',
  'membershipRule',
  'onPremisesSyncEnabled',
  'preferredLanguage',
  'proxyAddresses',
  'renewedDateTime',
  'securityEnabled',
]);
/** group-update / group-post-members / group-post-groups: at most 20 references bound in one request. */
export const MAX_MEMBERS_PER_REQUEST = 20;
/** group resource, owners: "Limited to 100 owners." */
export const MAX_OWNERS = 100;
/** group resource, displayName / mailNickname: maximum lengths. */
const MAX_DISPLAY_NAME = 256;
const MAX_MAIL_NICKNAME = 64;
/** mailNickname: ASCII 0–127 except @ () \ [] " ; : <> , and space (group-post-groups, "Request body"). */
const MAIL_NICKNAME = /^[\x21-\x7e]+$/;
const MAIL_NICKNAME_FORBIDDEN = /[@()\\[\]";:<>,\s]/;
const MEMBER_TYPES = [USER_TYPE, GROUP_TYPE] as const;

type Relation = 'members' | 'owners';
type DirectoryObject = { type: 'user'; record: UserRecord } | { type: 'group'; record: GroupRecord };

const alreadyExists = (relation: Relation) =>
  badRequest(`One or more added object references already exist for the following modified properties: '${relation}'.`);
/** group-post-groups with mailEnabled and no "Unified" (community-reported wording; docs/graph-behaviour.md). */
const mailEnabledWritesRefused = () =>
  badRequest(
    'The service does not currently support writes of mail-enabled groups. Please ensure that the mail-enablement property is unset and the security-enablement property is set.',
  );
/** Updating a mail-enabled security group or distribution group (community-reported wording). */
const readOnlyGroupUpdate = () => badRequest('Cannot Update a mail-enabled security groups and or distribution list.');
/** group-post-members / group-update: the documented answer while a new object is replicating. */
const notReplicatedYet = () =>
  badRequest('The source resource object or one of the objects being referenced do not exist.');

const hasProperty = (typeName: string, prop: string) => propertyType(typeName, prop) !== undefined;

function requireGroup(tenant: TenantState, id: string): GroupRecord {
  const group = tenant.groups.get(id);
  if (!group) throw resourceNotFound(id);
  return group;
}

/** When group-based licensing work caused by this request is done (the `groupLicenseDelayMs` setting). */
const licenseDueAt = (call: GraphCall) => call.now + call.ctx.settings.groupLicenseDelayMs;

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

const invalidProperty = (prop: string) =>
  badRequest(`Invalid value specified for property '${prop}' of resource 'Group'.`, [
    { code: 'InvalidValue', target: prop },
  ]);

/** The documented limits of displayName and mailNickname (group resource, group-post-groups). */
function checkNames(body: Record<string, unknown>): void {
  if (typeof body.displayName === 'string' && (body.displayName.length > MAX_DISPLAY_NAME || !body.displayName.trim()))
    throw invalidProperty('displayName');
  const nick = body.mailNickname;
  if (
    typeof nick === 'string' &&
    (nick.length > MAX_MAIL_NICKNAME || !MAIL_NICKNAME.test(nick) || MAIL_NICKNAME_FORBIDDEN.test(nick))
  )
    throw invalidProperty('mailNickname');
}

function bindList(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** What may join `target` (groups-allowed-member-types); undefined when allowed. */
function memberRefusal(target: { id: string; data: Record<string, unknown> }, member: DirectoryObject) {
  if (member.type === 'user') return undefined;
  if (member.record.id === target.id) return badRequest('A group cannot be a member of itself.');
  // Observed wording for Unified into Unified (microsoft-graph-docs issue 11629); the others are by analogy.
  if (isUnified(target.data))
    return badRequest(
      isUnified(member.record.data)
        ? 'Unified Groups cannot be added to Unified Groups.'
        : 'Security groups cannot be added to Unified Groups.',
    );
  if (isUnified(member.record.data)) return badRequest('Unified Groups cannot be added to security groups.');
  return undefined;
}

/**
 * Resolves and checks every reference before anything changes: one bad entry fails the whole request (group-update:
 * "If an error condition exists in the request body, no members are added").
 */
function resolveReferences(
  call: GraphCall,
  target: { id: string; data: Record<string, unknown>; members: Set<string>; owners: Set<string> },
  relation: Relation,
  refs: unknown[],
): DirectoryObject[] {
  const ids = refs.map(referencedId);
  const existing = relation === 'members' ? target.members : target.owners;
  if (new Set(ids).size !== ids.length || ids.some((id) => existing.has(id))) throw alreadyExists(relation);
  if (relation === 'owners' && existing.size + ids.length > MAX_OWNERS)
    throw badRequest(`A group can have at most ${MAX_OWNERS} owners.`);
  return ids.map((id) => {
    const object = call.tenant.directoryObject(id);
    if (!object) throw resourceNotFound(id);
    if (object.record.visibleAt > call.now) throw notReplicatedYet();
    if (relation === 'owners' && object.type !== 'user')
      throw badRequest(`Only users can be added as owners of a group; '${id}' is a group.`);
    const refusal = relation === 'members' ? memberRefusal(target, object) : undefined;
    if (refusal) throw refusal;
    return object;
  });
}

function checkBindCount(memberRefs: unknown[], ownerRefs: unknown[]): void {
  if (memberRefs.length + ownerRefs.length > MAX_MEMBERS_PER_REQUEST)
    throw badRequest(
      `A maximum of ${MAX_MEMBERS_PER_REQUEST} members and owners can be added in a single request (members@odata.bind and owners@odata.bind together).`,
    );
}

function listGroups(call: GraphCall): GraphResult {
  rejectUnsupportedOptions(call);
  const top = parseTop(call.query);
  const select = parseSelect(call.query, GROUP_TYPE);
  const clauses = parseFilter(call.query, GROUP_TYPE, FILTERABLE_GROUP_PROPERTIES);
  const computed = clauses.some((c) => c.property === 'assignedLicenses');
  const { items, next } = listPage(
    call,
    call.tenant.groups,
    clauses,
    top,
    computed ? (g) => groupData(call.tenant, g, false) : undefined,
  );
  const body: Record<string, unknown> = {
    '@odata.context': contextUrl(call, select ? `groups(${select.join(',')})` : 'groups'),
  };
  if (next) body['@odata.nextLink'] = next;
  body.value = items.map((g) => groupView(call.tenant, g, select));
  return { status: 200, body };
}

function createGroup(call: GraphCall): GraphResult {
  const { tenant } = call;
  const body = validateOrThrow(call.body, 'create');
  for (const prop of REQUIRED_ON_CREATE) {
    if (body[prop] === undefined || body[prop] === null || body[prop] === '') throw invalidProperty(prop);
  }
  if (isReadOnlyMailGroup(body)) throw mailEnabledWritesRefused();
  checkNames(body);
  const { 'members@odata.bind': memberBind, 'owners@odata.bind': ownerBind, ...props } = body;
  const memberRefs = bindList(memberBind);
  const ownerRefs = bindList(ownerBind);
  checkBindCount(memberRefs, ownerRefs);
  const id = randomUUID();
  const draft = { id, data: props, members: new Set<string>(), owners: new Set<string>() };
  const members = resolveReferences(call, draft, 'members', memberRefs);
  const owners = resolveReferences(call, draft, 'owners', ownerRefs);
  const group = tenant.newGroup(
    completeGroupData(tenant, props, id, new Date(call.now).toISOString()),
    call.now + call.ctx.settings.replicationDelayMs,
    id,
  );
  for (const member of members) tenant.addMember(group, member.record, licenseDueAt(call));
  for (const owner of owners) tenant.addOwner(group, owner.record as UserRecord);
  return {
    status: 201,
    body: { '@odata.context': contextUrl(call, 'groups/$entity'), ...groupView(tenant, group, undefined) },
  };
}

function getGroup(call: GraphCall, [id]: string[]): GraphResult {
  const select = parseSelect(call.query, GROUP_TYPE);
  return {
    status: 200,
    body: {
      '@odata.context': contextUrl(call, 'groups/$entity'),
      ...groupView(call.tenant, requireGroup(call.tenant, id!), select),
    },
  };
}

function updateGroup(call: GraphCall, [id]: string[]): GraphResult {
  const { tenant } = call;
  const group = requireGroup(tenant, id!);
  const body = validateOrThrow(call.body, 'update');
  const { 'members@odata.bind': memberBind, 'owners@odata.bind': ownerBind, ...props } = body;
  const memberRefs = bindList(memberBind);
  const ownerRefs = bindList(ownerBind);
  if (isReadOnlyMailGroup(group.data)) {
    if (memberRefs.length + ownerRefs.length > 0) throw insufficientPrivileges();
    throw readOnlyGroupUpdate();
  }
  if (props.mailEnabled === true && !isUnified({ ...group.data, ...props })) throw mailEnabledWritesRefused();
  checkNames(props);
  checkBindCount(memberRefs, ownerRefs);
  if (memberRefs.length + ownerRefs.length > 0 && group.visibleAt > call.now) throw notReplicatedYet();
  const members = resolveReferences(call, group, 'members', memberRefs);
  const owners = resolveReferences(call, group, 'owners', ownerRefs);
  tenant.groups.update(group, props);
  for (const member of members) tenant.addMember(group, member.record, licenseDueAt(call));
  for (const owner of owners) tenant.addOwner(group, owner.record as UserRecord);
  tenant.recordChange('groups', group.id);
  return { status: 204 };
}

function deleteGroup(call: GraphCall, [id]: string[]): GraphResult {
  const { tenant } = call;
  const group = requireGroup(tenant, id!);
  // "It isn't possible to delete a group with an active license assigned" (licensing-group-advanced); the wording
  // of Graph's refusal is not documented.
  if (group.licenses.length > 0)
    throw badRequest(
      'The group has licenses assigned: remove its licenses (assignLicense removeLicenses) before deleting it.',
    );
  tenant.deleteGroup(group, call.now, !isDistributionGroup(group.data));
  return { status: 204 };
}

/** Members, owners or transitive members: users and groups in creation order, paged by a cursor (≤ 999 a page). */
function listDirectoryObjects(call: GraphCall, ids: Iterable<string>): GraphResult {
  const top = parseTop(call.query);
  const select = parseSelect(call.query, MEMBER_TYPES);
  const afterSeq = decodeSkipToken(call.query);
  const objects = [...ids]
    .map((m) => call.tenant.directoryObject(m))
    .filter((o) => o !== undefined)
    .sort((a, b) => a.record.seq - b.record.seq)
    .filter((o) => o.record.seq > afterSeq);
  const page = objects.slice(0, top);
  const body: Record<string, unknown> = { '@odata.context': contextUrl(call, 'directoryObjects') };
  if (objects.length > top)
    body['@odata.nextLink'] = nextLink(call, encodeSkipToken(page[page.length - 1]!.record.seq));
  body.value = page.map((o) => directoryObjectView(call.tenant, o, select, hasProperty));
  return { status: 200, body };
}

function listMembers(call: GraphCall, [id]: string[]): GraphResult {
  return listDirectoryObjects(call, requireGroup(call.tenant, id!).members);
}

function listOwners(call: GraphCall, [id]: string[]): GraphResult {
  return listDirectoryObjects(call, requireGroup(call.tenant, id!).owners);
}

/** group-list-transitivemembers: members of nested groups too (each object once). */
function listTransitiveMembers(call: GraphCall, [id]: string[]): GraphResult {
  const seen = new Set<string>();
  const queue = [...requireGroup(call.tenant, id!).members];
  while (queue.length > 0) {
    const memberId = queue.shift()!;
    if (seen.has(memberId)) continue;
    seen.add(memberId);
    const nested = call.tenant.groups.get(memberId);
    if (nested) queue.push(...nested.members);
  }
  return listDirectoryObjects(call, seen);
}

function referenceBody(call: GraphCall): unknown {
  const ref = (call.body as Record<string, unknown> | undefined)?.['@odata.id'];
  if (ref === undefined) throw badRequest("The request body must contain '@odata.id'.");
  return ref;
}

/** Member and owner changes of a group Graph manages: not a mail-enabled one, and replicated. */
function writableLinks(call: GraphCall, id: string): GroupRecord {
  const group = requireGroup(call.tenant, id);
  if (isReadOnlyMailGroup(group.data)) throw insufficientPrivileges();
  return group;
}

function addMemberRef(call: GraphCall, [id]: string[]): GraphResult {
  const group = writableLinks(call, id!);
  const ref = referenceBody(call);
  if (group.visibleAt > call.now) throw notReplicatedYet();
  const [member] = resolveReferences(call, group, 'members', [ref]);
  call.tenant.addMember(group, member!.record, licenseDueAt(call));
  return { status: 204 };
}

function removeMemberRef(call: GraphCall, [id, memberId]: string[]): GraphResult {
  const group = writableLinks(call, id!);
  const member = memberId!.toLowerCase();
  if (!group.members.has(member)) throw resourceNotFound(member);
  call.tenant.removeMember(group, member, licenseDueAt(call));
  return { status: 204 };
}

function addOwnerRef(call: GraphCall, [id]: string[]): GraphResult {
  const group = writableLinks(call, id!);
  const ref = referenceBody(call);
  if (group.visibleAt > call.now) throw notReplicatedYet();
  const [owner] = resolveReferences(call, group, 'owners', [ref]);
  call.tenant.addOwner(group, owner!.record as UserRecord);
  return { status: 204 };
}

function removeOwnerRef(call: GraphCall, [id, ownerId]: string[]): GraphResult {
  const group = writableLinks(call, id!);
  const owner = ownerId!.toLowerCase();
  if (!group.owners.has(owner)) throw resourceNotFound(owner);
  call.tenant.removeOwner(group, owner);
  return { status: 204 };
}

/**
 * group-assignlicense: 202 Accepted with the group; the licences reach the members in the background. Group-based
 * licensing works with security groups and Microsoft 365 groups with securityEnabled (licensing-group-advanced);
 * a member without usageLocation takes the tenant's (no error, unlike user-assignlicense).
 */
function assignGroupLicense(call: GraphCall, [id]: string[]): GraphResult {
  const { tenant } = call;
  const group = requireGroup(tenant, id!);
  const { add, remove } = assignLicenseRequest(call, GROUP_TYPE);
  if (group.data.securityEnabled !== true)
    throw badRequest('Group-based licensing needs a security-enabled group (securityEnabled true).');
  for (const skuId of remove) {
    if (!group.licenses.some((l) => l.skuId === skuId))
      throw badRequest(`Group does not have a corresponding license for ${skuId}.`);
  }
  const kept = group.licenses.filter((l) => !remove.includes(l.skuId) && !add.some((a) => a.skuId === l.skuId));
  group.licenses = [...kept, ...add];
  // Every direct user member is (re)processed; members of nested groups inherit nothing (licensing-group-advanced).
  for (const memberId of group.members)
    if (tenant.users.get(memberId)) tenant.scheduleLicenseWork(group.id, memberId, licenseDueAt(call));
  tenant.recordChange('groups', group.id);
  return {
    status: 202,
    headers: {
      location: `${call.ctx.baseUrl}/v2/${tenant.id}/directoryObjects/${group.id}/Microsoft.DirectoryServices.Group`,
    },
    body: { '@odata.context': contextUrl(call, 'groups/$entity'), ...groupView(tenant, group, undefined) },
  };
}

const GROUP = String.raw`/groups/([0-9a-fA-F-]{36})`;
const GUID = '([0-9a-fA-F-]{36})';

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
    method: 'GET',
    pattern: new RegExp(`^${GROUP}/transitiveMembers$`),
    permissions: PERMISSIONS.groupsRead,
    baseCost: 3,
    handle: listTransitiveMembers,
  },
  {
    method: 'POST',
    pattern: new RegExp(`^${GROUP}/members/\\$ref$`),
    permissions: PERMISSIONS.membersWrite,
    handle: addMemberRef,
  },
  {
    method: 'DELETE',
    pattern: new RegExp(`^${GROUP}/members/${GUID}/\\$ref$`),
    permissions: PERMISSIONS.membersWrite,
    handle: removeMemberRef,
  },
  { method: 'GET', pattern: new RegExp(`^${GROUP}/owners$`), permissions: PERMISSIONS.groupsRead, handle: listOwners },
  {
    method: 'POST',
    pattern: new RegExp(`^${GROUP}/owners/\\$ref$`),
    permissions: PERMISSIONS.groupsWrite,
    handle: addOwnerRef,
  },
  {
    method: 'DELETE',
    pattern: new RegExp(`^${GROUP}/owners/${GUID}/\\$ref$`),
    permissions: PERMISSIONS.groupsWrite,
    handle: removeOwnerRef,
  },
  {
    method: 'POST',
    pattern: new RegExp(`^${GROUP}/assignLicense$`),
    permissions: PERMISSIONS.groupLicenseWrite,
    handle: assignGroupLicense,
  },
  { method: 'GET', pattern: new RegExp(`^${GROUP}$`), permissions: PERMISSIONS.groupsRead, handle: getGroup },
  { method: 'PATCH', pattern: new RegExp(`^${GROUP}$`), permissions: PERMISSIONS.groupsWrite, handle: updateGroup },
  { method: 'DELETE', pattern: new RegExp(`^${GROUP}$`), permissions: PERMISSIONS.groupsWrite, handle: deleteGroup },
];
