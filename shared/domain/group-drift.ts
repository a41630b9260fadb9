// The group decider (pure): what a directory group asks of its Microsoft 365 group — properties, kind, members,
// nested groups, owners — and what must change on a group read from Graph to get there. The group executor
// (provisioning/group-actions.ts) writes exactly the plan it answers. Users have theirs in drift.ts.
import type { Connection } from './connection.js';
import { externalIdSchema } from './identifiers.js';
import { mailNicknameSafe } from './mapping/expression.js';
import { applyGroupMapping, DEFAULT_GROUP_MAPPING, type GroupMapping } from './mapping/group-mapping.js';
import type { SyncSettings } from './sync-settings.js';

export const groupKinds = ['security', 'microsoft365'] as const;
export type GroupKind = (typeof groupKinds)[number];

/** A directory group as the source describes it (a group change's attributes, checked). */
export interface GroupDesired {
  displayName: string;
  description?: string;
  mailNickname: string;
  kind: GroupKind;
  /** User externalIds. */
  members: string[];
  /** Nested group externalIds. */
  groups: string[];
  /** User externalIds. */
  owners: string[];
}

/**
 * group-post-groups / group-update: at most 20 directory objects (owners and members together) bound in one request.
 */
export const MEMBERS_PER_WRITE = 20;

/** Graph's documented maximum lengths for a group (resources/group). */
const MAX = { displayName: 256, description: 1024, mailNickname: 64 } as const;
/** A group change carries at most this many references in one list (one change ≤ 128 KiB of JSON anyway). */
const MAX_REFERENCES = 5_000;

const optionalText = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v : undefined);

/** How a connection maps group properties (its group mapping, else the default) and its domain. */
export interface GroupMappingContext {
  mapping?: GroupMapping;
  domain?: string;
}

/** A connection's group mapping context: every caller of groupDesired for a connection passes this. */
export const groupMappingOf = (c: Pick<Connection, 'groupMapping' | 'domain'>): GroupMappingContext => ({
  ...(c.groupMapping ? { mapping: c.groupMapping } : {}),
  domain: c.domain,
});

/**
 * The attributes of a group change, checked: the group it asks for, or every problem (field: message). Its own
 * properties come through the connection's group mapping (default: as given; mailNickname from displayName).
 */
export function groupDesired(
  attributes: Record<string, unknown>,
  context: GroupMappingContext = {},
): {
  desired?: GroupDesired;
  problems: { field: string; message: string }[];
} {
  const problems: { field: string; message: string }[] = [];
  const mapped = applyGroupMapping(context.mapping ?? DEFAULT_GROUP_MAPPING, attributes, context.domain ?? '');
  problems.push(...mapped.errors);
  const displayName = optionalText(mapped.values.displayName);
  if (!displayName) problems.push({ field: 'displayName', message: 'a group needs a displayName' });
  else if (displayName.length > MAX.displayName)
    problems.push({ field: 'displayName', message: `at most ${MAX.displayName} characters` });
  const description = optionalText(mapped.values.description);
  if (description && description.length > MAX.description)
    problems.push({ field: 'description', message: `at most ${MAX.description} characters` });
  // Whatever the mapping gives, only what a mail alias allows is kept.
  const nickname = mailNicknameSafe(mapped.values.mailNickname ?? '');
  if (displayName && nickname === '')
    problems.push({
      field: 'mailNickname',
      message: 'the group mapping gives nothing a mail alias allows: give a mailNickname',
    });
  const kind = attributes.kind ?? 'security';
  if (!groupKinds.includes(kind as GroupKind))
    problems.push({ field: 'kind', message: `must be ${groupKinds.join(' or ')}` });
  if (attributes.mailEnabled === true && kind !== 'microsoft365')
    problems.push({
      field: 'mailEnabled',
      message:
        'mail-enabled security groups and distribution lists are read-only through Microsoft Graph: use kind microsoft365, or a security group without mail',
    });
  const refs = (field: 'members' | 'groups' | 'owners'): string[] => {
    const value = attributes[field] ?? [];
    if (!Array.isArray(value)) {
      problems.push({ field, message: 'must be a list of externalIds' });
      return [];
    }
    if (value.length > MAX_REFERENCES) problems.push({ field, message: `at most ${MAX_REFERENCES} entries` });
    const bad = value.filter((v) => !externalIdSchema.safeParse(v).success);
    if (bad.length > 0) problems.push({ field, message: `${bad.length} entr(ies) are not externalIds` });
    return [...new Set(value.filter((v): v is string => typeof v === 'string'))];
  };
  const members = refs('members');
  const groups = refs('groups');
  const owners = refs('owners');
  if (problems.length > 0 || !displayName) return { problems };
  return {
    desired: {
      displayName,
      ...(description ? { description } : {}),
      mailNickname: nickname.slice(0, MAX.mailNickname),
      kind: kind as GroupKind,
      members,
      groups,
      owners,
    },
    problems,
  };
}

/** The POST /groups body for a new group (without members: the executor adds those). */
export function groupCreateBody(d: GroupDesired): Record<string, unknown> {
  const unified = d.kind === 'microsoft365';
  return {
    displayName: d.displayName,
    ...(d.description ? { description: d.description } : {}),
    mailNickname: d.mailNickname,
    securityEnabled: !unified,
    mailEnabled: unified,
    groupTypes: unified ? ['Unified'] : [],
  };
}

/** A group as Graph returns it (the properties the decider compares). */
export interface ObservedGroup {
  id: string;
  displayName?: string | null;
  description?: string | null;
  mailNickname?: string | null;
  mailEnabled?: boolean;
  securityEnabled?: boolean;
  groupTypes?: string[];
}

/** Mail-enabled security groups and distribution lists cannot be changed through Graph (Exchange owns them). */
export const isReadOnlyGroup = (g: ObservedGroup) =>
  g.mailEnabled === true && !(g.groupTypes ?? []).includes('Unified');

/** The kind of an existing group. */
export const kindOf = (g: ObservedGroup): GroupKind =>
  (g.groupTypes ?? []).includes('Unified') ? 'microsoft365' : 'security';

/** The properties to PATCH so the group matches the directory (the kind cannot change). */
export function groupPatch(d: GroupDesired, current: ObservedGroup): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  if (current.displayName !== d.displayName) patch.displayName = d.displayName;
  if ((current.description ?? undefined) !== d.description) patch.description = d.description ?? null;
  if (current.mailNickname !== d.mailNickname) patch.mailNickname = d.mailNickname;
  return patch;
}

/**
 * The member object ids to add and to remove: add what is desired and missing; remove, in authoritative mode, every
 * member not desired, in additive mode only the members this connection added (`owned`) that are no longer desired.
 */
export function membershipPlan(
  desired: ReadonlySet<string>,
  current: ReadonlySet<string>,
  owned: ReadonlySet<string>,
  mode: SyncSettings['groupMembership'],
): { add: string[]; remove: string[] } {
  const add = [...desired].filter((id) => !current.has(id));
  const remove = [...current].filter((id) => !desired.has(id) && (mode === 'authoritative' || owned.has(id)));
  return { add, remove };
}
