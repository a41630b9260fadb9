// One user of one connection, as this app knows it: the desired state (the latest accepted change), the link to
// the Microsoft 365 account, and how the last operation ended. Read and written with its ETag.
import type { OperationMessage } from './change.js';
import type { DesiredState } from './desired-state.js';
import type { ErrorKind } from './errors.js';

export const userStatuses = [
  'pending',
  'applied',
  'skipped',
  'blocked',
  'failed',
  'held',
  'planned',
  'unlinked',
] as const;
export type UserStatus = (typeof userStatuses)[number];

export interface OperationError {
  code: string;
  kind: ErrorKind;
  message: string;
  at: string;
}

export interface UserState {
  connectionId: string;
  externalId: string;
  /** What the source wants, merged from every change received (secret attributes sealed). */
  desired?: DesiredState;
  /** The latest change received (secret attributes sealed): what a retry or a release runs again. */
  lastChange?: OperationMessage;
  /** Highest version applied to Microsoft 365 (or skipped as already so). */
  appliedVersion: number;
  /** The desired-state versions the last successful operation reconciled (in sync when equal to `desired`'s). */
  appliedDesired?: { profile: number; lifecycle: number };
  /** The linked Microsoft 365 account (Graph object id): the anchor that survives renames. */
  objectId?: string;
  userPrincipalName?: string;
  status: UserStatus;
  statusReason?: string;
  /** With status `blocked`: what policy keeps from being written. */
  blockedBy?: BlockedBy[];
  lastError?: OperationError;
  lastOperationId?: string;
  /** skuIds this connection assigned: the only licenses it ever removes. */
  ownedLicenses: string[];
  /** The mapped values last written or confirmed in Microsoft 365. */
  lastApplied?: Record<string, unknown>;
  /**
   * The connection's ETag when the last successful operation read it: the configuration (mapping, settings) it
   * applied. Another ETag now means the connection changed since (maybe only its status): not known to be the same.
   */
  appliedUnder?: string;
  /**
   * Claimed by the operation acting on this user now: operations on one user run one at a time, so an older
   * change can never write to Microsoft 365 after a newer one. Expires if its holder dies.
   */
  lease?: { operationId: string; until: string };
  /** The account whose link claim (one account, one directory user, across the tenant) this user holds. */
  claimedObjectId?: string;
  /** Values generated instead of the mapped ones (a unique UPN on collision): see GeneratedValues. */
  generated?: GeneratedValues;
  /** Unlinked by an admin from this account: never adopted again automatically; operations wait for a re-match. */
  unlinkedFrom?: { objectId: string; at: string };
  /**
   * References not provisioned yet (a group's members or nested groups, a user's manager): applied by themselves
   * once each is linked. Not in sync while any is pending.
   */
  pending?: PendingReference[];
  /** Groups: the member object ids this connection added (additive membership removes only these). */
  ownedMembers?: string[];
  createdAt: string;
  updatedAt: string;
  etag?: string;
}

export const operationResults = ['applied', 'skipped', 'blocked', 'failed', 'held', 'planned'] as const;
export type OperationResult = (typeof operationResults)[number];

/**
 * A UPN generated from upnCandidates because the mapped one (`from`) belonged to an account that may not be adopted,
 * with the mailNickname and mail that followed it. Used instead of the mapped values while the mapping still gives
 * `from`; a new mapped UPN (a rename at the source) drops it.
 */
export interface GeneratedValues {
  from: string;
  userPrincipalName: string;
  mailNickname: string;
  mail?: string;
}

/** A reference that waits for its object to be linked. */
export interface PendingReference {
  objectType: 'user' | 'group';
  externalId: string;
  /** members, groups, owners or manager. */
  as: 'member' | 'group' | 'owner' | 'manager';
  reason: string;
}

/** What matching found for a user not linked yet, and whether the account was adopted or why not. */
export interface MatchReport {
  /** The matching rule that found the account, `admin` for a re-match naming it, `create` for a UPN collision. */
  rule: 'userPrincipalName' | 'employeeId' | 'mail' | 'onPremisesImmutableId' | 'admin' | 'create';
  objectId: string;
  userPrincipalName?: string;
  adopted: boolean;
  /** Why it was not adopted. */
  reason?: string;
}

/** Policy that held back part of what the desired state asks for: the setting and the properties it kept as they are. */
export interface BlockedBy {
  setting: 'allowUpdate' | 'allowDeactivate' | 'activateOnAssign' | 'allowGroupUpdate';
  properties: string[];
}
export const operationActions = [
  'create',
  'adopt',
  'restore',
  'update',
  'activate',
  'deactivate',
  'delete',
  'disable',
  'license',
  'none',
] as const;
export type OperationAction = (typeof operationActions)[number];

export interface PlannedRequest {
  method: string;
  url: string;
  body?: unknown;
}

/** One line of the provisioning log: what happened to one operation (property names, never values). */
export interface ProvisioningLogRecord {
  connectionId: string;
  time: string;
  operationId: string;
  externalId: string;
  version: number;
  type: OperationMessage['type'] | 'malformed';
  action: OperationAction;
  result: OperationResult;
  reason?: string;
  error?: Omit<OperationError, 'at'>;
  graphRequestIds: string[];
  durationMs: number;
  changedProperties: string[];
  plan?: PlannedRequest[];
  /** A message that could not be read as a change: its text as received (secrets redacted, truncated). */
  rawMessage?: string;
  /** What policy held back (result `blocked`, or `applied` with part of the change held back). */
  blockedBy?: BlockedBy[];
  /** The accounts matching found and whether each was adopted (or why not). */
  match?: MatchReport[];
  /** A UPN generated on collision (names, never other values). */
  generatedUserPrincipalName?: string;
  /** `group` for a group's operation (users name none). */
  objectType?: 'group';
  /** References that wait to be provisioned. */
  pending?: PendingReference[];
}

/** The last successful operation reconciled every change received so far (the desired versions). */
export const reconciledAllChanges = (u: Pick<UserState, 'appliedDesired' | 'desired'>): boolean =>
  u.appliedDesired?.profile === (u.desired?.profile?.version ?? 0) &&
  u.appliedDesired?.lifecycle === (u.desired?.lifecycle?.version ?? 0);

/**
 * Microsoft 365 is taken to reflect what the source wants: every change reconciled, and the user neither failed,
 * held nor blocked by policy since (a failed correction leaves the versions equal but the account unlike the desired state).
 */
export const isInSync = (u: Pick<UserState, 'appliedDesired' | 'desired' | 'status' | 'pending'>): boolean =>
  reconciledAllChanges(u) &&
  u.status !== 'failed' &&
  u.status !== 'held' &&
  u.status !== 'blocked' &&
  u.status !== 'unlinked' &&
  !u.pending?.length;
