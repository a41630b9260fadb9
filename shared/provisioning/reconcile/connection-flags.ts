// The flags reconciliation sets on a connection — `quarantine` and `stagedOperations` — are written by
// read-modify-write with the connection's ETag, retried when someone else wrote the connection meanwhile (an
// admin's settings, a connection test, a rotated refresh token), so a flag never overwrites their change.
import type { Connection } from '../../domain/connection.js';
import { AppError, isAppError } from '../../domain/errors.js';
import type { ReconcileDeps } from './deps.js';

/** Applies `change` to the stored connection (undefined from `change`: nothing to write); undefined when it is gone. */
export async function updateConnectionFlags(
  deps: Pick<ReconcileDeps, 'connections' | 'clock'>,
  id: string,
  change: (c: Connection) => Connection | undefined,
): Promise<Connection | undefined> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await deps.connections.get(id);
    if (!current) return undefined;
    const next = change(current);
    if (!next) return current;
    try {
      return await deps.connections.replace({ ...next, updatedAt: deps.clock.now().toISOString() });
    } catch (error) {
      if (!(isAppError(error) && error.code === 'concurrent-update')) throw error;
    }
  }
  throw new AppError('conflict', 'concurrent-update', `Connection ${id} kept changing; try again`);
}
