// Ports the use cases declare; shared/storage, shared/graph and shared/security implement them.
import type { OperationMessage } from '../domain/change.js';
import type { AuditEntry } from '../domain/config-audit.js';
import type { Connection, ResolvedEndpoints } from '../domain/connection.js';
import type {
  ReconciliationRun,
  ReconciliationState,
  RunItem,
  RunRequest,
  StagedOperation,
} from '../domain/reconciliation.js';
import type { MatchingAttribute } from '../domain/sync-settings.js';
import type { PlannedRequest, ProvisioningLogRecord, UserState, UserStatus } from '../domain/user-state.js';

export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

/** Encrypts secrets at rest, each bound to what it protects (associated data). */
export interface SecretProtector {
  encrypt(plaintext: string, associatedData: string): string;
  decrypt(ciphertext: string, associatedData: string): string;
  /** True when the value was encrypted with a key that is no longer the active one. */
  needsRewrap(ciphertext: string): boolean;
}

export interface ConnectionRepository {
  /** Fails with a conflict if the id exists. */
  create(connection: Connection): Promise<Connection>;
  get(id: string): Promise<Connection | undefined>;
  /**
   * The connection as of a moment ago, for the operation pipeline: a per-instance copy that this instance's own
   * writes keep current (connection-snapshots.ts). Absent: `get`.
   */
  recent?(id: string): Promise<Connection | undefined>;
  list(): Promise<Connection[]>;
  /** Replaces the stored connection if it still has `connection.etag`; a conflict (`concurrent-update`) otherwise. */
  replace(connection: Connection): Promise<Connection>;
  /** False when there was nothing to delete. With `etag`: only if it still has it; a conflict (`concurrent-update`) otherwise. */
  delete(id: string, etag?: string): Promise<boolean>;
}

/** Configuration changes per connection (kept when the connection is deleted). */
export interface AuditLog {
  append(entry: AuditEntry): Promise<void>;
  /** Newest first; `continuation` from a previous page (a token this list did not give out: `invalid-continuation`). */
  list(
    connectionId: string,
    limit: number,
    continuation?: string,
  ): Promise<{ entries: AuditEntry[]; continuation?: string }>;
}

export interface OAuthStateRecord {
  /** SHA-256 of the state value: the state itself is never stored. */
  stateHash: string;
  /** Delegated consent (authorization code + PKCE) or an admin granting the app's application permissions. */
  purpose: 'authorize' | 'admin-consent';
  connectionId: string;
  verifierCipher: string;
  redirectUri: string;
  createdAt: string;
  expiresAt: string;
  usedAt?: string;
  etag?: string;
}

export interface OAuthStateRepository {
  save(record: OAuthStateRecord): Promise<void>;
  get(stateHash: string): Promise<OAuthStateRecord | undefined>;
  /** Marks the state used if nobody else did first (ETag); false when it lost that race. */
  markUsed(record: OAuthStateRecord, usedAt: string): Promise<boolean>;
}

/** The identity platform's OAuth endpoints (authorization code + PKCE). */
export interface OAuthClient {
  newPkce(): Promise<{ verifier: string; challenge: string }>;
  authorizationUrl(p: {
    endpoints: ResolvedEndpoints;
    clientId: string;
    redirectUri: string;
    scope: string;
    state: string;
    codeChallenge: string;
  }): string;
  /** Throws AppError `oauth-grant-failed` (kind unauthorized) carrying the server's error and description. */
  exchangeCode(p: {
    endpoints: ResolvedEndpoints;
    clientId: string;
    clientSecret: string;
    code: string;
    redirectUri: string;
    codeVerifier: string;
    scope: string;
  }): Promise<{ refreshToken?: string }>;
}

export interface ConnectionSecrets {
  clientSecret: string;
  refreshToken?: string;
}

export interface TokenInfo {
  kind: 'app-only' | 'delegated';
  /** `roles` of an app-only token, or `scp` of a delegated one. */
  permissions: string[];
  expiresOn: Date;
}

export interface ApplicationSecret {
  displayName?: string;
  hint?: string;
  endDateTime?: string;
}

/** A Microsoft 365 user as Graph returns it (only the selected properties are present). */
export interface GraphUser {
  id: string;
  userPrincipalName?: string;
  accountEnabled?: boolean;
  usageLocation?: string | null;
  assignedLicenses?: { skuId: string; disabledPlans?: string[] }[];
  licenseAssignmentStates?: { skuId: string; assignedByGroup?: string | null; state?: string }[];
  [property: string]: unknown;
}

export interface SubscribedSku {
  skuId: string;
  skuPartNumber: string;
  /** prepaidUnits.enabled */
  enabled: number;
  consumed: number;
  servicePlans: { servicePlanId: string; servicePlanName: string }[];
}

/** What one operation did at Graph: its requests (for the log and the on-demand trace), and in dry run the writes it would have sent. */
export interface RequestRecorder {
  requestIds: string[];
  requests?: { method: string; url: string; status: number; requestId?: string }[];
  planned: PlannedRequest[];
}

/** What Test connection asks of a tenant. Errors are AppErrors classified by the adapter. */
/** A verified domain of the tenant (organization → verifiedDomains); `type` is `Managed` or `Federated`. */
export interface VerifiedDomain {
  name: string;
  type?: string;
}

export interface ConnectionProbe {
  acquireToken(): Promise<TokenInfo>;
  verifiedDomains(): Promise<VerifiedDomain[]>;
  /** GET /domains/{id} → authenticationType (`Managed` | `Federated`); needs Domain.Read.All or Directory.Read.All. */
  domainAuthenticationType(domain: string): Promise<string | undefined>;
  readOneUser(): Promise<void>;
  applicationSecrets(appId: string): Promise<ApplicationSecret[]>;
}

/** A tenant's users. */
export interface UsersClient {
  /** Up to `max` users whose `attribute` equals `value` (a matching rule finding more than one is a conflict). */
  findUsers(attribute: MatchingAttribute, value: string, select: string[], max: number): Promise<GraphUser[]>;
  /** undefined when Graph answers 404. */
  getUser(id: string, select: string[]): Promise<GraphUser | undefined>;
  /**
   * The directory roles the account holds, directly or through a group (transitiveMemberOf cast to
   * directoryRole): display names, or ids when the app may not read roles. Empty: no role.
   */
  directoryRolesOf(id: string): Promise<string[]>;
  /** userPrincipalNames of soft-deleted users (deletedItems, as stored: possibly prefixed with the object id). */
  deletedUserPrincipalNames(): Promise<string[]>;
  /** The manager's object id (undefined: none). */
  managerOf(id: string): Promise<string | undefined>;
  /** PUT /users/{id}/manager/$ref. */
  setManager(id: string, managerId: string): Promise<void>;
  createUser(body: Record<string, unknown>): Promise<GraphUser>;
  updateUser(id: string, patch: Record<string, unknown>): Promise<void>;
  deleteUser(id: string): Promise<void>;
  /**
   * Restores a soft-deleted user from deletedItems and reads it back with `select`; undefined when it is not
   * there (purged, or never deleted). A conflict (its UPN was taken meanwhile) is thrown.
   */
  restoreDeletedUser(id: string, select: string[]): Promise<GraphUser | undefined>;
  /**
   * One page of a delta round over users: the first page of a full round (no link), or the page a nextLink or
   * a stored deltaLink points to. The round's last page carries the next round's deltaLink. An expired or
   * reset token throws AppError `delta-token-expired` (start a full round).
   */
  usersDeltaPage(select: string[], link?: string): Promise<UserPage>;
  /** One page ($top 999) of all users: the first without a link, then the one `nextLink` points to. */
  usersPage(select: string[], nextLink?: string): Promise<UserPage>;
}

/** A tenant's licences. */
export interface LicensesClient {
  assignLicenses(id: string, add: { skuId: string; disabledPlans: string[] }[], remove: string[]): Promise<void>;
  /** Cached briefly per connection (seat counts change slowly relative to an operation); `fresh` reads them now. */
  subscribedSkus(fresh?: boolean): Promise<SubscribedSku[]>;
}

/**
 * One connection's tenant, as the use cases need it: one small client per resource (groups next), each use case
 * depending on the ones it calls.
 */
export interface TenantGateway {
  probe: ConnectionProbe;
  users: UsersClient;
  licenses: LicensesClient;
  groups: GroupsClient;
}

/** A group as Graph returns it. */
export interface GraphGroup {
  id: string;
  displayName?: string | null;
  description?: string | null;
  mailNickname?: string | null;
  mailEnabled?: boolean;
  securityEnabled?: boolean;
  groupTypes?: string[];
  assignedLicenses?: { skuId: string; disabledPlans?: string[] }[];
  [property: string]: unknown;
}

/** A tenant's groups and their members. */
export interface GroupsClient {
  /** Up to `max` groups whose `attribute` equals `value`. */
  findGroups(attribute: 'mailNickname' | 'displayName', value: string, max: number): Promise<GraphGroup[]>;
  /** undefined when Graph answers 404. */
  getGroup(id: string): Promise<GraphGroup | undefined>;
  /** One page ($top 999) of all groups with the decider's properties: the first without a link, then `nextLink`'s. */
  groupsPage(nextLink?: string): Promise<{ groups: GraphGroup[]; nextLink?: string }>;
  /** POST /groups with these members and owners bound in the same request (at most 20 together). */
  createGroup(body: Record<string, unknown>, members: string[], owners: string[]): Promise<GraphGroup>;
  updateGroup(id: string, patch: Record<string, unknown>): Promise<void>;
  deleteGroup(id: string): Promise<void>;
  /** Every member's object id (paged `members?$select=id`). */
  memberIds(id: string): Promise<string[]>;
  /** Every owner's object id. */
  ownerIds(id: string): Promise<string[]>;
  /** PATCH members@odata.bind, 20 per request; a member already there is success. Answers the writes sent. */
  addMembers(id: string, memberIds: string[]): Promise<number>;
  /** DELETE members/{id}/$ref, up to 20 per $batch; one already gone is success. Answers the requests sent. */
  removeMembers(id: string, memberIds: string[]): Promise<number>;
  addOwners(id: string, ownerIds: string[]): Promise<void>;
  /** POST /groups/{id}/assignLicense (group-based licensing: Microsoft 365 gives the licences to members by itself). */
  assignLicenses(id: string, add: { skuId: string; disabledPlans: string[] }[], remove: string[]): Promise<void>;
  /**
   * Restores a soft-deleted group from deletedItems; undefined when it is not there (purged, or never deleted).
   */
  restoreDeletedGroup(id: string): Promise<GraphGroup | undefined>;
  /**
   * One page of a delta round over groups with `members@delta` (group-delta), as usersDeltaPage: a large group's
   * members may come over several pages, the group repeated with the next part. An expired or reset token throws
   * AppError `delta-token-expired`.
   */
  groupsDeltaPage(select: string[], link?: string): Promise<GroupPage>;
}

/** A `members@delta` entry: a member (user or group), or one removed since the last round. */
export interface MemberDelta {
  id: string;
  '@odata.type'?: string;
  '@removed'?: { reason: string };
}

/** One page of a groups delta round; removed groups come as `{ id, '@removed': { reason } }`. */
export interface GroupPage {
  groups: (GraphGroup & { '@removed'?: { reason: string }; 'members@delta'?: MemberDelta[] })[];
  nextLink?: string;
  deltaLink?: string;
}

/** One page of users; in a delta round removed users come as `{ id, '@removed': { reason } }`. */
export interface UserPage {
  users: (GraphUser & { '@removed'?: { reason: 'changed' | 'deleted' } })[];
  nextLink?: string;
  /** A delta round's last page: where the next round starts. */
  deltaLink?: string;
}

export interface GatewayOptions {
  /** Writes are not sent: they are recorded in `recorder.planned` and answered with placeholders. */
  dryRun?: boolean;
  recorder?: RequestRecorder;
}

export interface TenantGatewayFactory {
  /**
   * Graph writes per second this process may send now for the connection's app + tenant (the throttle governor's
   * pace: the documented quota, cut after 429s and recovering when quiet).
   */
  writesPerSecond(connection: Pick<Connection, 'clientId' | 'tenantId'>): number;
  /**
   * A gateway for the connection's tenant. Implementations cache credentials per connection and
   * `credentialVersion`. `onRefreshTokenRotated` persists a new refresh token the token endpoint issued.
   */
  forConnection(
    connection: Connection,
    secrets: ConnectionSecrets,
    onRefreshTokenRotated: (refreshToken: string) => Promise<void>,
    options?: GatewayOptions,
  ): TenantGateway;
}

export interface UserStateRepository {
  get(connectionId: string, externalId: string): Promise<UserState | undefined>;
  /**
   * Creates (no etag) or replaces (if the etag still matches); a conflict (`concurrent-update`) otherwise. Keeps the
   * link index in step: a new objectId is indexed, a removed one (unlinked) unindexed.
   */
  save(state: UserState): Promise<UserState>;
  listByStatus(connectionId: string, status: UserStatus): Promise<UserState[]>;
  listAll(connectionId: string): Promise<UserState[]>;
  /**
   * Every user of the connection, a page at a time, in externalId order: optionally only those with `status`, and
   * only those after externalId `after` (where a previous page ended), only those linked to one of the accounts
   * `linkedTo` (Microsoft 365 object ids: rows read but not linked to one of them are dropped unparsed).
   */
  scan(
    connectionId: string,
    options?: { status?: UserStatus; after?: string; linkedTo?: ReadonlySet<string> },
  ): AsyncIterable<UserState[]>;
  /** How many users of the connection have each status (a scan of the status column only). */
  countByStatus(connectionId: string): Promise<Partial<Record<UserStatus, number>>>;
  /** The user linked to Microsoft 365 account `objectId`, if any. */
  findByObjectId(connectionId: string, objectId: string): Promise<UserState | undefined>;
  /** Users wanted but never linked, or whose latest change is not reconciled yet. */
  listNeedingAttention(connectionId: string): Promise<UserState[]>;
  /** Deletes every user row of the connection (the Microsoft 365 accounts are not touched). */
  deleteAll(connectionId: string): Promise<number>;
  /** Who claimed Microsoft 365 account `objectId` of tenant `tenantId`, whichever connection it came from. */
  linkClaim(tenantId: string, objectId: string): Promise<LinkClaim | undefined>;
  /**
   * Claims the account for `holder`: a new claim, or in place of the one read with etag `replacing`. False when
   * another claim got there first (a uniqueness constraint in storage, not a read-then-write check).
   */
  claimLink(tenantId: string, objectId: string, holder: Omit<LinkClaim, 'etag'>, replacing?: string): Promise<boolean>;
  /** Deletes the claim read with `etag` (nothing when it changed meanwhile). */
  releaseLink(tenantId: string, objectId: string, etag: string): Promise<void>;
  /** Records that `waiter` waits for each of `on` to be linked (a pending member, a manager not provisioned yet). */
  addWaits(connectionId: string, waiter: ObjectRef, on: ObjectRef[]): Promise<void>;
  /** Who waits for `on`, removing those records (the caller re-applies each waiter). */
  takeWaits(connectionId: string, on: ObjectRef): Promise<ObjectRef[]>;
}

/** A user or group of a connection. */
export interface ObjectRef {
  objectType: 'user' | 'group';
  externalId: string;
}

/** One Microsoft 365 account, one directory user: the claim every connection to the tenant checks before linking. */
export interface LinkClaim {
  connectionId: string;
  externalId: string;
  claimedAt: string;
  etag: string;
}

/**
 * The users whose accounts a connection being deleted still has to remove (deprovisionOnRuleDeletion): one entry
 * per user, dropped once its removal is applied, so "is anything left" is one small read.
 */
export interface PendingRemovals {
  add(connectionId: string, externalIds: string[]): Promise<void>;
  /** Idempotent. */
  remove(connectionId: string, externalId: string): Promise<void>;
  /** Up to `limit` externalIds still pending (all of them without a limit). */
  list(connectionId: string, limit?: number): Promise<string[]>;
  clear(connectionId: string): Promise<void>;
}

export interface LogQuery {
  externalId?: string;
  result?: string;
  action?: string;
  since?: string;
  until?: string;
  limit: number;
  continuation?: string;
}

export interface ProvisioningLog {
  append(record: ProvisioningLogRecord): Promise<void>;
  /** Newest first. */
  query(connectionId: string, query: LogQuery): Promise<{ records: ProvisioningLogRecord[]; continuation?: string }>;
}

export interface OperationQueue {
  /**
   * Puts the operation on the provisioning queue, visible after `delayMs`. One too large for a queue message is
   * kept in storage and the message carries a claim check instead (see OperationBodies).
   */
  enqueue(message: OperationMessage, delayMs?: number): Promise<void>;
}

/** Where changes too large for a queue message wait (encrypted) while their claim-check message is on the queue. */
export interface OperationBodies {
  /** Stores the message; answers the reference a claim-check message carries. */
  put(message: OperationMessage): Promise<string>;
  /** The stored message, or undefined when it is gone (already handled and deleted). */
  get(connectionId: string, ref: string): Promise<OperationMessage | undefined>;
  delete(connectionId: string, ref: string): Promise<void>;
}

export interface ReconciliationStore {
  /** The connection's state between runs (an empty one, without etag, before the first run). */
  getState(connectionId: string): Promise<ReconciliationState>;
  /** Creates (no etag) or replaces (etag must match): a conflict (`concurrent-update`) otherwise. */
  saveState(state: ReconciliationState): Promise<ReconciliationState>;
  saveRun(run: ReconciliationRun): Promise<void>;
  getRun(connectionId: string, runId: string): Promise<ReconciliationRun | undefined>;
  /** Newest first. */
  listRuns(
    connectionId: string,
    limit: number,
    continuation?: string,
  ): Promise<{ runs: ReconciliationRun[]; continuation?: string }>;
  appendItems(connectionId: string, runId: string, firstSeq: number, items: RunItem[]): Promise<void>;
  listItems(
    connectionId: string,
    runId: string,
    limit: number,
    continuation?: string,
  ): Promise<{ items: RunItem[]; continuation?: string }>;
  /** One staged operation per user (a later run's replaces an earlier one's). */
  stage(operations: StagedOperation[]): Promise<void>;
  listStaged(connectionId: string): Promise<StagedOperation[]>;
  removeStaged(connectionId: string, operations: Pick<StagedOperation, 'objectType' | 'externalId'>[]): Promise<void>;
}

export interface RunQueue {
  /** Puts a reconciliation run request on the reconciliation queue, visible after `delayMs` (a paused run's continuation). */
  enqueue(request: RunRequest, delayMs?: number): Promise<void>;
}

/** A message as it sits on a queue: its raw text, whatever its bytes (poison queues hold anything). */
export interface RawQueueMessage {
  id: string;
  popReceipt: string;
  text: string;
  insertedOn?: string;
}

/** A poison queue, read raw: nothing about a message's content can make reading it fail. */
export interface PoisonQueue {
  readonly name: string;
  /** Up to `max` messages, hidden from other readers for a while; [] when the queue is empty or absent. */
  receive(max: number): Promise<RawQueueMessage[]>;
  remove(message: RawQueueMessage): Promise<void>;
}

/**
 * Group-based licensing's bookkeeping (licensingMode group), beside a connection's group rows: which licence group
 * each user is in (or on its way into) through this connection, the member changes each licence group still has to
 * send, and whether a flush of them is scheduled. See shared/storage/licence-groups.table.ts.
 */
export interface LicenceGroupStore {
  /** The licence group this connection put the user in (or is putting it in), if any. */
  membership(connectionId: string, externalId: string): Promise<LicenceMembership | undefined>;
  /** Every account this connection put in `group` (to add them again to a licence group that was re-created). */
  accountsIn(connectionId: string, group: string): Promise<string[]>;
  /**
   * Records that the user (account `objectId`) belongs in `to` (undefined: in no licence group), queuing the member
   * changes that takes — an add to `to`, a removal from `from`'s group — in one transaction.
   */
  move(
    connectionId: string,
    externalId: string,
    objectId: string,
    to: string | undefined,
    from?: LicenceMembership,
  ): Promise<void>;
  /** Up to `limit` member changes `group` still has to send. */
  pending(connectionId: string, group: string, limit: number): Promise<PendingMemberChange[]>;
  /** Drops member changes that were sent or superseded (a change is never rewritten: a later one is another). */
  settle(connectionId: string, group: string, sent: PendingMemberChange[]): Promise<void>;
  /**
   * Notes a flush of `group` due at `dueAt` unless one is noted already (due after `staleBefore`): `claimed` when the
   * caller is to enqueue it; `dueAt` when the flush noted is due. `urgent`: it is to send everything at once.
   */
  claimFlush(
    connectionId: string,
    group: string,
    dueAt: Date,
    staleBefore: Date,
    urgent?: boolean,
  ): Promise<{ claimed: boolean; dueAt: Date }>;
  /** The flush of `group` has started: the next member change notes a new one. Answers the one that was noted. */
  releaseFlush(connectionId: string, group: string): Promise<NotedFlush | undefined>;
  /** Forgets all of it (the connection is deleted; the licence groups themselves stay in Microsoft 365). */
  clear(connectionId: string): Promise<void>;
}

/** A flush noted for a licence group: when it was due, and whether it is to send everything at once. */
export interface NotedFlush {
  dueAt: Date;
  urgent: boolean;
}

export interface LicenceMembership {
  /** The licence group's externalId (m365prov-lic-…). */
  group: string;
  /** The account this connection put there. */
  objectId: string;
  /** When the user was put there (ISO). */
  since?: string;
}

export interface PendingMemberChange {
  /** The account to add or remove. */
  objectId: string;
  externalId: string;
  change: 'add' | 'remove';
  /** When the change was queued (ISO). */
  since: string;
  /** Where the store keeps it (settle drops exactly the changes read). */
  key?: string;
}

/** A SCIM bearer token of a connection: only its SHA-256 is kept (the token is shown once, when it is made). */
export interface ScimTokenRecord {
  connectionId: string;
  id: string;
  /** SHA-256 of the whole token, hex. */
  hash: string;
  description?: string;
  createdAt: string;
  lastUsedAt?: string;
}

export interface ScimTokenStore {
  add(record: ScimTokenRecord): Promise<void>;
  get(connectionId: string, id: string): Promise<ScimTokenRecord | undefined>;
  list(connectionId: string): Promise<ScimTokenRecord[]>;
  /** False when there was no such token. */
  delete(connectionId: string, id: string): Promise<boolean>;
  touch(connectionId: string, id: string, at: string): Promise<void>;
}

/** A SCIM User or Group as received (the directory's side), with the version its latest change was given. */
export interface ScimRecord {
  connectionId: string;
  kind: 'user' | 'group';
  /** The SCIM id, also the change contract's externalId of this user or group. */
  id: string;
  resource: Record<string, unknown>;
  /** The version of the latest change made from it: grows by one per write, under the row's ETag. */
  version: number;
  created: string;
  lastModified: string;
  /** A user's password as received (sealed): sent with every change until the account exists. */
  passwordCipher?: string;
  etag?: string;
}

/**
 * The SCIM resources of a connection. Users' userNames are unique per connection (case-insensitive): an index row
 * written in the same transaction as the user's own, so two requests can never both take one.
 */
export interface ScimStore {
  get(connectionId: string, kind: 'user' | 'group', id: string): Promise<ScimRecord | undefined>;
  /** The id of the user with this userName (case-insensitive). */
  idByUserName(connectionId: string, userName: string): Promise<string | undefined>;
  /** Conflict `scim-uniqueness` when the userName is taken. */
  create(record: ScimRecord): Promise<ScimRecord>;
  /**
   * Replaces `current` (read with its etag) by `next`: conflict `concurrent-update` when it changed since, or
   * `scim-uniqueness` when next's userName is another user's.
   */
  replace(current: ScimRecord, next: ScimRecord): Promise<ScimRecord>;
  /** Deletes `current` (conditional on its etag: conflict `concurrent-update`) and its userName. */
  delete(current: ScimRecord): Promise<void>;
  /** Every resource of a kind, in id order. */
  list(connectionId: string, kind: 'user' | 'group'): Promise<ScimRecord[]>;
  /** Forgets every SCIM token and resource of the connection (it is deleted). */
  clear(connectionId: string): Promise<void>;
}
