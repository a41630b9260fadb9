// What one change does to one Microsoft 365 account: find it (account-matching.ts: the link, else the matching
// rules, with what may never be adopted), then create (a unique UPN on collision), adopt, update only what differs,
// (de)activate, remove, and reconcile licenses. Policy toggles decide what is allowed. Errors are AppErrors; the
// caller records them.
// Over ~300 lines on purpose: the five actions share the account lookup and the decider's plan (licences are in
// user-licences.ts).
import { assertCreatable } from '../domain/create-requirements.js';
import { blockedBy, compareAccount, expectedAccountFor, patchOf, withUsageLocation } from '../domain/drift.js';
import { AppError } from '../domain/errors.js';
import { applyMapping, mappedProperties } from '../domain/mapping/mapping.js';
import { followUpn, generatedValues, heldByDeleted, upnCandidates, withGenerated } from '../domain/upn-candidates.js';
import type { BlockedBy, MatchReport, OperationAction, PendingReference } from '../domain/user-state.js';
import { adoptionRefusal, describe, findAccount, type FoundAccount, guardWrites } from './account-matching.js';
import { type ActionContext, type ActionOutcome, isReplicationDelay, type ObjectKind } from './object-kind.js';
import type { GraphUser } from './ports.js';
import { leaveLicenceGroup, reconcileLicenses } from './user-licences.js';
/**
 * The decider's plan for this account (drift.ts: the same one reconciliation reports as drift). Every write below
 * follows it; licences follow its diffLicenses.
 */
const planFor = (ctx: ActionContext, current: GraphUser) =>
  compareAccount(
    expectedAccountFor(
      ctx.change,
      { mapping: ctx.mapping, settings: ctx.settings, domain: ctx.connection.domain },
      ctx.user.generated,
    ),
    current,
    { complete: true, owned: ctx.user.ownedLicenses },
  );

const BASE_SELECT = [
  'id',
  'userPrincipalName',
  'accountEnabled',
  'usageLocation',
  'assignedLicenses',
  'licenseAssignmentStates',
  // Tells an account an interrupted attempt of this user's operation created from one to adopt.
  'createdDateTime',
];

const select = (ctx: ActionContext) => [
  ...new Set([...BASE_SELECT, ...ctx.settings.matchingRules, ...mappedProperties(ctx.mapping, 'update')]),
];

/** Users as an object type of the operation pipeline (apply-operation.ts). */
export const userKind: ObjectKind = { name: 'user', rows: 'users', act: (ctx) => performAction(ctx) };

export async function performAction(ctx: ActionContext): Promise<ActionOutcome> {
  const { found, reports } = await findAccount(ctx, select(ctx));
  // An account found here existed before this operation: every write to it is checked for a directory role first
  // (an adopted one was checked just now).
  const acting = found && !found.adopted ? guardWrites(ctx, found.user) : ctx;
  const outcome = await act(acting, found, reports);
  return reports.length > 0 ? { ...outcome, match: [...reports, ...(outcome.match ?? [])] } : outcome;
}

async function act(
  ctx: ActionContext,
  found: FoundAccount | undefined,
  reports: MatchReport[],
): Promise<ActionOutcome> {
  switch (ctx.change.type) {
    case 'upsert':
      return found ? updateAccount(ctx, found.user, found.adopted, found.restored) : createAccount(ctx, reports);
    case 'activate':
    case 'deactivate':
      if (!found && !ctx.change.hasProfile) {
        // The change that assigns this user has not arrived yet (out of order): the account will be created
        // with this state when it does.
        return {
          result: 'skipped',
          action: 'none',
          reason: `No account yet: it will be ${ctx.change.type === 'activate' ? 'enabled' : 'disabled'} when the user's attributes arrive`,
          changedProperties: [],
          ownedLicenses: ctx.user.ownedLicenses,
        };
      }
      return setEnabled(ctx, found?.user, ctx.change.type === 'activate');
    case 'remove':
      return removeAccount(ctx, found?.user);
  }
}

function mapOrFail(ctx: ActionContext, mode: 'create' | 'update'): Record<string, unknown> {
  const mapped = applyMapping(ctx.mapping, ctx.change.attributes, { domain: ctx.connection.domain }, mode);
  if (mapped.errors.length > 0) {
    throw new AppError(
      'invalid',
      'mapping-failed',
      `Attributes do not fit the mapping: ${mapped.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`,
    );
  }
  return withUsageLocation({ ...mapped.values }, ctx.change.attributes, ctx.settings);
}

/**
 * Creates the account: with the mapped values (or the UPN generated for this user earlier), else, when that UPN
 * belongs to an account that may not be adopted, with the connection's upnCandidates in order. An account that
 * holds the UPN is never modified.
 */
async function createAccount(ctx: ActionContext, reports: MatchReport[]): Promise<ActionOutcome> {
  if (!ctx.settings.allowCreate) {
    return {
      result: 'skipped',
      action: 'none',
      reason: 'Creating accounts is not allowed (allowCreate is off)',
      changedProperties: [],
      ownedLicenses: ctx.user.ownedLicenses,
    };
  }
  const mapped = mapOrFail(ctx, 'create');
  // The lifecycle (newest of upsert/activate/deactivate) decides; being assigned means enabled.
  mapped.accountEnabled = ctx.change.enabled ?? mapped.accountEnabled ?? true;
  assertCreatable(mapped);
  const first = withGenerated(mapped, ctx.user.generated);
  const upn = String(first.userPrincipalName);
  // Matching already found who holds the mapped UPN (or mail) and why it may not be adopted: go straight to candidates.
  let holder = reports.find((r) => !r.adopted && sameName(r.userPrincipalName, upn));
  if (!holder) {
    const created = await tryCreate(ctx, first, reports);
    if (created) return created;
    holder = reports.at(-1);
  }
  let deleted: string[] | undefined;
  for (const candidate of upnCandidates(
    ctx.settings.upnCandidates,
    ctx.change.attributes,
    ctx.connection.domain,
    ctx.settings.upnCandidateLimit,
  )) {
    if (sameName(candidate, upn)) continue;
    const active = await ctx.gateway.users.getUser(candidate, ['id', 'userPrincipalName']);
    if (active) {
      ctx.trace('match', `Candidate ${candidate} is taken by ${describe(active)}`);
      continue;
    }
    deleted ??= await ctx.gateway.users.deletedUserPrincipalNames();
    if (heldByDeleted(candidate, deleted)) {
      ctx.trace('match', `Candidate ${candidate} is held by a soft-deleted account (kept free for its restore)`);
      continue;
    }
    const values = followUpn(first, candidate);
    const created = await tryCreate(ctx, values, reports, { adoptOnConflict: false });
    if (created) return { ...created, generated: generatedValues(mapped, values) };
  }
  const who = holder ? ` by account ${holder.objectId}${holder.reason ? ` (not adopted: ${holder.reason})` : ''}` : '';
  throw new AppError(
    'conflict',
    'upn-taken',
    `userPrincipalName ${upn} is taken${who}. ${
      ctx.settings.upnCandidates.length > 0
        ? `No UPN candidate was free (upnCandidates, n up to ${ctx.settings.upnCandidateLimit})`
        : 'Add upnCandidates to the settings to generate another UPN, or change the mapping'
    }; the account that holds it was not modified`,
    { userPrincipalName: upn, ...(holder ? { objectId: holder.objectId } : {}), match: reports },
  );
}

/**
 * POST /users with these values; undefined when the UPN (or mail) is taken by an account that may not be adopted
 * (added to `reports`). An account that appeared meanwhile with the same UPN — typically one an earlier attempt of
 * this operation created, which a lookup by filter can miss right after the write — is adopted when allowed.
 */
async function tryCreate(
  ctx: ActionContext,
  values: Record<string, unknown>,
  reports: MatchReport[],
  options: { adoptOnConflict?: boolean } = {},
): Promise<ActionOutcome | undefined> {
  const upn = String(values.userPrincipalName);
  ctx.trace('action', `Create ${upn}`);
  let created: GraphUser;
  try {
    created = await ctx.gateway.users.createUser(values);
  } catch (error) {
    if (!(error instanceof AppError && error.kind === 'conflict')) throw error;
    const existing = await ctx.gateway.users.getUser(upn, select(ctx));
    if (!existing) {
      ctx.trace('match', `${upn}: ${error.message} (its mail or proxy address is taken)`);
      return undefined;
    }
    const rule = sameByRules(ctx, existing, values);
    const refusal =
      options.adoptOnConflict === false
        ? 'taken'
        : rule
          ? await adoptionRefusal(ctx, existing)
          : `it is not this user by the matching rules (${ctx.settings.matchingRules.join(', ')})`;
    reports.push({
      rule: 'create',
      objectId: existing.id,
      userPrincipalName: existing.userPrincipalName ?? upn,
      adopted: !refusal,
      ...(refusal ? { reason: refusal } : {}),
    });
    if (refusal) {
      ctx.trace('match', `${upn} belongs to ${describe(existing)}, not adopted: ${refusal}`);
      return undefined;
    }
    ctx.trace('match', `The account ${describe(existing)} appeared meanwhile with this UPN: adopted`);
    return updateAccount(ctx, existing, true);
  }
  const refusal = await ctx.links.claim(created.id);
  if (refusal) {
    // Another directory user adopted the account between its creation and this claim: it is theirs now.
    throw new AppError(
      'conflict',
      'account-conflict',
      `The account ${describe(created)} created for this user was claimed meanwhile by another directory user (${refusal})`,
      { objectId: created.id },
    );
  }
  const licenses = await reconcileLicenses(
    ctx,
    { ...created, usageLocation: (values.usageLocation as string | undefined) ?? null, licenseAssignmentStates: [] },
    [],
  );
  const manager = await syncManager(ctx, created.id, true);
  const { passwordProfile: _secret, ...applied } = values;
  return {
    result: 'applied',
    action: 'create',
    changedProperties: Object.keys(applied).concat(licenses.changed, manager.changed),
    account: created,
    ownedLicenses: licenses.owned,
    applied: { ...applied, ...manager.applied },
    ...manager.outcome,
  };
}

/** How soon a user whose manager could not be set yet (a just-created account: replication) is applied again. */
const REPLICATION_RETRY_MS = 2_000;

/**
 * The user's manager (`managerExternalId`): linked through `PUT /users/{id}/manager/$ref` when it changed since last
 * applied; a manager not provisioned yet waits (pending) and the user is re-applied by itself once it is linked.
 * No manager attribute: the manager is left as it is.
 */
async function syncManager(ctx: ActionContext, accountId: string, fresh: boolean) {
  const managerExternalId = ctx.change.attributes.managerExternalId;
  const nothing = { changed: [] as string[], applied: {}, outcome: {} };
  if (typeof managerExternalId !== 'string' || managerExternalId === '') return nothing;
  const row = await ctx.references.user(managerExternalId);
  if (!row?.objectId || row.desired?.lifecycle?.state === 'removed') {
    const reason = row ? `not provisioned yet (${row.status})` : 'no change received for this user yet';
    ctx.trace('manager', `Manager ${managerExternalId} waits: ${reason}`);
    const pending: PendingReference[] = [{ objectType: 'user', externalId: managerExternalId, as: 'manager', reason }];
    return { ...nothing, outcome: { pending } };
  }
  if (!fresh && ctx.user.lastApplied?.manager === row.objectId)
    return { ...nothing, applied: { manager: row.objectId } };
  ctx.trace('manager', `Manager ${managerExternalId} (${row.objectId})`);
  try {
    await ctx.gateway.users.setManager(accountId, row.objectId);
  } catch (error) {
    // Right after a create the new account may not be found yet: come back shortly rather than fail.
    if (!(fresh && isReplicationDelay(error))) throw error;
    return { ...nothing, outcome: { requeueAfterMs: REPLICATION_RETRY_MS } };
  }
  return { changed: ['manager'], applied: { manager: row.objectId }, outcome: {} };
}

const sameName = (a: string | undefined, b: string) => a !== undefined && a.toLowerCase() === b.toLowerCase();

/** The first matching rule by which `account` is this user (its value equals the mapped one), if any. */
function sameByRules(ctx: ActionContext, account: GraphUser, values: Record<string, unknown>) {
  return ctx.settings.matchingRules.find((rule) => {
    const mine = values[rule];
    const theirs = account[rule];
    return typeof mine === 'string' && typeof theirs === 'string' && mine !== '' && sameName(theirs, mine);
  });
}

async function updateAccount(
  ctx: ActionContext,
  current: GraphUser,
  adopted: boolean,
  restored = false,
): Promise<ActionOutcome> {
  const desired = mapOrFail(ctx, 'update');
  const plan = planFor(ctx, current);
  const patch = patchOf(plan);
  const held = blockedBy(plan);
  if (Object.keys(patch).length > 0) {
    ctx.trace('action', `Update ${Object.keys(patch).join(', ')}`);
    await ctx.gateway.users.updateUser(current.id, patch);
  } else {
    ctx.trace(
      'action',
      ctx.settings.allowUpdate ? 'Nothing to change' : 'Updates are not allowed (allowUpdate is off)',
    );
  }
  const licenses = await reconcileLicenses(
    ctx,
    { ...current, ...('usageLocation' in patch ? { usageLocation: patch.usageLocation as string } : {}) },
    ctx.user.ownedLicenses,
    desired.usageLocation as string | undefined,
  );
  const manager = await syncManager(ctx, current.id, false);
  const changed = [...Object.keys(patch), ...licenses.changed, ...manager.changed];
  const onlyEnabled = changed.length === 1 && changed[0] === 'accountEnabled';
  if (restored) changed.unshift('restored');
  const action: OperationAction = restored
    ? 'restore'
    : adopted
      ? 'adopt'
      : changed.length === 0
        ? 'none'
        : onlyEnabled
          ? patch.accountEnabled
            ? 'activate'
            : 'deactivate'
          : 'update';
  const nothingWritten = changed.length === 0 && !adopted;
  return {
    // Nothing written because policy holds it back is not "up to date": it says so, and the user is not in sync.
    result: nothingWritten ? (held.length > 0 ? 'blocked' : 'skipped') : 'applied',
    action,
    ...(nothingWritten
      ? { reason: held.length > 0 ? blockedReason(held) : 'Already up to date: no Graph write needed' }
      : {}),
    changedProperties: changed,
    account: current,
    ownedLicenses: licenses.owned,
    applied: { ...pick(current, Object.keys(desired)), ...patch, ...manager.applied },
    ...(held.length > 0 ? { blockedBy: held } : {}),
    ...(licenses.requeueAfterMs !== undefined ? { requeueAfterMs: licenses.requeueAfterMs } : {}),
    ...manager.outcome,
  };
}

/** "Blocked by allowUpdate: jobTitle, department would change" (names, never values). */
const blockedReason = (held: BlockedBy[]) =>
  `Blocked by ${held.map((b) => `${b.setting}: ${b.properties.join(', ')} would change`).join('; ')}`;

async function setEnabled(
  ctx: ActionContext,
  current: GraphUser | undefined,
  enabled: boolean,
): Promise<ActionOutcome> {
  const action = enabled ? 'activate' : 'deactivate';
  if (!ctx.settings.allowDeactivate) {
    // Blocked when the account differs from what the lifecycle asks; nothing to hold back otherwise.
    const held = current ? blockedBy(planFor(ctx, current)) : [];
    return {
      result: held.length > 0 ? 'blocked' : 'skipped',
      action: 'none',
      reason:
        held.length > 0
          ? blockedReason(held)
          : 'Activating and deactivating accounts is not allowed (allowDeactivate is off)',
      changedProperties: [],
      ownedLicenses: ctx.user.ownedLicenses,
      ...(current ? { account: current } : {}),
      ...(held.length > 0 ? { blockedBy: held } : {}),
    };
  }
  if (!current)
    throw new AppError(
      'not-found',
      'account-not-found',
      `No Microsoft 365 account to ${action}: the user was never provisioned or was deleted`,
    );
  if (planFor(ctx, current).enabled === undefined) {
    ctx.trace('action', `Already ${enabled ? 'enabled' : 'disabled'}`);
    return {
      result: 'skipped',
      action: 'none',
      reason: `Already ${enabled ? 'enabled' : 'disabled'}`,
      changedProperties: [],
      account: current,
      ownedLicenses: ctx.user.ownedLicenses,
    };
  }
  ctx.trace('action', `Set accountEnabled = ${enabled}`);
  await ctx.gateway.users.updateUser(current.id, { accountEnabled: enabled });
  return {
    result: 'applied',
    action,
    changedProperties: ['accountEnabled'],
    account: { ...current, accountEnabled: enabled },
    ownedLicenses: ctx.user.ownedLicenses,
  };
}

async function removeAccount(ctx: ActionContext, current: GraphUser | undefined): Promise<ActionOutcome> {
  if (!ctx.settings.allowRemove) {
    return {
      result: 'skipped',
      action: 'none',
      reason: 'Removing accounts is not allowed (allowRemove is off)',
      changedProperties: [],
      ownedLicenses: ctx.user.ownedLicenses,
      ...(current ? { account: current } : {}),
    };
  }
  if (!current) {
    ctx.trace('action', 'Nothing to remove');
    return {
      result: 'skipped',
      action: 'none',
      reason: 'No Microsoft 365 account to remove (already deleted or never provisioned)',
      changedProperties: [],
      ownedLicenses: [],
    };
  }
  let owned = ctx.user.ownedLicenses;
  const changed: string[] = [];
  if (ctx.settings.removeLicensesOnRemove && owned.length > 0 && ctx.settings.removeAction === 'disable') {
    ctx.trace('licenses', `Remove this connection's licenses: ${owned.join(', ')}`);
    await ctx.gateway.licenses.assignLicenses(current.id, [], owned);
    owned = [];
    changed.push('assignedLicenses');
  }
  if (
    ctx.settings.removeLicensesOnRemove &&
    ctx.settings.removeAction === 'disable' &&
    (await leaveLicenceGroup(ctx, current.id))
  )
    changed.push('licenceGroup');
  if (ctx.settings.removeAction === 'delete') {
    ctx.trace('action', `Delete ${current.id} (soft delete: restorable for 30 days)`);
    try {
      await ctx.gateway.users.deleteUser(current.id);
    } catch (error) {
      if (!(error instanceof AppError && error.kind === 'not-found')) throw error;
    }
    return { result: 'applied', action: 'delete', changedProperties: ['deleted'], account: current, ownedLicenses: [] };
  }
  const disable = planFor(ctx, current).enabled === false;
  if (!disable && changed.length === 0) {
    return {
      result: 'skipped',
      action: 'none',
      reason: 'Already disabled',
      changedProperties: [],
      account: current,
      ownedLicenses: owned,
    };
  }
  if (disable) {
    ctx.trace('action', `Disable ${current.id}`);
    await ctx.gateway.users.updateUser(current.id, { accountEnabled: false });
    changed.push('accountEnabled');
  }
  return {
    result: 'applied',
    action: 'disable',
    changedProperties: changed,
    account: { ...current, accountEnabled: false },
    ownedLicenses: owned,
  };
}

const pick = (o: Record<string, unknown>, keys: string[]) =>
  Object.fromEntries(keys.filter((k) => k in o && k !== 'passwordProfile').map((k) => [k, o[k]]));
