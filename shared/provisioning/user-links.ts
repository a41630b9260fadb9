// An admin's hand on a user's link to its Microsoft 365 account: unlink it (the account is left exactly as it is and
// is never adopted again automatically by this user), and re-match it (run matching again now, or link the account
// the admin names — still never a role holder or another directory user's account).
import { z } from 'zod';
import { AppError, ValidationError } from '../domain/errors.js';
import type { UserState } from '../domain/user-state.js';
import { fieldErrors } from '../domain/validation.js';
import { type ApplyDeps, applyOperation, type OperationOutcome } from './apply-operation.js';
import { openChange } from './change-secrets.js';
import { loadConnection } from './connections.js';
import { releaseAccountLink } from './link-claims.js';

export const rematchBodySchema = z.strictObject({
  objectId: z
    .guid()
    .optional()
    .describe('The Microsoft 365 account to link (its object id); without it, the matching rules run again'),
});

async function loadUser(deps: ApplyDeps, connectionId: string, externalId: string): Promise<UserState> {
  const user = await deps.users.get(connectionId, externalId);
  if (!user)
    throw new AppError('not-found', 'user-not-found', `No change has been received for user ${externalId}`, {
      externalId,
    });
  if (user.lease && Date.parse(user.lease.until) > deps.clock.now().getTime())
    throw new AppError('conflict', 'user-busy', `User ${externalId} is being provisioned now: try again shortly`, {
      operationId: user.lease.operationId,
    });
  return user;
}

/**
 * POST …/users/{externalId}/unlink: forgets the link (and this connection's claim on the account and the licences
 * it assigned there); the account is not touched. The user's operations then wait for a re-match.
 */
export async function unlinkUser(deps: ApplyDeps, connectionId: string, externalId: string) {
  const connection = await loadConnection(deps, connectionId);
  const user = await loadUser(deps, connectionId, externalId);
  if (!user.objectId)
    throw new AppError('conflict', 'user-not-linked', `User ${externalId} is not linked to a Microsoft 365 account`, {
      externalId,
    });
  const unlinkedFrom = await unlink(deps, connection.tenantId, user);
  return { externalId, status: 'unlinked' as const, unlinkedFrom };
}

async function unlink(deps: ApplyDeps, tenantId: string, user: UserState & { objectId?: string }) {
  const objectId = user.objectId!;
  const unlinkedFrom = { objectId, at: deps.clock.now().toISOString() };
  const {
    objectId: _o,
    userPrincipalName: _u,
    claimedObjectId: _c,
    lastApplied: _a,
    generated: _g,
    blockedBy: _b,
    ...rest
  } = user;
  await deps.users.save({
    ...rest,
    ownedLicenses: [],
    unlinkedFrom,
    status: 'unlinked',
    statusReason: `Unlinked by an admin from account ${objectId}: re-match the user to provision it again`,
    updatedAt: unlinkedFrom.at,
  });
  await releaseAccountLink(deps, { tenantId, connectionId: user.connectionId, externalId: user.externalId }, objectId);
  return unlinkedFrom;
}

/**
 * POST …/users/{externalId}/rematch: unlinks the user when it is linked, then runs its current desired state now
 * (like provision on demand) with the matching rules, or linking the account named in the body. Answers the outcome
 * with its trace and what matching found.
 */
export async function rematchUser(
  deps: ApplyDeps,
  connectionId: string,
  externalId: string,
  body: unknown,
): Promise<OperationOutcome> {
  const parsed = rematchBodySchema.safeParse(body ?? {});
  if (!parsed.success) throw new ValidationError(fieldErrors(parsed.error));
  const connection = await loadConnection(deps, connectionId);
  const user = await loadUser(deps, connectionId, externalId);
  if (!user.lastChange)
    throw new AppError('not-found', 'user-not-found', `No change has been received for user ${externalId}`, {
      externalId,
    });
  if (user.objectId && user.objectId !== parsed.data.objectId) await unlink(deps, connection.tenantId, user);
  return applyOperation(
    deps,
    { ...openChange(deps.secrets, user.lastChange), operationId: crypto.randomUUID() },
    { reapply: true, rematch: parsed.data.objectId ? { objectId: parsed.data.objectId } : {} },
  );
}
