// Changes too large for a queue message travel as a claim check (see OperationQueue): the message names the
// stored change, which is read when the message is handled and deleted once it has been.
import { type ClaimCheckMessage, objectTypeOf, type OperationMessage } from '../domain/change.js';
import type { ApplyDeps } from './apply-operation.js';
import { recordFailure } from './failures.js';
import type { OperationBodies } from './ports.js';

export type ClaimCheckDeps = ApplyDeps & { operationBodies: OperationBodies };

/**
 * The change a claim-check message refers to. Undefined when the stored change is gone: either an earlier delivery
 * handled it (the user names this operation: nothing left to do) or it was lost, which is recorded as a failure.
 */
export async function openClaimCheck(
  deps: ClaimCheckDeps,
  claim: ClaimCheckMessage,
): Promise<OperationMessage | undefined> {
  const body = await deps.operationBodies.get(claim.connectionId, claim.claimCheck);
  if (body) return body;
  const user = await (objectTypeOf(claim) === 'group' ? deps.groups : deps.users).get(
    claim.connectionId,
    claim.externalId,
  );
  if (user?.lastOperationId === claim.operationId) return undefined;
  // Logged as it is (not merged: without its body it would be an empty change).
  await recordFailure(deps, claim, {
    code: 'claim-check-missing',
    kind: 'invalid',
    message: `The stored change ${claim.claimCheck} this message refers to is gone; ask the source to send the change again`,
  });
  return undefined;
}

/** Once the message that referred to it has been handled (applied, recorded or re-queued with its own copy). */
export const closeClaimCheck = (deps: ClaimCheckDeps, claim: ClaimCheckMessage) =>
  deps.operationBodies.delete(claim.connectionId, claim.claimCheck);
