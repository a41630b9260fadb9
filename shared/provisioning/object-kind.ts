// What the operation pipeline (apply-operation.ts) needs of an object type: how to act on Microsoft 365 for the
// merged desired state of one claimed object. The pipeline does the rest for every type alike — load with its
// ETag, merge the change, lease, hold while the connection is not ready, save and log. Users are the first type
// (user-actions.ts); groups come beside them.
import type { ObjectType } from '../domain/change.js';
import type { Connection } from '../domain/connection.js';
import type { EffectiveChange } from '../domain/desired-state.js';
import type { Mapping } from '../domain/mapping/mapping.js';
import type { SyncSettings } from '../domain/sync-settings.js';
import type {
  BlockedBy,
  GeneratedValues,
  MatchReport,
  PendingReference,
  OperationAction,
  OperationResult,
  UserState,
} from '../domain/user-state.js';
import type { GraphUser, TenantGateway } from './ports.js';

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
}

/**
 * One Microsoft 365 account, one directory user: claims an account for the user acting now before it is adopted or
 * linked (see UserStateRepository.claimLink). Answers why not when another directory user holds it.
 */
export interface LinkClaims {
  claim(objectId: string): Promise<string | undefined>;
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
