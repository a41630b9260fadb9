// What an admin sees and does for one user: its state, provision on demand, retry, releasing held changes, and
// the provisioning log.
import { z } from 'zod';
import { changeSchema, postedChangeSchema } from '../domain/change.js';
import { AppError, ValidationError } from '../domain/errors.js';
import { isInSync, operationActions, type ProvisioningLogRecord, type UserState } from '../domain/user-state.js';
import { fieldErrors } from '../domain/validation.js';
import { type ApplyDeps, applyOperation, type OperationOutcome } from './apply-operation.js';
import { hideDesired, openChange } from './change-secrets.js';
import { loadConnection } from './connections.js';
import type { LogQuery } from './ports.js';
import { reapplyMessage } from './release-held.js';

/** The user of a connection that has received a change; 404 otherwise (an unknown connection too). */
async function loadUser(
  deps: Pick<ApplyDeps, 'connections' | 'users'>,
  connectionId: string,
  externalId: string,
): Promise<UserState> {
  await loadConnection(deps, connectionId);
  const user = await deps.users.get(connectionId, externalId);
  if (!user)
    throw new AppError(
      'not-found',
      'user-not-found',
      `No change has been received for user ${externalId} on this connection`,
      { externalId },
    );
  return user;
}

export async function getUserState(deps: ApplyDeps, connectionId: string, externalId: string) {
  const user = await loadUser(deps, connectionId, externalId);
  return {
    externalId: user.externalId,
    status: user.status,
    ...(user.statusReason ? { statusReason: user.statusReason } : {}),
    desired: user.desired ? hideDesired(user.desired) : null,
    appliedVersion: user.appliedVersion,
    /** Microsoft 365 reflects every change received so far. */
    inSync: isInSync(user),
    blockedBy: user.blockedBy ?? null,
    link: user.objectId ? { objectId: user.objectId, userPrincipalName: user.userPrincipalName ?? null } : null,
    ownedLicenses: user.ownedLicenses,
    lastChange: user.lastChange
      ? { operationId: user.lastChange.operationId, version: user.lastChange.version, type: user.lastChange.type }
      : null,
    lastError: user.lastError ?? null,
    lastOperationId: user.lastOperationId ?? null,
    updatedAt: user.updatedAt,
    history: `/api/connections/${connectionId}/logs?externalId=${encodeURIComponent(externalId)}`,
  };
}

/**
 * Provision on demand (Entra's "Provision on demand"): runs the executor now, for the posted change or, without
 * one, the user's current desired state, and answers the step trace.
 */
export async function provisionOnDemand(
  deps: ApplyDeps,
  connectionId: string,
  externalId: string,
  change: unknown,
): Promise<OperationOutcome> {
  await loadConnection(deps, connectionId);
  if (change !== undefined) {
    const parsed = postedChangeSchema
      .extend({ externalId: changeSchema.shape.externalId.optional() })
      .safeParse(change);
    if (!parsed.success) throw new ValidationError(fieldErrors(parsed.error));
    if (parsed.data.externalId !== undefined && parsed.data.externalId !== externalId)
      throw new ValidationError([
        { field: 'externalId', message: `must be ${externalId} (the user in the URL) or left out` },
      ]);
    return applyOperation(deps, {
      ...parsed.data,
      connectionId,
      externalId,
      operationId: parsed.data.operationId ?? crypto.randomUUID(),
    });
  }
  const user = await deps.users.get(connectionId, externalId);
  if (!user?.lastChange)
    throw new AppError(
      'not-found',
      'user-not-found',
      `No change has been received for user ${externalId}: post one in the request body`,
      { externalId },
    );
  return applyOperation(
    deps,
    { ...openChange(deps.secrets, user.lastChange), operationId: crypto.randomUUID() },
    { reapply: true },
  );
}

/** Puts a failed or held user's change back on the queue (same operation id: the log shows the retry). */
export async function retryUser(
  deps: ApplyDeps,
  connectionId: string,
  externalId: string,
): Promise<{ operationId: string; version: number }> {
  const user = await loadUser(deps, connectionId, externalId);
  const change = user.lastChange;
  // A blocked user too: once the setting that blocked it is changed, a retry applies what it held back.
  if (!change || !['failed', 'held', 'blocked'].includes(user.status)) {
    throw new AppError(
      'conflict',
      'nothing-to-retry',
      `User ${externalId} is ${user.status}: only failed, held or blocked operations can be retried`,
      { status: user.status },
    );
  }
  await deps.queue.enqueue(reapplyMessage(deps, change, 'retry requested by an admin'));
  return { operationId: change.operationId, version: change.version };
}

export const logQuerySchema = z.strictObject({
  externalId: z.string().min(1).max(256).optional(),
  status: z.enum(['applied', 'skipped', 'blocked', 'failed', 'held', 'planned']).optional(),
  action: z.enum(operationActions).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  continuation: z.string().max(2048).optional(),
});

export async function queryLogs(
  deps: ApplyDeps,
  connectionId: string,
  q: z.infer<typeof logQuerySchema>,
): Promise<{ value: ProvisioningLogRecord[]; continuation: string | null }> {
  await loadConnection(deps, connectionId);
  const query: LogQuery = { limit: q.limit };
  if (q.externalId) query.externalId = q.externalId;
  if (q.status) query.result = q.status;
  if (q.action) query.action = q.action;
  if (q.since) query.since = q.since;
  if (q.until) query.until = q.until;
  if (q.continuation) query.continuation = q.continuation;
  const { records, continuation } = await deps.log.query(connectionId, query);
  return { value: records, continuation: continuation ?? null };
}
