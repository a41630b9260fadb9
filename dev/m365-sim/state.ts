// The simulated directory: tenants, their app registrations, users, groups, licenses and change logs.
// Pure data + invariants (indexes, seat counting, group-inherited licenses); HTTP lives elsewhere.
import { createHash, randomUUID } from 'node:crypto';
import { DAY_MS } from './clock.js';
import { type DirectoryRecord, IndexedCollection } from './collection.js';
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
  /** Member ids in the order they were added. */
  members: Set<string>;
  licenses: AssignedLicense[];
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

export type DeltaState =
  | { kind: 'link'; resource: DirectoryKind; changeIndex: number; select?: string[]; issuedAt: number }
  | {
      kind: 'initial';
      resource: DirectoryKind;
      afterSeq: number;
      endChange: number;
      select?: string[];
      issuedAt: number;
    }
  | {
      kind: 'changes';
      resource: DirectoryKind;
      ids: string[];
      offset: number;
      endChange: number;
      select?: string[];
      issuedAt: number;
    };

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
  ]);
  readonly deletedItems = new Map<string, DeletedItem>();
  /** Activated directory roles by id (directoryRole-list lists only activated ones). */
  readonly directoryRoles = new Map<string, DirectoryRoleRecord>();
  /** A user's manager (user id → manager id): the `manager` navigation property. */
  readonly managers = new Map<string, string>();
  /** Append-only ids of changed objects; a delta token is a position in this log. */
  readonly changes: Record<DirectoryKind, string[]> = { users: [], groups: [] };
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

  /** Gives a member the group's licenses; without a free seat the state is CountViolation (group-based licensing). */
  applyGroupLicenses(user: UserRecord, group: GroupRecord, now: number): void {
    // A group's licenses are distinct SKUs, so each seat check is independent of the others in the loop.
    this.withSeatAccounting(user, () => {
      for (const lic of group.licenses) {
        const ok = this.effectiveSkus(user).has(lic.skuId) || this.freeSeats(lic.skuId) > 0;
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

  removeGroupLicenses(user: UserRecord, group: GroupRecord): void {
    this.withSeatAccounting(user, () => {
      for (const key of [...user.groupLicenses.keys()])
        if (key.startsWith(`${group.id}|`)) user.groupLicenses.delete(key);
    });
  }

  addMember(group: GroupRecord, user: UserRecord, now: number): void {
    group.members.add(user.id);
    user.memberOf.add(group.id);
    if (group.licenses.length > 0) this.applyGroupLicenses(user, group, now);
  }

  removeMember(group: GroupRecord, memberId: string): void {
    group.members.delete(memberId);
    const user = this.users.get(memberId);
    if (!user) return;
    user.memberOf.delete(group.id);
    this.removeGroupLicenses(user, group);
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
    for (const groupId of user.memberOf) this.groups.get(groupId)?.members.delete(user.id);
    this.users.remove(user.id);
    this.deletedItems.set(user.id, { kind: 'user', record: user, deletedAt: now });
    this.recordChange('users', user.id);
  }

  restoreUser(user: UserRecord, now: number): void {
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
      if (group) this.addMember(group, user, now);
    }
    this.recordChange('users', user.id);
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
  for (const g of seed.groups) {
    const { id, members, assignedLicenses, ...props } = g;
    const group = tenant.newGroup({ createdDateTime: new Date(now).toISOString(), ...props }, 0, id);
    group.licenses = assignedLicenses.map((l) => ({ skuId: l.skuId.toLowerCase(), disabledPlans: l.disabledPlans }));
    for (const ref of members) {
      const user = tenant.users.get(ref) ?? tenant.users.findBy('userPrincipalName', ref)[0];
      if (!user) throw new Error(`seed: group ${g.displayName} member ${ref} is not a user of tenant ${tenant.id}`);
      tenant.addMember(group, user, now);
    }
  }
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
