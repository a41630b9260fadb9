// Deleting a connection whose users were provisioned.
// - deprovisionOnRuleDeletion on (PingOne's setting): the connection shows `deleting`, a remove is enqueued for every
//   provisioned user (the normal pipeline: queue → applyOperation, per removeAction), and the connection removes
//   itself once the last removal is applied: applyOperation calls settleDeletion after every remove. Anything but a
//   removal is skipped meanwhile. A removal that fails waits for an admin (retry it, or force with keep).
// - off: the admin chooses keep (accounts stay as they are) or deprovision (removes enqueued; delete again later).
import type { OperationMessage } from '../domain/change.js';
import type { Connection, ConnectionView, DeletionProgress } from '../domain/connection.js';
import { desiredVersion } from '../domain/desired-state.js';
import { AppError, isAppError } from '../domain/errors.js';
import { effectiveSettings } from '../domain/sync-settings.js';
import { type UserState, type UserStatus } from '../domain/user-state.js';
import { type ApplyDeps } from './apply-operation.js';
import type { AuditDeps } from './audit.js';
import { type ConfigWrite, loadConnection, removeConnection, requireMatch } from './connections.js';

export const provisionedUsersChoices = ['keep', 'deprovision'] as const;
export type ProvisionedUsersChoice = (typeof provisionedUsersChoices)[number];

type DeletionDeps = Pick<
  ApplyDeps,
  'connections' | 'users' | 'groups' | 'licenceGroups' | 'scim' | 'queue' | 'clock' | 'pendingRemovals'
>;

/** Still has an account this connection provisioned (linked, and not already removed by it). */
const stillProvisioned = (u: UserState) =>
  Boolean(u.objectId) &&
  !(u.desired?.lifecycle?.state === 'removed' && u.appliedVersion >= u.desired.lifecycle.version);

/** Statuses in which a removal waits for an admin rather than for the queue (shown as failed in the progress). */
const WAITING_FOR_ADMIN: UserStatus[] = ['failed', 'held', 'blocked', 'planned'];

const removeMessage = (connectionId: string, u: UserState): OperationMessage => ({
  type: 'remove',
  connectionId,
  externalId: u.externalId,
  version: Math.max(u.appliedVersion, desiredVersion(u.desired)) + 1,
  operationId: crypto.randomUUID(),
});

/**
 * Deletes a connection. With provisioned users: deprovisionOnRuleDeletion on starts a deletion that deprovisions
 * them and ends by itself (202); off, the caller must choose keep or deprovision. While a deletion runs, DELETE
 * again reports its progress (and finishes it if nothing is left), and `keep` deletes the connection at once,
 * leaving the accounts not removed yet as they are.
 */
export async function deleteConnection(
  deps: ApplyDeps & AuditDeps,
  id: string,
  choice?: ProvisionedUsersChoice,
  write?: ConfigWrite,
) {
  const connection = await loadConnection(deps, id);
  requireMatch(connection, write?.ifMatch);
  // The admin's deletion: conditional on If-Match, recorded in the audit log.
  const removeRow = () => removeConnection(deps, connection, write);
  if (connection.deletion) {
    if (choice === 'keep') {
      const remaining = (await deps.pendingRemovals.list(id)).length;
      await removeEverything(deps, connection, removeRow);
      return deleted(id, remaining, remaining > 0 ? 'kept' : 'none');
    }
    return resumeDeletion(deps, connection);
  }
  const settings = effectiveSettings(connection.settings);
  const provisioned = (await deps.users.listAll(id)).filter(stillProvisioned);
  if (provisioned.length === 0 || choice === 'keep') {
    await removeEverything(deps, connection, removeRow);
    return deleted(id, provisioned.length, provisioned.length > 0 ? 'kept' : 'none');
  }
  if (settings.deprovisionOnRuleDeletion) return startDeletion(deps, connection, provisioned);
  if (choice === undefined) {
    throw new AppError(
      'conflict',
      'provisioned-users-choice-required',
      `${provisioned.length} user(s) were provisioned through this connection. Repeat with ?provisionedUsers=keep to leave their Microsoft 365 accounts as they are, or ?provisionedUsers=deprovision to remove them first (remove action: ${settings.removeAction}); with the setting deprovisionOnRuleDeletion on, a deletion deprovisions them and ends by itself`,
      { provisionedUsers: provisioned.length },
    );
  }
  for (const u of provisioned) await deps.queue.enqueue(removeMessage(id, u));
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
      detail: 'Remove operations were enqueued; delete the connection again once they have been applied (see its log).',
    },
  };
}

const deleted = (id: string, count: number, action: 'kept' | 'none') => ({
  status: 200,
  body: { deleted: true, id, provisionedUsers: { count, action } },
});

/**
 * Pending removals are recorded first, then the connection is marked (from then on only removals run), then the
 * removes are enqueued: a removal can only finish once both exist, so none is missed.
 */
async function startDeletion(deps: DeletionDeps, connection: Connection, provisioned: UserState[]) {
  const id = connection.id;
  const now = deps.clock.now().toISOString();
  await deps.pendingRemovals.add(
    id,
    provisioned.map((u) => u.externalId),
  );
  const removeAction = effectiveSettings(connection.settings).removeAction;
  const marked = await deps.connections.replace({
    ...connection,
    deletion: { requestedAt: now, removeAction, total: provisioned.length },
    updatedAt: now,
  });
  for (const u of provisioned) await deps.queue.enqueue(removeMessage(id, u));
  return deleting(marked, { done: 0, failed: 0, pending: provisioned.length });
}

function deleting(connection: Connection, progress: DeletionProgress) {
  const d = connection.deletion!;
  return {
    status: 202,
    body: {
      deleted: false,
      id: connection.id,
      status: 'deleting' as const,
      deletion: { requestedAt: d.requestedAt, removeAction: d.removeAction, total: d.total, ...progress },
      provisionedUsers: { count: d.total, action: 'deprovisioning' as const, removeAction: d.removeAction },
      detail:
        progress.failed > 0
          ? `${progress.failed} removal(s) failed: retry them (GET …/users?status=failed, POST …/users/{externalId}/retry), or DELETE with ?provisionedUsers=keep to delete the connection now and leave those accounts as they are.`
          : 'The users are being removed through the provisioning queue; the connection removes itself once the last removal is applied (GET it for the progress).',
    },
  };
}

/**
 * DELETE while deleting: looks at every removal still pending (one whose user is done is dropped; one whose remove
 * never reached the user, a message lost, is enqueued again), finishes if nothing is left, else answers the progress.
 */
async function resumeDeletion(deps: DeletionDeps, connection: Connection) {
  const id = connection.id;
  for (const externalId of await deps.pendingRemovals.list(id)) {
    const user = await deps.users.get(id, externalId);
    if (!user || !stillProvisioned(user)) await deps.pendingRemovals.remove(id, externalId);
    else if (user.desired?.lifecycle?.state !== 'removed') await deps.queue.enqueue(removeMessage(id, user));
  }
  if (await finishIfDone(deps, id, { force: true })) return deleted(id, 0, 'none');
  const latest = await loadConnection(deps, id);
  return deleting(latest, await deletionProgress(deps, id, latest.deletion?.total ?? 0));
}

/** The connection as GET shows it: while it is being deleted, with the deletion's progress counted. */
export async function withDeletionProgress(
  deps: Pick<DeletionDeps, 'users' | 'pendingRemovals'>,
  view: ConnectionView,
): Promise<ConnectionView> {
  if (!view.deletion) return view;
  return { ...view, deletion: { ...view.deletion, ...(await deletionProgress(deps, view.id, view.deletion.total)) } };
}

/**
 * How far a deletion is: removals done, waiting for an admin (failed, held, blocked or only planned), and still on
 * their way. Reads the pending removals and the users in those statuses (a filtered query each).
 */
async function deletionProgress(
  deps: Pick<DeletionDeps, 'users' | 'pendingRemovals'>,
  connectionId: string,
  total: number,
): Promise<DeletionProgress> {
  const remaining = await deps.pendingRemovals.list(connectionId);
  const waiting = new Set(
    (await Promise.all(WAITING_FOR_ADMIN.map((s) => deps.users.listByStatus(connectionId, s))))
      .flat()
      .map((u) => u.externalId),
  );
  const failed = remaining.filter((externalId) => waiting.has(externalId)).length;
  return {
    done: Math.max(0, total - remaining.length),
    failed,
    pending: remaining.length - failed,
  };
}

/** While a connection is being deleted only removals run: why anything else is skipped (for the log), or undefined. */
export const skippedWhileDeleting = (connection: Connection, message: Pick<OperationMessage, 'type'>) =>
  connection.deletion && message.type !== 'remove'
    ? 'The connection is being deleted: only the removal of its users is applied'
    : undefined;

/**
 * After a remove operation (applyOperation calls this): if its connection is being deleted and the user's account
 * is removed, that removal is no longer pending; when none is left, the connection and its rows are deleted.
 * Costs two point reads and one small query per remove; the whole partition is read once, at the end.
 */
export async function settleDeletion(deps: DeletionDeps, connectionId: string, externalId: string): Promise<void> {
  const connection = await deps.connections.get(connectionId);
  if (!connection?.deletion) return;
  const user = await deps.users.get(connectionId, externalId);
  if (user && stillProvisioned(user)) return;
  await deps.pendingRemovals.remove(connectionId, externalId);
  await finishIfDone(deps, connectionId);
}

/** How old a finisher's mark must be before an admin's DELETE takes over (its finisher is taken to have died). */
const FINISH_TAKEOVER_MS = 60_000;

/**
 * Deletes the connection once no removal is pending. One caller finishes (it marks the deletion with the row's
 * ETag); a mark left by a finisher that died is taken over by an admin's DELETE (`force`) after a minute. Before deleting, the whole partition
 * is read once: a user provisioned meanwhile (an operation already running when the deletion started) gets its
 * removal too, and the deletion waits for it.
 */
async function finishIfDone(deps: DeletionDeps, id: string, { force = false } = {}): Promise<boolean> {
  for (let attempt = 0; attempt < 3; attempt++) {
    if ((await deps.pendingRemovals.list(id, 1)).length > 0) return false;
    const connection = await deps.connections.get(id);
    if (!connection?.deletion) return connection === undefined;
    const finishing = connection.deletion.finishingAt;
    if (finishing && (!force || Date.parse(finishing) > deps.clock.now().getTime() - FINISH_TAKEOVER_MS)) return false;
    let claimed: Connection;
    try {
      claimed = await deps.connections.replace({
        ...connection,
        deletion: { ...connection.deletion, finishingAt: deps.clock.now().toISOString() },
      });
    } catch (error) {
      if (isAppError(error) && error.code === 'concurrent-update') continue;
      throw error;
    }
    const late = (await deps.users.listAll(id)).filter(stillProvisioned);
    if (late.length > 0) {
      await deps.pendingRemovals.add(
        id,
        late.map((u) => u.externalId),
      );
      const { finishingAt: _finishing, ...deletion } = claimed.deletion!;
      await deps.connections.replace({ ...claimed, deletion: { ...deletion, total: deletion.total + late.length } });
      for (const u of late) await deps.queue.enqueue(removeMessage(id, u));
      return false;
    }
    await removeEverything(deps, claimed);
    return true;
  }
  return false;
}

/**
 * The connection's user and group rows, licence group bookkeeping, SCIM tokens and resources, pending removals and
 * the connection itself (Microsoft 365 keeps its objects).
 */
async function removeEverything(
  deps: DeletionDeps,
  connection: Connection,
  removeRow: () => Promise<unknown> = () => deps.connections.delete(connection.id),
): Promise<void> {
  await deps.users.deleteAll(connection.id);
  await deps.groups.deleteAll(connection.id);
  await deps.licenceGroups.clear(connection.id);
  await deps.scim.clear(connection.id);
  await deps.pendingRemovals.clear(connection.id);
  await removeRow();
}
