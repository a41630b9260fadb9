// What a reconciliation run works with. Each part of a run takes only what it uses (a Pick of ReconcileDeps), so
// its signature says which ports it can touch: the lease and the findings never call Graph, the rounds never write.
import type { Connection } from '../../domain/connection.js';
import { effectiveSettings, type SyncSettings } from '../../domain/sync-settings.js';
import type { ApplyDeps } from '../apply-operation.js';
import type { ReconciliationStore, RunQueue } from '../ports.js';

export interface ReconcileDeps extends Pick<
  ApplyDeps,
  'connections' | 'secrets' | 'clock' | 'tenants' | 'users' | 'groups' | 'log' | 'queue'
> {
  reconciliation: ReconciliationStore;
  runs: RunQueue;
  /** How long a run holds its connection before another may take over (renewed while it works). */
  runLeaseMs?: number;
}

/** The connection's sync settings, defaults filled in. */
export const settingsOf = (c: Connection): SyncSettings => effectiveSettings(c.settings);
