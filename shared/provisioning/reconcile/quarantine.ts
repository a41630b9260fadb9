// Quarantine: decides when a connection is quarantined — more than `quarantineFailurePercent` of at least
// `quarantineMinimumOperations` recent operations failed, or its credentials were refused — and marks it (since,
// reason) so the timer reconciles it at most every QUARANTINE_INTERVAL_MS. A successful connection test lifts it
// (shared/provisioning/test-connection.ts), never a run.
import type { Connection } from '../../domain/connection.js';
import { updateConnectionFlags } from './connection-flags.js';
import { type ReconcileDeps, settingsOf } from './deps.js';

/** A quarantined connection is reconciled at most this often by the timer. */
export const QUARANTINE_INTERVAL_MS = 6 * 3600_000;

/** Marks the connection quarantined, unless it already is (the first reason and time stay). */
export async function quarantine(
  deps: Pick<ReconcileDeps, 'connections' | 'clock'>,
  connectionId: string,
  reason: string,
): Promise<void> {
  await updateConnectionFlags(deps, connectionId, (c) =>
    c.quarantine ? undefined : { ...c, quarantine: { since: deps.clock.now().toISOString(), reason } },
  );
}

/** Quarantines the connection when too many of its recent operations failed (thresholds in its settings). */
export async function evaluateQuarantine(
  deps: Pick<ReconcileDeps, 'connections' | 'clock' | 'log'>,
  connection: Connection,
): Promise<void> {
  if (connection.quarantine) return;
  const s = settingsOf(connection);
  const { records } = await deps.log.query(connection.id, { limit: s.quarantineMinimumOperations });
  const operations = records.filter((r) => r.result !== 'planned');
  if (operations.length < s.quarantineMinimumOperations) return;
  const failed = operations.filter((r) => r.result === 'failed').length;
  const percent = (100 * failed) / operations.length;
  if (percent > s.quarantineFailurePercent) {
    await quarantine(
      deps,
      connection.id,
      `${failed} of the last ${operations.length} operations failed (${percent.toFixed(0)} % > ${s.quarantineFailurePercent} %): fix the cause (see the log), then test the connection`,
    );
  }
}
