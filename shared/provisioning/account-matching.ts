// Which Microsoft 365 account a user acts on, and what this connection may do to it (data safety first):
// - linked: the account the user is linked to (restored from deleted items when it was deleted and is wanted);
// - not linked: the connection's matching rules in order (Entra's "matching precedence"); the first rule that finds
//   an account decides, more than one account is a conflict, never a pick;
// - an account is adopted only when policy allows it (adoptExistingAccounts), it holds no directory role, and no
//   other directory user of any connection to the tenant has claimed it (link-claims.ts);
// - every write to an account found here (not created in this operation) first checks that it holds no directory
//   role: a role holder is never modified, enabled, disabled, licensed or deleted (`guardWrites`).
// The matching reports (which rule found which account, adopted or why not) go to the log.
import { AppError } from '../domain/errors.js';
import { applyMapping } from '../domain/mapping/mapping.js';
import type { MatchingAttribute } from '../domain/sync-settings.js';
import type { MatchReport } from '../domain/user-state.js';
import type { ActionContext } from './object-kind.js';
import type { GraphUser } from './ports.js';

export interface FoundAccount {
  user: GraphUser;
  adopted: boolean;
  restored?: boolean;
}

export interface Lookup {
  found?: FoundAccount;
  /** Accounts matching found, adopted or not (and why). */
  reports: MatchReport[];
}

/**
 * Rules that identify the person (a match is that person's account): when such an account may not be adopted, the
 * user fails instead of getting a second account. The others (userPrincipalName, mail) are names: an account that
 * holds the name but may not be adopted is a collision, and the user gets another name (upnCandidates).
 */
const IDENTITY_RULES: ReadonlySet<MatchingAttribute> = new Set(['employeeId', 'onPremisesImmutableId']);

/** Margin for clock differences between this host and Graph when telling our own fresh account from another. */
const CLOCK_MARGIN_MS = 60_000;

export async function findAccount(ctx: ActionContext, select: string[]): Promise<Lookup> {
  if (ctx.user.objectId) {
    const linked = await linkedAccount(ctx, ctx.user.objectId, select);
    if (linked) return { found: linked, reports: [] };
  }
  if (ctx.linkTo) return { found: await adoptNamed(ctx, ctx.linkTo, select), reports: [] };
  // A removal acts only on the account the user is linked to: it never goes looking for one to disable or delete.
  if (ctx.change.type === 'remove') return { reports: [] };
  return matchByRules(ctx, select);
}

async function linkedAccount(
  ctx: ActionContext,
  objectId: string,
  select: string[],
): Promise<FoundAccount | undefined> {
  const linked = await ctx.gateway.users.getUser(objectId, select);
  if (linked) {
    ctx.trace('match', `Linked account ${linked.id} (${linked.userPrincipalName ?? '?'})`);
    await claimLinked(ctx, linked.id);
    return { user: linked, adopted: false };
  }
  ctx.trace('match', `The linked account ${objectId} no longer exists in Microsoft 365`);
  if (ctx.change.type === 'upsert' && ctx.settings.restoreDeletedUsers) {
    // Deleted in Microsoft 365 (by hand, or by an earlier remove) but wanted again: bring the same account back
    // from deletedItems (30 days) instead of creating a new one; its id, mailbox and group memberships survive.
    const restored = await ctx.gateway.users.restoreDeletedUser(objectId, select).catch((error: unknown) => {
      // Its UPN (or mail) was taken meanwhile: it cannot come back; fall through to matching and creating.
      if (error instanceof AppError && error.kind === 'conflict') return undefined;
      throw error;
    });
    if (restored) {
      ctx.trace('match', `Restored ${restored.id} (${restored.userPrincipalName ?? '?'}) from deleted items`);
      await claimLinked(ctx, restored.id);
      return { user: restored, adopted: false, restored: true };
    }
    ctx.trace('match', `${objectId} is not in deleted items (purged or never soft-deleted)`);
  }
  if (ctx.change.type === 'upsert' && !ctx.settings.allowCreate) {
    throw new AppError(
      'not-found',
      'linked-account-missing',
      `The linked account ${objectId} no longer exists in Microsoft 365 and creating accounts is not allowed`,
    );
  }
  return undefined;
}

/** A link made before claims existed (or whose claim was lost) is claimed the first time it is acted on. */
async function claimLinked(ctx: ActionContext, objectId: string): Promise<void> {
  if (ctx.user.claimedObjectId === objectId) return;
  const refusal = await ctx.links.claim(objectId);
  if (refusal) {
    throw new AppError(
      'conflict',
      'account-linked-elsewhere',
      `The linked account ${objectId} is claimed by another directory user (${refusal}): unlink one of the two users`,
      { objectId },
    );
  }
}

/** A re-match naming the account: the admin's choice, still refused for a role holder or another user's account. */
async function adoptNamed(ctx: ActionContext, objectId: string, select: string[]): Promise<FoundAccount> {
  const account = await ctx.gateway.users.getUser(objectId, select);
  if (!account)
    throw new AppError('not-found', 'account-not-found', `No Microsoft 365 account ${objectId} to link`, { objectId });
  const refusal = await adoptionRefusal(ctx, account, { named: true });
  const report: MatchReport = { rule: 'admin', ...named(account), adopted: !refusal, ...reasonOf(refusal) };
  if (refusal) {
    throw new AppError('conflict', 'adoption-refused', `Account ${describe(account)} cannot be linked: ${refusal}`, {
      objectId,
      match: [report],
    });
  }
  ctx.trace('match', `Linked to ${describe(account)} as the admin asked`);
  return { user: account, adopted: true };
}

async function matchByRules(ctx: ActionContext, select: string[]): Promise<Lookup> {
  const reports: MatchReport[] = [];
  const mapped = applyMapping(ctx.mapping, ctx.change.attributes, { domain: ctx.connection.domain }, 'create').values;
  for (const rule of ctx.settings.matchingRules) {
    const value = mapped[rule];
    if (typeof value !== 'string' || value === '') {
      ctx.trace('match', `No ${rule} value to match on`);
      continue;
    }
    const accounts = await ctx.gateway.users.findUsers(rule, value, select, 2);
    if (accounts.length > 1) {
      throw new AppError(
        'conflict',
        'ambiguous-match',
        `More than one Microsoft 365 account has ${rule} = ${value} (${accounts.map(describe).join(', ')}): a conflict, not a pick. Resolve the duplicate, re-match the user naming the account, or change the matching rules`,
        { rule, objectIds: accounts.map((a) => a.id) },
      );
    }
    const account = accounts[0];
    if (!account) {
      ctx.trace('match', `No account has ${rule} = ${value}`);
      continue;
    }
    const refusal = await adoptionRefusal(ctx, account);
    reports.push({ rule, ...named(account), adopted: !refusal, ...reasonOf(refusal) });
    if (!refusal) {
      ctx.trace('match', `Found ${describe(account)} by ${rule} = ${value}: adopted`);
      return { found: { user: account, adopted: true }, reports };
    }
    ctx.trace('match', `Found ${describe(account)} by ${rule} = ${value}, not adopted: ${refusal}`);
    if (IDENTITY_RULES.has(rule)) {
      // The person's own account, which this connection may not take: a second account would be worse.
      throw new AppError(
        'conflict',
        'adoption-refused',
        `Account ${describe(account)} matches this user by ${rule} but is not adopted: ${refusal}. It was not modified`,
        { objectId: account.id, match: reports },
      );
    }
  }
  return { reports };
}

/**
 * Why this account may not be adopted by the user acting now, or undefined (and then it is claimed for the user).
 * `named`: an admin's re-match chose it (adoptExistingAccounts never does not apply to an explicit choice).
 */
export async function adoptionRefusal(
  ctx: ActionContext,
  account: GraphUser,
  options: { named?: boolean } = {},
): Promise<string | undefined> {
  if (ctx.user.unlinkedFrom?.objectId === account.id && !options.named)
    return `an admin unlinked this user from it (${ctx.user.unlinkedFrom.at})`;
  if (ctx.settings.adoptExistingAccounts === 'never' && !options.named && !createdByThisUser(ctx, account))
    return 'adoptExistingAccounts is never: only accounts this connection creates are managed';
  const roles = await ctx.gateway.users.directoryRolesOf(account.id);
  if (roles.length > 0) return `it holds a directory role: ${roles.join(', ')} (role holders are never adopted)`;
  // Last: the claim is a write, made only for an account that is otherwise adoptable.
  return ctx.links.claim(account.id);
}

/**
 * The account an earlier attempt of an operation on this user created before it was cut short (so it could not
 * record the link): created after that attempt began. It is this user's own account, not one to adopt.
 */
function createdByThisUser(ctx: ActionContext, account: GraphUser): boolean {
  if (ctx.resumedSince === undefined || typeof account.createdDateTime !== 'string') return false;
  return Date.parse(account.createdDateTime) >= ctx.resumedSince - CLOCK_MARGIN_MS;
}

/**
 * The gateway with every write to account `objectId` checked first: a directory role holder is never modified,
 * enabled, disabled, licensed or deleted (one Graph read, only when a write is about to happen).
 */
export function guardWrites(ctx: ActionContext, account: GraphUser): ActionContext {
  let verdict: Promise<void> | undefined;
  const check = (id: string) => {
    if (id !== account.id) return Promise.resolve();
    verdict ??= ctx.gateway.users.directoryRolesOf(id).then((roles) => {
      if (roles.length === 0) return;
      ctx.trace('protect', `${describe(account)} holds ${roles.join(', ')}: not modified`);
      throw new AppError(
        'conflict',
        'protected-account',
        `Account ${describe(account)} holds a directory role: ${roles.join(', ')}. This connection never modifies, enables, disables, licenses or deletes a role holder; nothing was changed (unlink the user, or remove the role)`,
        { objectId: id, roles },
      );
    });
    return verdict;
  };
  const { users, licenses } = ctx.gateway;
  const guardedUsers: typeof users = Object.assign(Object.create(users) as typeof users, {
    updateUser: async (id: string, patch: Record<string, unknown>) => {
      await check(id);
      return users.updateUser(id, patch);
    },
    deleteUser: async (id: string) => {
      await check(id);
      return users.deleteUser(id);
    },
  });
  const guardedLicenses: typeof licenses = Object.assign(Object.create(licenses) as typeof licenses, {
    assignLicenses: async (id: string, add: Parameters<typeof licenses.assignLicenses>[1], remove: string[]) => {
      await check(id);
      return licenses.assignLicenses(id, add, remove);
    },
  });
  return { ...ctx, gateway: { ...ctx.gateway, users: guardedUsers, licenses: guardedLicenses } };
}

export const describe = (a: GraphUser) => `${a.id} (${a.userPrincipalName ?? '?'})`;
const named = (a: GraphUser) => ({
  objectId: a.id,
  ...(a.userPrincipalName ? { userPrincipalName: a.userPrincipalName } : {}),
});
const reasonOf = (refusal: string | undefined) => (refusal ? { reason: refusal } : {});
