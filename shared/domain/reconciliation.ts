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
}

export type ItemDisposition = 'enqueued' | 'staged' | 'planned' | 'reported';

/** One finding of a run: a drifted user and what was done about it, or an unmatched account. */
export interface RunItem {
  kind: DriftKind | 'unmatched';
  externalId?: string;
  objectId?: string;
  userPrincipalName?: string;
  detail: string;
  differences?: PropertyDifference[];
  disposition: ItemDisposition;
  /** The corrective operation (what the executor will do), when one was planned, enqueued or staged. */
  operation?: 'reconcile' | 'disable' | 'delete';
  operationId?: string;
}

/** A disable/delete held back by the accidental-deletion threshold until an admin decides. */
export interface StagedOperation {
  connectionId: string;
  externalId: string;
  runId: string;
  operation: 'disable' | 'delete';
  kind: DriftKind;
  detail: string;
  stagedAt: string;
}

/** Per connection, between runs: the delta link, the last full round, and the lease of the run in progress. */
export interface ReconciliationState {
  connectionId: string;
  deltaLink?: string;
  deltaLinkAt?: string;
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
}

/** A disable or delete a run found, held until it knows whether the accidental-deletion threshold stages it. */
export interface HeldCorrection {
  externalId: string;
  kind: DriftKind;
  operation: 'disable' | 'delete';
  detail: string;
  objectId?: string;
  userPrincipalName?: string;
  differences?: PropertyDifference[];
}

export const emptyDriftCounts = (): Record<DriftKind, number> =>
  Object.fromEntries(driftKinds.map((k) => [k, 0])) as Record<DriftKind, number>;

/** Run ids sort newest first (inverted time), so listing a connection's runs needs no sort. */
export function newRunId(now: Date): string {
  const inverted = (9_999_999_999_999 - now.getTime()).toString().padStart(13, '0');
  return `${inverted}-${crypto.randomUUID().slice(0, 8)}`;
}
