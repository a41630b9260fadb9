// What the operation pipeline (apply-operation.ts) needs of an object type: how to act on Microsoft 365 for the
// merged desired state of one claimed object. The pipeline does the rest for every type alike — load with its
// ETag, merge the change, lease, hold while the connection is not ready, save and log. Users are the first type
// (user-actions.ts); groups come beside them.
import type { ObjectType } from '../domain/change.js';
import type { Connection } from '../domain/connection.js';
import type { EffectiveChange } from '../domain/desired-state.js';
import { AppError } from '../domain/errors.js';
import type { Mapping } from '../domain/mapping/mapping.js';
import type { SyncSettings } from '../domain/sync-settings.js';
import type {
  BlockedBy,
  GeneratedValues,
  MatchReport,
  OperationAction,
  OperationResult,
  PendingReference,
  UserState,
} from '../domain/user-state.js';
import type { GraphUser, LicenceMembership, NotedFlush, PendingMemberChange, TenantGateway } from './ports.js';

export interface ActionOutcome {
  result: Extract<OperationResult, 'applied' | 'skipped' | 'blocked'>;
  action: OperationAction;
  reason?: string;
  changedProperties: string[];
  /** The account now linked (undefined when none). */
  account?: GraphUser;
  ownedLicenses: string[];
  /** Values written or confirmed (mapped properties). */
  applied?: Record<string, unknown>;
  /** What policy held back: the account still differs there. */
  blockedBy?: BlockedBy[];
  /** What matching found (accounts adopted, or not and why). */
  match?: MatchReport[];
  /** Values generated on a UPN collision, to use instead of the mapped ones from now on. */
  generated?: GeneratedValues;
  /** References not provisioned yet: re-applied by themselves once each is linked. */
  pending?: PendingReference[];
  /** Groups: the member object ids this connection added. */
  ownedMembers?: string[];
  /** Stop managing the object (a group kept on remove): the link is dropped, the object left as it is. */
  unlink?: boolean;
  /** Come back after this long to finish (a write replication delayed). */
  requeueAfterMs?: number;
}

/** The other objects of the connection, as this app holds them (to resolve references by externalId). */
export interface References {
  user(externalId: string): Promise<UserState | undefined>;
  group(externalId: string): Promise<UserState | undefined>;
  /** Many users at once (references.ts: point reads for a few, one scan for many). */
  users(externalIds: string[]): Promise<Map<string, UserState | undefined>>;
  /** Several groups at once (point reads, a bounded number in flight). */
  groups(externalIds: string[]): Promise<Map<string, UserState | undefined>>;
}

/**
 * One Microsoft 365 account, one directory user: claims an account for the user acting now before it is adopted or
 * linked (see UserStateRepository.claimLink). Answers why not when another directory user holds it.
 */
export interface LinkClaims {
  claim(objectId: string): Promise<string | undefined>;
}

/** What makes one of the connection's licence groups (group-based licensing): its id, properties and licences. */
export interface LicenceGroupSpec {
  /** externalId and mailNickname, m365prov-lic-… (licenseGroupId). */
  id: string;
  attributes: Record<string, unknown>;
  licenses: { sku: string; disabledPlans: string[] }[];
}

/**
 * Group-based licensing for this connection (licence-groups.ts): which licence group a user is in through it, and
 * the member changes each licence group gathers until one flush sends them, 20 per write.
 */
export interface LicenceGroups {
  membership(externalId: string): Promise<LicenceMembership | undefined>;
  /**
   * Puts the user's account into the licence group for `to` (undefined: into none) and out of `from`'s: recorded
   * now, sent with other users' changes by the group's next flush (scheduled here).
   */
  move(externalId: string, objectId: string, to: LicenceGroupSpec | undefined, from?: LicenceMembership): Promise<void>;
  /** The licence group's Microsoft 365 object id, once it exists. */
  objectIdOf(group: string): Promise<string | undefined>;
  /** Makes sure a flush of the group's member changes is on its way (in `delayMs`, or the usual short delay). */
  scheduleFlush(group: string, delayMs?: number, urgent?: boolean): Promise<void>;
  pending(group: string, limit: number): Promise<PendingMemberChange[]>;
  settle(group: string, sent: PendingMemberChange[]): Promise<void>;
  /** The flush starts: the next member change schedules another. The one that was noted, if any. */
  releaseFlush(group: string): Promise<NotedFlush | undefined>;
  accountsIn(group: string): Promise<string[]>;
}

export interface ActionContext {
  connection: Connection;
  settings: SyncSettings;
  mapping: Mapping;
  gateway: Pick<TenantGateway, 'users' | 'licenses' | 'groups'>;
  user: UserState;
  /** The merged desired state to reconcile with (see domain/desired-state.ts). */
  change: EffectiveChange;
  trace: (step: string, detail: string) => void;
  links: LinkClaims;
  references: References;
  /** Group-based licensing (licensingMode group). */
  licenceGroups: LicenceGroups;
  /** An earlier attempt of an operation on this user was cut short at this time (its lease was left behind). */
  resumedSince?: number;
  /** A re-match naming the account to link (an admin's choice, checked like any adoption). */
  linkTo?: string;
}

/** One object type of the pipeline. */
export interface ObjectKind {
  /** How the type is named in traces, errors and messages (`objectType`). */
  name: ObjectType;
  /** Which repository of the pipeline's deps holds its rows. */
  rows: 'users' | 'groups';
  act(ctx: ActionContext): Promise<ActionOutcome>;
}

/**
 * Graph's answer when an object written a moment ago is not replicated yet (group-post-members, group-update: 400
 * "…objects being referenced do not exist", or a 404).
 */
export const isReplicationDelay = (error: unknown): error is AppError =>
  error instanceof AppError && (error.kind === 'not-found' || /do(es)? not exist/i.test(error.message));
