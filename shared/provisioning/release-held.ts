// Putting a user's last change back on the queue to re-apply the merged desired state: an admin's retry, and held
// changes released when their connection becomes ready (Test connection does that, so this depends on no use case).
import type { OperationMessage } from '../domain/change.js';
import { openChange } from './change-secrets.js';
import type { OperationQueue, SecretProtector, UserStateRepository } from './ports.js';

/** Held changes of a connection that has become ready (users' and groups') go back on the queue. */
export async function releaseHeld(
  deps: { users: UserStateRepository; groups?: UserStateRepository; queue: OperationQueue; secrets: SecretProtector },
  connectionId: string,
): Promise<number> {
  const held = [
    ...(await deps.users.listByStatus(connectionId, 'held')),
    ...(deps.groups ? await deps.groups.listByStatus(connectionId, 'held') : []),
  ];
  const changes = held.flatMap((u) => (u.lastChange ? [u.lastChange] : []));
  for (const change of changes)
    await deps.queue.enqueue(reapplyMessage(deps, change, 'released: the connection is ready'));
  return changes.length;
}

/** The user's last change, marked to re-apply the merged desired state (not to be skipped as a duplicate). */
export function reapplyMessage(
  deps: { secrets: SecretProtector },
  change: OperationMessage,
  reason: string,
): OperationMessage {
  return { ...openChange(deps.secrets, change), retry: { attempt: 1, reason } };
}
