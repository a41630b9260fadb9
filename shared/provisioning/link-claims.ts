// One Microsoft 365 account, one directory user — across every connection to the same tenant. Before an account is
// adopted or linked, the directory user acting claims it in storage (UserStateRepository.claimLink: an insert, or a
// replace guarded by the ETag of the stale claim it read), so two directory users can never both link one account,
// however their operations interleave. A claim is stale, and may be taken over, only when its holder no longer links
// the account and its operation cannot still be running.
import type { Clock } from './ports.js';
import type { UserStateRepository } from './ports.js';

/** Longer than an operation's lease (apply-operation USER_LEASE_MS): a claim this young may still be acted on. */
const CLAIM_SETTLE_MS = 120_000;

export interface LinkOwner {
  tenantId: string;
  connectionId: string;
  externalId: string;
}

type Deps = { users: Pick<UserStateRepository, 'linkClaim' | 'claimLink' | 'releaseLink' | 'get'>; clock: Clock };

const holds = (claim: { connectionId: string; externalId: string }, owner: LinkOwner) =>
  claim.connectionId === owner.connectionId && claim.externalId === owner.externalId;

/**
 * Claims account `objectId` for `owner`; answers why not when another directory user holds it. `checkOnly` (a dry
 * run) only checks.
 */
export async function claimAccountLink(
  deps: Deps,
  owner: LinkOwner,
  objectId: string,
  checkOnly = false,
): Promise<string | undefined> {
  const holder = () => ({
    connectionId: owner.connectionId,
    externalId: owner.externalId,
    claimedAt: deps.clock.now().toISOString(),
  });
  // Most accounts claimed were just created, or never claimed: the insert alone settles it (one storage request);
  // the claim is read only when one exists.
  if (!checkOnly && (await deps.users.claimLink(owner.tenantId, objectId, holder()))) return undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const held = await deps.users.linkClaim(owner.tenantId, objectId);
    if (held && holds(held, owner)) return undefined;
    if (held && !(await isStale(deps, held, objectId))) {
      const where = held.connectionId === owner.connectionId ? '' : ` of connection ${held.connectionId}`;
      return `it is linked to directory user ${held.externalId}${where}`;
    }
    if (checkOnly) return undefined;
    if (await deps.users.claimLink(owner.tenantId, objectId, holder(), held?.etag)) return undefined;
    // Someone claimed or renewed it between the read and the write: read again.
  }
  return 'another directory user is claiming it at the same time';
}

/** Gives up `owner`'s claim on the account (an admin unlinked it). */
export async function releaseAccountLink(deps: Deps, owner: LinkOwner, objectId: string): Promise<void> {
  const held = await deps.users.linkClaim(owner.tenantId, objectId);
  if (held && holds(held, owner)) await deps.users.releaseLink(owner.tenantId, objectId, held.etag);
}

async function isStale(
  deps: Deps,
  held: { connectionId: string; externalId: string; claimedAt: string },
  objectId: string,
): Promise<boolean> {
  if (deps.clock.now().getTime() - Date.parse(held.claimedAt) < CLAIM_SETTLE_MS) return false;
  const holder = await deps.users.get(held.connectionId, held.externalId);
  return holder?.objectId !== objectId;
}
