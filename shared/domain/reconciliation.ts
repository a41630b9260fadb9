// Reconciliation runs: one comparison of a connection's desired state with its Microsoft 365 tenant, and what
// it found and did. Also the request that starts one (queue message) and the per-connection state between runs.
import { z } from 'zod';
import type { PropertyDifference } from './drift.js';
import { connectionIdSchema, runIdSchema } from './identifiers.js';

/** The queue reconciliation runs are executed from (the timer and POST …/reconcile put requests on it). */
export const RECONCILIATION_QUEUE = 'reconciliation-runs';

export const driftKinds = [
  /** Mapped properties differ. */
  'profile',
  /** accountEnabled differs from the lifecycle. */
  'enabled',
  /** A desired license is missing, or one of ours is there but no longer desired. */
  'license',
  /** The linked account was deleted in Microsoft 365 but the user is still wanted. */
  'deleted',
  /** The account exists but the user was removed (remove action delete). */
  'present',
  /** Wanted, but never linked to an account (a lost or refused create). */
  'neverLinked',
  /** A change received long ago is still not reconciled (a lost operation). */
  'stuck',
] as const;
export type DriftKind = (typeof driftKinds)[number];

/** What a run finds on a group (counted apart from users: `run.groups.drift`). */
export const groupDriftKinds = [
  /** displayName, description or mailNickname differ (the group decider's groupPatch). */
  'properties',
  /** Members the directory wants are not in the group. */
  'missingMembers',
  /** Members the directory does not want are in it (authoritative: any; additive: only those this connection added). */
  'extraMembers',
  /** The linked group was deleted in Microsoft 365 but the directory still wants it. */
  'deleted',
  /** Wanted, but never linked to a Microsoft 365 group. */
  'neverLinked',
  /** The group's own licences (its change's `licenses`) differ: one missing, or one of this connection's not wanted. */
  'licenses',
  /** A change received long ago is still not reconciled (a lost operation). */
  'stuck',
] as const;
export type GroupDriftKind = (typeof groupDriftKinds)[number];

/** Users, or groups: what a run item, a held or a staged operation is about (users when absent). */
export type ReconciledType = 'user' | 'group';

/** A corrective operation as the accidental-deletion threshold counts it (removeMembers: one per member removed). */
export type CorrectiveOperation = 'reconcile' | 'disable' | 'delete' | 'removeMembers';

export const runRequestSchema = z.strictObject({
  connectionId: connectionIdSchema,
  runId: runIdSchema,
  trigger: z.enum(['timer', 'manual']),
  dryRun: z.boolean(),
  /** Start with a full round even if a delta link is stored. */
  full: z.boolean().default(false),
  requestedAt: z.string(),
});
export type RunRequest = z.infer<typeof runRequestSchema>;

export type RunStatus = 'queued' | 'running' | 'completed' | 'failed' | 'skipped';

export interface ReconciliationRun {
  connectionId: string;
  runId: string;
  trigger: RunRequest['trigger'];
  dryRun: boolean;
  status: RunStatus;
  /** Why it was skipped or failed. */
  reason?: string;
  requestedAt: string;
  startedAt?: string;
  endedAt?: string;
  /** The delta round used: incremental from the stored link, or full (first run, expired token, forced). */
  deltaRound?: { kind: 'full' | 'incremental'; why: string };
  examined: { microsoft365: number; directory: number };
  drift: Record<DriftKind, number>;
  /** Corrective operations put on the provisioning queue (0 in a dry run). */
  enqueued: number;
  /** Disable/delete operations held for an admin (accidental-deletion threshold). */
  staged: number;
  /** Microsoft 365 accounts no directory user is linked to (reported, never touched). */
  unmatched: number;
  /** Users a failed operation waits on an admin's retry for (reported, not retried automatically). */
  failedUsers: number;
  errors: string[];
  /** Items recorded (drift, plan, unmatched); capped, see itemsTruncated. */
  items: number;
  itemsTruncated: boolean;
  graphRequests: number;
  /** The groups part of the run (absent from runs recorded before groups were reconciled). */
  groups?: GroupRunCounts;
}

/** What a run did with the connection's groups (its enqueued, staged and items totals include them). */
export interface GroupRunCounts {
  /** The groups delta round (it has its own delta link), or why there was none. */
  deltaRound?: { kind: 'full' | 'incremental'; why: string };
  skipped?: string;
  /** Groups read from Microsoft 365; group rows read from the directory side. */
  examined: { microsoft365: number; directory: number };
  drift: Record<GroupDriftKind, number>;
  /** Members the corrections found remove (they count against the accidental-deletion threshold). */
  memberRemovals: number;
  /** Microsoft 365 groups no directory group is linked to (counted, never touched). */
  unmatched: number;
  /** Groups a failed operation waits on an admin's retry for. */
  failed: number;
}

export type ItemDisposition = 'enqueued' | 'staged' | 'planned' | 'reported';

/** One finding of a run: a drifted user or group and what was done about it, or an unmatched account. */
export interface RunItem {
  objectType: ReconciledType;
  kind: DriftKind | GroupDriftKind | 'unmatched';
  externalId?: string;
  objectId?: string;
  userPrincipalName?: string;
  detail: string;
  differences?: PropertyDifference[];
  disposition: ItemDisposition;
  /** The corrective operation (what the executor will do), when one was planned, enqueued or staged. */
  operation?: CorrectiveOperation;
  /** Group members the correction removes. */
  memberRemovals?: number;
  operationId?: string;
}

/** A disable/delete (or a group's member removals) held back by the accidental-deletion threshold until an admin decides. */
export interface StagedOperation {
  connectionId: string;
  /** Absent: a user. */
  objectType?: 'group';
  externalId: string;
  runId: string;
  operation: Exclude<CorrectiveOperation, 'reconcile'>;
  kind: DriftKind | GroupDriftKind;
  detail: string;
  memberRemovals?: number;
  stagedAt: string;
}

/** Per connection, between runs: the delta link, the last full round, and the lease of the run in progress. */
export interface ReconciliationState {
  connectionId: string;
  deltaLink?: string;
  deltaLinkAt?: string;
  /** The groups delta round's own link (absent: the next group round is full). */
  groupsDeltaLink?: string;
  groupsDeltaLinkAt?: string;
  lastFullAt?: string;
  lastRunAt?: string;
  lastRunId?: string;
  lease?: { runId: string; until: string };
  /** The run that holds the lease paused here (throttled): where its re-enqueued request continues. */
  resume?: RunProgress;
  etag?: string;
}

/**
 * A run paused because Graph throttled it (or failed transiently): what it needs to continue where it stopped
 * when its own request, re-enqueued with the delay, comes back. Its counters are in its run record, its items
 * are stored; this is the rest. Kept in the state row while the run holds the lease.
 */
export interface RunProgress {
  runId: string;
  /** When it continues, and why it paused. */
  until: string;
  why: string;
  /** The delta round under way (absent: it paused before its round began). */
  round?: 'full' | 'incremental';
  /** The page it was reading, read again when it continues (absent with a round: a full round's first page). */
  link?: string;
  /** Failed attempts at that read so far (throttled or transient), for the give-up limits. */
  attempts: number;
  /** A full round: which linked accounts its pages returned so far (packed: provisioning/reconcile/seen.ts). */
  seen?: string;
  /** Disable/delete corrections held for the accidental-deletion threshold (decided when the run ends). */
  held: HeldCorrection[];
  /** Disable/delete corrections settled before a pause instead of held: staged (over the threshold), planned (dry run). */
  settled: { staged: number; planned: number };
  /** Users already corrected by this run (one correction per user per run); absent when too many to keep. */
  found?: string[];
  /**
   * Paused in the groups round: the users round is done (its next delta link kept here), and the groups round
   * starts again from its beginning when the run continues (`groupsRound`; the found list keeps its corrections single).
   */
  phase?: 'groups';
  usersDeltaLink?: string;
  groupsRound?: 'full' | 'incremental';
}

/**
 * A disable or delete (or a group's member removals) a run found, held until it knows whether the
 * accidental-deletion threshold stages it.
 */
export interface HeldCorrection {
  /** Absent: a user. */
  objectType?: 'group';
  externalId: string;
  kind: DriftKind | GroupDriftKind;
  operation: Exclude<CorrectiveOperation, 'reconcile'>;
  /** Group members the correction removes: each counts against the threshold (a disable or delete counts one). */
  memberRemovals?: number;
  detail: string;
  objectId?: string;
  userPrincipalName?: string;
  differences?: PropertyDifference[];
}

export const emptyDriftCounts = (): Record<DriftKind, number> =>
  Object.fromEntries(driftKinds.map((k) => [k, 0])) as Record<DriftKind, number>;

export const emptyGroupCounts = (): GroupRunCounts => ({
  examined: { microsoft365: 0, directory: 0 },
  drift: Object.fromEntries(groupDriftKinds.map((k) => [k, 0])) as Record<GroupDriftKind, number>,
  memberRemovals: 0,
  unmatched: 0,
  failed: 0,
});

/** How much a held correction weighs against the accidental-deletion threshold. */
export const thresholdWeight = (h: Pick<HeldCorrection, 'memberRemovals'>): number => h.memberRemovals ?? 1;

/** Run ids sort newest first (inverted time), so listing a connection's runs needs no sort. */
export function newRunId(now: Date): string {
  const inverted = (9_999_999_999_999 - now.getTime()).toString().padStart(13, '0');
  return `${inverted}-${crypto.randomUUID().slice(0, 8)}`;
}
