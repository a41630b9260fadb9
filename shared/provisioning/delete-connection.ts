// Deleting a connection: with provisioned users the admin chooses to keep their accounts or deprovision them first.
import { desiredVersion } from '../domain/desired-state.js';
import { AppError } from '../domain/errors.js';
import { DEFAULT_SYNC_SETTINGS } from '../domain/sync-settings.js';
import { type UserState } from '../domain/user-state.js';
import { type ApplyDeps } from './apply-operation.js';
import type { AuditDeps } from './audit.js';
import { type ConfigWrite, loadConnection, removeConnection, requireMatch } from './connections.js';

export const provisionedUsersChoices = ['keep', 'deprovision'] as const;
export type ProvisionedUsersChoice = (typeof provisionedUsersChoices)[number];

/** Still has an account this connection provisioned (linked, and not already removed by it). */
const stillProvisioned = (u: UserState) =>
  Boolean(u.objectId) &&
  !(u.desired?.lifecycle?.state === 'removed' && u.appliedVersion >= u.desired.lifecycle.version);

/**
 * Deletes a connection. With provisioned users the caller must choose: `keep` leaves their Microsoft 365
 * accounts as they are; `deprovision` removes them per the connection's remove action first (the connection
 * stays until they are removed; delete it again then).
 */
export async function deleteConnection(
  deps: ApplyDeps & AuditDeps,
  id: string,
  choice?: ProvisionedUsersChoice,
  write?: ConfigWrite,
) {
  const connection = await loadConnection(deps, id);
  requireMatch(connection, write?.ifMatch);
  const users = await deps.users.listAll(id);
  const provisioned = users.filter(stillProvisioned);
  if (provisioned.length > 0 && choice === undefined) {
    throw new AppError(
      'conflict',
      'provisioned-users-choice-required',
      `${provisioned.length} user(s) were provisioned through this connection. Repeat with ?provisionedUsers=keep to leave their Microsoft 365 accounts as they are, or ?provisionedUsers=deprovision to remove them first (remove action: ${{ ...DEFAULT_SYNC_SETTINGS, ...connection.settings }.removeAction})`,
      { provisionedUsers: provisioned.length },
    );
  }
  if (provisioned.length > 0 && choice === 'deprovision') {
    const settings = { ...DEFAULT_SYNC_SETTINGS, ...connection.settings };
    for (const u of provisioned) {
      await deps.queue.enqueue({
        type: 'remove',
        connectionId: id,
        externalId: u.externalId,
        version: Math.max(u.appliedVersion, desiredVersion(u.desired)) + 1,
        operationId: crypto.randomUUID(),
      });
    }
    return {
      status: 202,
      body: {
        deleted: false,
        id,
        provisionedUsers: {
          count: provisioned.length,
          action: 'deprovisioning' as const,
          removeAction: settings.removeAction,
        },
        detail:
          'Remove operations were enqueued; delete the connection again once they have been applied (see its log).',
      },
    };
  }
  await deps.users.deleteAll(id);
  await removeConnection(deps, connection, write);
  return {
    status: 200,
    body: {
      deleted: true,
      id,
      provisionedUsers: {
        count: provisioned.length,
        action: provisioned.length > 0 ? ('kept' as const) : ('none' as const),
      },
    },
  };
}
