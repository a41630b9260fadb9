// The simulated directory: tenants, their app registrations, users, groups, licenses and change logs.
// Pure data + invariants (indexes, seat counting, group-inherited licenses); HTTP lives elsewhere.
import { createHash, randomUUID } from 'node:crypto';
import { DAY_MS } from './clock.js';
import { type DirectoryRecord, IndexedCollection } from './collection.js';
import { completeGroupData } from './group-defaults.js';
import type { ParsedSeed, SeedApplication, SeedTenant } from './seed.js';

export type SizeClass = 'small' | 'medium' | 'large';

export interface AppSecret {
  keyId: string;
  displayName: string | null;
  value: string;
  /** Graph exposes only the first three characters of a secret (passwordCredential.hint). */
  hint: string;
  startDateTime: number;
  endDateTime: number;
}

export interface AppRegistration {
  appId: string;
  id: string;
  displayName: string;
  secrets: AppSecret[];
  applicationPermissions: string[];
  delegatedScopes: string[];
  redirectUris: string[];
  spaRedirectUris: string[];
  identifierUris: string[];
  api: { requestedAccessTokenVersion: 1 | 2 | null; oauth2PermissionScopes: { id: string; value: string }[] };
  appRoles: { id: string; value: string; displayName: string; allowedMemberTypes: ('User' | 'Application')[] }[];
  /** App role values by the assigned user's object id (resolved from the seed's ids or userPrincipalNames). */
  appRoleAssignedTo: { principal: string; appRole: string }[];
  createdDateTime: number;
}

export interface AssignedLicense {
  skuId: string;
  disabledPlans: string[];
}

export interface GroupLicenseState {
  skuId: string;
  groupId: string;
  disabledPlans: string[];
  state: 'Active' | 'Error';
  error: 'None' | 'CountViolation';
  lastUpdatedDateTime: number;
}

export interface UserRecord extends DirectoryRecord {
  directLicenses: Map<string, AssignedLicense>;
  /** Keyed `${groupId}|${skuId}`. */
  groupLicenses: Map<string, GroupLicenseState>;
  memberOf: Set<string>;
  isPrivileged: boolean;
  /** Direct licenses remembered while the user sits in deleted items. */
  suspendedLicenses?: Map<string, AssignedLicense>;
}

/** An activated directory role (directoryRole): built-in role templates, members are users. */
export interface DirectoryRoleRecord {
  id: string;
  roleTemplateId: string;
  displayName: string;
  description: string;
  /** Member user ids; a soft-deleted member keeps its roles and regains them on restore. */
  members: Set<string>;
}

/**
 * Built-in role templates the simulator knows (Microsoft Entra built-in roles: template ids are the same in every
 * tenant). Global Administrator is always activated.
 */
export const ROLE_TEMPLATES: ReadonlyArray<Omit<DirectoryRoleRecord, 'id' | 'members'>> = [
  {
    roleTemplateId: '62e90394-69f5-4237-9190-012177145e10',
    displayName: 'Global Administrator',
    description:
      'Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.',
  },
  {
    roleTemplateId: 'fe930be7-5e62-47db-91af-98c3a49a38b1',
    displayName: 'User Administrator',
    description: 'Can manage all aspects of users and groups, including resetting passwords for limited admins.',
  },
  {
    roleTemplateId: 'e8611ab8-c189-46e8-94e1-60213ab1f814',
    displayName: 'Privileged Role Administrator',
    description:
      'Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management.',
  },
  {
    roleTemplateId: '29232cdf-9323-42fd-ade2-1d097af3e4de',
    displayName: 'Exchange Administrator',
    description: 'Can manage all aspects of the Exchange product.',
  },
  {
    roleTemplateId: '729827e3-9c14-49f7-bb1b-9608f156bbb8',
    displayName: 'Helpdesk Administrator',
    description: 'Can reset passwords for non-administrators and Helpdesk Administrators.',
  },
  {
    roleTemplateId: 'f2ef992c-3afb-46b9-b7cf-a126ee74c451',
    displayName: 'Global Reader',
    description: 'Can read everything that a Global Administrator can, but not update anything.',
  },
];

export interface GroupRecord extends DirectoryRecord {
  /** Member ids (users, or groups nested in a security group) in the order they were added. */
  members: Set<string>;
  /** Owner user ids (group resource: "Limited to 100 owners"). */
  owners: Set<string>;
  /** Groups this group is a member of (nesting). */
  memberOf: Set<string>;
  /** Group-based licensing: what members inherit (group-assignlicense). */
  licenses: AssignedLicense[];
}

/** A change of a group's members or owners, for `members@delta` (group-delta). */
export interface LinkChange {
  /** Position in `changes.groups` of the group change recorded with it. */
  at: number;
  relation: 'members' | 'owners';
  targetId: string;
  targetType: 'user' | 'group';
  removed: boolean;
}

export interface SkuState {
  skuId: string;
  skuPartNumber: string;
  prepaidUnits: { enabled: number; suspended: number; warning: number; lockedOut: number };
  externalConsumed: number;
  assigned: number;
  servicePlans: Array<{ servicePlanId: string; servicePlanName: string }>;
}

export interface DeletedItem {
  kind: 'user' | 'group';
  record: UserRecord | GroupRecord;
  deletedAt: number;
}

export type DirectoryKind = 'users' | 'groups';

/** `<relation>@delta` entries still to be served for one object whose list did not fit in a page. */
export interface DeltaCarry {
  id: string;
  entries: Record<string, Array<Record<string, unknown>>>;
}

/** What a delta round tracks: `select` (structural properties) and `links` (e.g. `members`, as `members@delta`). */
interface DeltaTracking {
  resource: DirectoryKind;
  select?: string[];
  links?: string[];
  issuedAt: number;
}

export type DeltaState =
  | (DeltaTracking & { kind: 'link'; changeIndex: number })
  | (DeltaTracking & { kind: 'initial'; afterSeq: number; endChange: number; carry?: DeltaCarry })
  | (DeltaTracking & {
      kind: 'changes';
      ids: string[];
      offset: number;
      /** The round covers changes[startChange, endChange). */
      startChange?: number;
      endChange: number;
      carry?: DeltaCarry;
    });

/** Soft-deleted users and Microsoft 365 groups stay restorable for 30 days (directory-deleteditems). */
export const DELETED_ITEM_RETENTION_MS = 30 * DAY_MS;

/** Resource-unit budget per app + tenant per 10 s, by tenant size (throttling-limits, identity and access). */
export const RU_BUDGET: Record<SizeClass, number> = { small: 3500, medium: 5000, large: 8000 };

export class TenantState {
  readonly id: string;
  readonly displayName: string;
  readonly declaredSize: SizeClass | undefined;
  readonly domains: SeedTenant['verifiedDomains'];
  readonly adminUserPrincipalName: string;
  readonly createdDateTime: number;
  readonly apps = new Map<string, AppRegistration>();
  readonly skus = new Map<string, SkuState>();
  readonly users = new IndexedCollection<UserRecord>([
    { property: 'userPrincipalName', caseInsensitive: true },
    { property: 'mail', caseInsensitive: true },
    { property: 'proxyAddresses', caseInsensitive: true },
    { property: 'employeeId', caseInsensitive: false },
    { property: 'onPremisesImmutableId', caseInsensitive: false },
  ]);
  readonly groups = new IndexedCollection<GroupRecord>([
    { property: 'mailNickname', caseInsensitive: true },
    { property: 'displayName', caseInsensitive: true },
    { property: 'mail', caseInsensitive: true },
    { property: 'proxyAddresses', caseInsensitive: true },
  ]);
  readonly deletedItems = new Map<string, DeletedItem>();
  /** Activated directory roles by id (directoryRole-list lists only activated ones). */
  readonly directoryRoles = new Map<string, DirectoryRoleRecord>();
  /** A user's manager (user id → manager id): the `manager` navigation property. */
  readonly managers = new Map<string, string>();
  /** Append-only ids of changed objects; a delta token is a position in this log. */
  readonly changes: Record<DirectoryKind, string[]> = { users: [], groups: [] };
  /** Per group id, its member and owner changes in `changes.groups` order (`members@delta`). */
  readonly linkChanges = new Map<string, LinkChange[]>();
  /**
   * Group-based licensing work not done yet, `${groupId}|${userId}` → when it is due (simulated ms). Entra applies
   * group licences in the background; the simulator does the due work lazily, before each request is handled.
   */
  readonly licenseWork = new Map<string, number>();
  /** Delta links and delta page cursors handed out (opaque token → position). */
  readonly deltaStates = new Map<string, DeltaState>();
  /** Set by /_sim/…/delta-reset: delta links older than this answer 410 Gone (a "synchronization reset"). */
  deltaResetAt = -Infinity;
  private nextSeq = 1;

  constructor(seed: SeedTenant, now: number) {
    this.id = seed.id.toLowerCase();
    this.displayName = seed.displayName;
    this.declaredSize = seed.sizeClass;
    this.domains = seed.verifiedDomains;
    this.adminUserPrincipalName = seed.adminUserPrincipalName;
    this.createdDateTime = now;
  }

  /** Declared in the seed, otherwise by user count (S < 50, M 50–500, L > 500). */
  get sizeClass(): SizeClass {
    if (this.declaredSize) return this.declaredSize;
    const n = this.users.size;
    return n < 50 ? 'small' : n <= 500 ? 'medium' : 'large';
  }

  get defaultDomain(): string {
    return (this.domains.find((d) => d.isDefault) ?? this.domains.find((d) => d.isInitial)!).name;
  }

  findDomain(name: string) {
    return this.domains.find((d) => d.name.toLowerCase() === name.toLowerCase());
  }

  allocateSeq(): number {
    return this.nextSeq++;
  }

  recordChange(kind: DirectoryKind, id: string): void {
    this.changes[kind].push(id.toLowerCase());
  }

  newUser(data: Record<string, unknown>, visibleAt: number, id: string = randomUUID()): UserRecord {
    const rec: UserRecord = {
      seq: this.allocateSeq(),
      id: id.toLowerCase(),
      data: { ...data, id: id.toLowerCase() },
      visibleAt,
      directLicenses: new Map(),
      groupLicenses: new Map(),
      memberOf: new Set(),
      isPrivileged: false,
    };
    this.users.insert(rec);
    this.recordChange('users', rec.id);
    return rec;
  }

  newGroup(data: Record<string, unknown>, visibleAt: number, id: string = randomUUID()): GroupRecord {
    const rec: GroupRecord = {
      seq: this.allocateSeq(),
      id: id.toLowerCase(),
      data: { ...data, id: id.toLowerCase() },
      visibleAt,
      members: new Set(),
      owners: new Set(),
      memberOf: new Set(),
      licenses: [],
    };
    this.groups.insert(rec);
    this.recordChange('groups', rec.id);
    return rec;
  }

  // ---- licensing -------------------------------------------------------------------------------

  /** SKUs the user actually consumes a seat of: direct assignments plus active group assignments. */
  effectiveSkus(user: UserRecord): Set<string> {
    const skus = new Set(user.directLicenses.keys());
    for (const state of user.groupLicenses.values()) if (state.state === 'Active') skus.add(state.skuId);
    return skus;
  }

  freeSeats(skuId: string): number {
    const sku = this.skus.get(skuId.toLowerCase());
    return sku ? sku.prepaidUnits.enabled - sku.externalConsumed - sku.assigned : 0;
  }

  /** Runs a license-affecting change and keeps every SKU's seat count in step with it. */
  withSeatAccounting(user: UserRecord, change: () => void): void {
    const before = this.effectiveSkus(user);
    change();
    const after = this.effectiveSkus(user);
    for (const skuId of before) if (!after.has(skuId)) this.skus.get(skuId)!.assigned--;
    for (const skuId of after) if (!before.has(skuId)) this.skus.get(skuId)!.assigned++;
  }

  /**
   * Gives a member the group's licenses (replacing what this group gave before); without a free seat the state is
   * CountViolation (group-based licensing).
   */
  applyGroupLicenses(user: UserRecord, group: GroupRecord, now: number): void {
    // A group's licenses are distinct SKUs, so each seat check is independent of the others in the loop.
    this.withSeatAccounting(user, () => {
      const held = this.effectiveSkus(user);
      for (const key of [...user.groupLicenses.keys()])
        if (key.startsWith(`${group.id}|`)) user.groupLicenses.delete(key);
      for (const lic of group.licenses) {
        const ok = held.has(lic.skuId) || this.freeSeats(lic.skuId) > 0;
        user.groupLicenses.set(`${group.id}|${lic.skuId}`, {
          skuId: lic.skuId,
          groupId: group.id,
          disabledPlans: lic.disabledPlans,
          state: ok ? 'Active' : 'Error',
          error: ok ? 'None' : 'CountViolation',
          lastUpdatedDateTime: now,
        });
      }
    });
  }

  removeGroupLicenses(user: UserRecord, groupId: string): void {
    this.withSeatAccounting(user, () => {
      for (const key of [...user.groupLicenses.keys()])
        if (key.startsWith(`${groupId}|`)) user.groupLicenses.delete(key);
    });
  }

  /** (Re)applies what `group` gives `userId` once `dueAt` has passed (see processLicenseWork). */
  scheduleLicenseWork(groupId: string, userId: string, dueAt: number): void {
    this.licenseWork.set(`${groupId}|${userId}`, dueAt);
  }

  /** Whether group-based licensing still has work queued for the group (licenseProcessingState). */
  hasLicenseWork(groupId: string): boolean {
    for (const key of this.licenseWork.keys()) if (key.startsWith(`${groupId}|`)) return true;
    return false;
  }

  /**
   * Does the group-based licensing work that is due: each member gets the group's licences as they are now (direct
   * user members only: nested groups' members inherit nothing), a user no longer in the group loses them.
   */
  processLicenseWork(now: number): void {
    if (this.licenseWork.size === 0) return;
    for (const [key, dueAt] of this.licenseWork) {
      if (dueAt > now) continue;
      this.licenseWork.delete(key);
      const [groupId = '', userId = ''] = key.split('|');
      const user = this.users.get(userId);
      if (!user) continue;
      const group = this.groups.get(groupId);
      if (group && group.members.has(user.id) && group.licenses.length > 0) this.applyGroupLicenses(user, group, dueAt);
      else this.removeGroupLicenses(user, groupId);
      this.recordChange('users', user.id);
    }
  }

  // ---- membership ------------------------------------------------------------------------------

  /** The member object for an id: a user, or a group (nesting). */
  directoryObject(
    id: string,
  ): { type: 'user'; record: UserRecord } | { type: 'group'; record: GroupRecord } | undefined {
    const user = this.users.get(id);
    if (user) return { type: 'user', record: user };
    const group = this.groups.get(id);
    return group ? { type: 'group', record: group } : undefined;
  }

  /** Records a member or owner change of a group (for `members@delta`) and the group change with it. */
  recordLink(group: GroupRecord, change: Omit<LinkChange, 'at'>): void {
    let log = this.linkChanges.get(group.id);
    if (!log) this.linkChanges.set(group.id, (log = []));
    log.push({ ...change, at: this.changes.groups.length });
    this.recordChange('groups', group.id);
  }

  /** Adds a user or a group as member; a licensed group's licences reach a user member at `licenseDueAt`. */
  addMember(group: GroupRecord, member: UserRecord | GroupRecord, licenseDueAt: number): void {
    const type = 'members' in member ? 'group' : 'user';
    group.members.add(member.id);
    member.memberOf.add(group.id);
    this.recordLink(group, { relation: 'members', targetId: member.id, targetType: type, removed: false });
    if (type === 'user') {
      this.recordChange('users', member.id);
      if (group.licenses.length > 0) this.scheduleLicenseWork(group.id, member.id, licenseDueAt);
    }
  }

  /** Removes a member; a user keeps what the group gave until the licensing work is done at `licenseDueAt`. */
  removeMember(group: GroupRecord, memberId: string, licenseDueAt: number): void {
    group.members.delete(memberId);
    const member = this.directoryObject(memberId);
    member?.record.memberOf.delete(group.id);
    this.recordLink(group, {
      relation: 'members',
      targetId: memberId,
      targetType: member?.type ?? 'user',
      removed: true,
    });
    if (member?.type === 'user') {
      this.recordChange('users', memberId);
      const inherited = [...member.record.groupLicenses.keys()].some((k) => k.startsWith(`${group.id}|`));
      if (inherited || group.licenses.length > 0) this.scheduleLicenseWork(group.id, memberId, licenseDueAt);
    }
  }

  addOwner(group: GroupRecord, user: UserRecord): void {
    group.owners.add(user.id);
    this.recordLink(group, { relation: 'owners', targetId: user.id, targetType: 'user', removed: false });
  }

  removeOwner(group: GroupRecord, userId: string): void {
    group.owners.delete(userId);
    this.recordLink(group, { relation: 'owners', targetId: userId, targetType: 'user', removed: true });
  }

  /** Every group `ids` are members of, directly or through nesting (cycles are harmless). */
  transitiveGroupsOf(direct: Iterable<string>): GroupRecord[] {
    const seen = new Map<string, GroupRecord>();
    const queue = [...direct];
    while (queue.length > 0) {
      const group = this.groups.get(queue.shift()!);
      if (!group || seen.has(group.id)) continue;
      seen.set(group.id, group);
      queue.push(...group.memberOf);
    }
    return [...seen.values()];
  }

  // ---- directory roles ------------------------------------------------------------------------

  /** The activated role for a template id or display name, activating it (directoryRole-post) when needed. */
  activateRole(nameOrTemplateId: string): DirectoryRoleRecord {
    const key = nameOrTemplateId.toLowerCase();
    const template = ROLE_TEMPLATES.find((t) => t.roleTemplateId === key || t.displayName.toLowerCase() === key);
    if (!template) throw new Error(`unknown directory role ${nameOrTemplateId}`);
    const existing = [...this.directoryRoles.values()].find((r) => r.roleTemplateId === template.roleTemplateId);
    if (existing) return existing;
    const role: DirectoryRoleRecord = {
      ...template,
      id: derivedGuid(this.id, template.roleTemplateId),
      members: new Set(),
    };
    this.directoryRoles.set(role.id, role);
    return role;
  }

  /** Activated roles the user holds (directly; the simulator has no role-assignable groups). */
  rolesOf(userId: string): DirectoryRoleRecord[] {
    return [...this.directoryRoles.values()].filter((r) => r.members.has(userId));
  }

  addRoleMember(role: DirectoryRoleRecord, user: UserRecord): void {
    role.members.add(user.id);
    // A role holder is privileged: sensitive properties need a higher role to change (user-update).
    user.isPrivileged = true;
  }

  removeRoleMember(role: DirectoryRoleRecord, userId: string): void {
    role.members.delete(userId);
    const user = this.users.get(userId);
    if (user) user.isPrivileged = this.rolesOf(userId).length > 0;
  }

  // ---- soft delete -----------------------------------------------------------------------------

  softDeleteUser(user: UserRecord, now: number): void {
    // The deleted user remembers its direct licenses and groups for restore, but frees its seats meanwhile.
    this.withSeatAccounting(user, () => {
      user.suspendedLicenses = new Map(user.directLicenses);
      user.directLicenses.clear();
      user.groupLicenses.clear();
    });
    // The user leaves its groups (each group's delta shows the member removed); memberOf is kept for restore.
    for (const groupId of user.memberOf) {
      const group = this.groups.get(groupId);
      if (!group) continue;
      group.members.delete(user.id);
      this.recordLink(group, { relation: 'members', targetId: user.id, targetType: 'user', removed: true });
    }
    this.users.remove(user.id);
    this.deletedItems.set(user.id, { kind: 'user', record: user, deletedAt: now });
    this.recordChange('users', user.id);
  }

  restoreUser(user: UserRecord, now: number, licenseDueAt = now): void {
    this.deletedItems.delete(user.id);
    this.users.insert(user);
    user.visibleAt = now;
    this.withSeatAccounting(user, () => {
      user.directLicenses = user.suspendedLicenses ?? new Map<string, AssignedLicense>();
      delete user.suspendedLicenses;
    });
    const groups = [...user.memberOf];
    user.memberOf.clear();
    for (const groupId of groups) {
      const group = this.groups.get(groupId);
      if (group) this.addMember(group, user, licenseDueAt);
    }
    this.recordChange('users', user.id);
  }

  /**
   * Deleting a group (group-delete): Microsoft 365 and security groups go to deleted items for 30 days, keeping their
   * members, owners and parent groups for a restore; distribution groups are gone at once. The group leaves its
   * parent groups and its members' memberOf either way.
   */
  deleteGroup(group: GroupRecord, now: number, softDelete: boolean): void {
    for (const memberId of group.members) this.directoryObject(memberId)?.record.memberOf.delete(group.id);
    for (const parentId of group.memberOf) {
      const parent = this.groups.get(parentId);
      if (!parent) continue;
      parent.members.delete(group.id);
      this.recordLink(parent, { relation: 'members', targetId: group.id, targetType: 'group', removed: true });
    }
    this.groups.remove(group.id);
    if (softDelete) this.deletedItems.set(group.id, { kind: 'group', record: group, deletedAt: now });
    else this.linkChanges.delete(group.id);
    this.recordChange('groups', group.id);
  }

  /** Brings a soft-deleted group back with the members, owners and parent groups that still exist. */
  restoreGroup(group: GroupRecord, now: number, licenseDueAt = now): void {
    this.deletedItems.delete(group.id);
    this.groups.insert(group);
    group.visibleAt = now;
    const members = [...group.members];
    const parents = [...group.memberOf];
    group.members.clear();
    group.memberOf.clear();
    for (const memberId of members) {
      const member = this.directoryObject(memberId);
      if (member) this.addMember(group, member.record, licenseDueAt);
    }
    for (const ownerId of [...group.owners]) if (!this.users.get(ownerId)) group.owners.delete(ownerId);
    for (const parentId of parents) {
      const parent = this.groups.get(parentId);
      if (parent) this.addMember(parent, group, licenseDueAt);
    }
    this.recordChange('groups', group.id);
  }

  /** Drops soft-deleted items past their 30 days; they then show in delta as @removed "deleted". */
  purgeExpired(now: number): void {
    for (const [id, item] of this.deletedItems) {
      if (now - item.deletedAt >= DELETED_ITEM_RETENTION_MS) this.hardDelete(id);
    }
  }

  hardDelete(id: string): void {
    const item = this.deletedItems.get(id);
    if (!item) return;
    this.deletedItems.delete(id);
    if (item.kind === 'group') this.linkChanges.delete(id);
    this.recordChange(item.kind === 'user' ? 'users' : 'groups', id);
  }
}

/** Derived object id of an app registration when the seed does not give one (stable across resets). */
function derivedGuid(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('|')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function buildApp(seed: SeedApplication, tenantId: string, now: number): AppRegistration {
  return {
    appId: seed.appId.toLowerCase(),
    id: (seed.id ?? derivedGuid(tenantId, seed.appId)).toLowerCase(),
    displayName: seed.displayName,
    secrets: seed.secrets.map((s) => ({
      keyId: s.keyId.toLowerCase(),
      displayName: s.displayName ?? null,
      value: s.value,
      hint: s.value.slice(0, 3),
      startDateTime: s.startDateTime ? Date.parse(s.startDateTime) : now - DAY_MS,
      endDateTime: s.endDateTime ? Date.parse(s.endDateTime) : now + s.expiresInDays! * DAY_MS,
    })),
    applicationPermissions: seed.applicationPermissions,
    delegatedScopes: seed.delegatedScopes,
    redirectUris: seed.redirectUris,
    spaRedirectUris: seed.spaRedirectUris,
    identifierUris: seed.identifierUris,
    api: seed.api,
    appRoles: seed.appRoles,
    appRoleAssignedTo: seed.appRoleAssignedTo,
    createdDateTime: now - 30 * DAY_MS,
  };
}

/** Builds one tenant from its seed: apps, SKUs, users (with direct licenses), groups (with inherited licenses). */
export function buildTenant(seed: SeedTenant, now: number): TenantState {
  const tenant = new TenantState(seed, now);
  tenant.activateRole('Global Administrator');
  for (const app of seed.applications) tenant.apps.set(app.appId.toLowerCase(), buildApp(app, tenant.id, now));
  for (const sku of seed.subscribedSkus) {
    tenant.skus.set(sku.skuId.toLowerCase(), {
      skuId: sku.skuId.toLowerCase(),
      skuPartNumber: sku.skuPartNumber,
      prepaidUnits: sku.prepaidUnits,
      externalConsumed: sku.consumedUnits,
      assigned: 0,
      servicePlans: sku.servicePlans,
    });
  }
  for (const u of seed.users) {
    const { id, assignedLicenses, isPrivileged, directoryRoles, ...props } = u;
    const user = tenant.newUser(seedUserDefaults(props), 0, id);
    // isPrivileged without roles named: a Global Administrator (a privileged user holds a directory role).
    const roles = directoryRoles ?? (isPrivileged ? ['Global Administrator'] : []);
    for (const role of roles) tenant.addRoleMember(tenant.activateRole(role), user);
    for (const lic of assignedLicenses ?? []) {
      const skuId = lic.skuId.toLowerCase();
      if (!tenant.skus.has(skuId))
        throw new Error(`seed: user ${u.userPrincipalName} has license ${skuId} which is not a subscribed SKU`);
      tenant.withSeatAccounting(user, () =>
        user.directLicenses.set(skuId, { skuId, disabledPlans: lic.disabledPlans }),
      );
    }
  }
  // Groups first, then memberships: a seeded group may nest another one listed after it.
  const seeded = seed.groups.map((g) => {
    const { id: seedId, members: _m, owners: _o, assignedLicenses, ...props } = g;
    const id = (seedId ?? randomUUID()).toLowerCase();
    const group = tenant.newGroup(completeGroupData(tenant, props, id, new Date(now).toISOString()), 0, id);
    group.licenses = assignedLicenses.map((l) => ({ skuId: l.skuId.toLowerCase(), disabledPlans: l.disabledPlans }));
    return group;
  });
  seed.groups.forEach((g, i) => {
    const group = seeded[i]!;
    const userRef = (ref: string) => tenant.users.get(ref) ?? tenant.users.findBy('userPrincipalName', ref)[0];
    for (const ref of g.members) {
      const member = userRef(ref) ?? tenant.groups.get(ref);
      if (!member)
        throw new Error(`seed: group ${g.displayName} member ${ref} is not a user or group of tenant ${tenant.id}`);
      tenant.addMember(group, member, now);
    }
    for (const ref of g.owners) {
      const owner = userRef(ref);
      if (!owner) throw new Error(`seed: group ${g.displayName} owner ${ref} is not a user of tenant ${tenant.id}`);
      tenant.addOwner(group, owner);
    }
  });
  // The seed describes a settled directory: its group licences are in place when the tenant starts.
  tenant.processLicenseWork(now);
  if (seed.generateUsers > 0) generateUsers(tenant, seed.generateUsers, 0);
  return tenant;
}

function seedUserDefaults(props: Record<string, unknown>): Record<string, unknown> {
  const upn = String(props.userPrincipalName);
  return {
    mailNickname: upn.split('@')[0],
    userType: 'Member',
    createdDateTime: new Date(0).toISOString(),
    businessPhones: [],
    ...props,
  };
}

/** Adds `count` synthetic users quickly (no per-user validation), numbered after the existing ones. */
export function generateUsers(tenant: TenantState, count: number, visibleAt: number, prefix = 'simuser'): number {
  const domain = tenant.defaultDomain;
  const start = tenant.users.size + 1;
  const created = new Date(visibleAt).toISOString();
  for (let i = start; i < start + count; i++) {
    const nick = `${prefix}${String(i).padStart(6, '0')}`;
    tenant.newUser(
      {
        accountEnabled: true,
        displayName: `Sim User ${i}`,
        givenName: 'Sim',
        surname: `User ${i}`,
        mailNickname: nick,
        userPrincipalName: `${nick}@${domain}`,
        mail: `${nick}@${domain}`,
        employeeId: `G${i}`,
        userType: 'Member',
        businessPhones: [],
        createdDateTime: created,
      },
      visibleAt,
    );
  }
  return count;
}

/** All tenants of one running simulator. */
export class DirectoryState {
  readonly tenants = new Map<string, TenantState>();

  load(seed: ParsedSeed, now: number): void {
    this.tenants.clear();
    for (const t of seed.tenants) this.tenants.set(t.id.toLowerCase(), buildTenant(t, now));
  }

  tenant(idOrDomain: string): TenantState | undefined {
    const key = idOrDomain.toLowerCase();
    const byId = this.tenants.get(key);
    if (byId) return byId;
    for (const t of this.tenants.values()) if (t.findDomain(key)) return t;
    return undefined;
  }
}
