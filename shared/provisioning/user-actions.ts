// What one change does to one Microsoft 365 account: find (linked id, else the matching attribute), then create,
// adopt, update only what differs, (de)activate, remove, and reconcile licenses. Policy toggles decide what is
// allowed. Errors are AppErrors; the caller records them.
// Over ~300 lines on purpose: the five actions share the account lookup and the decider's plan (licences are in
// user-licences.ts).
import { assertCreatable } from '../domain/create-requirements.js';
import { blockedBy, compareAccount, expectedAccountFor, patchOf, withUsageLocation } from '../domain/drift.js';
import { AppError } from '../domain/errors.js';
import { applyMapping, mappedProperties } from '../domain/mapping/mapping.js';
import type { BlockedBy, OperationAction } from '../domain/user-state.js';
import type { ActionContext, ActionOutcome, ObjectKind } from './object-kind.js';
import type { GraphUser } from './ports.js';
import { reconcileLicenses } from './user-licences.js';
/**
 * The decider's plan for this account (drift.ts: the same one reconciliation reports as drift). Every write below
 * follows it; licences follow its diffLicenses.
 */
const planFor = (ctx: ActionContext, current: GraphUser) =>
  compareAccount(
    expectedAccountFor(ctx.change, { mapping: ctx.mapping, settings: ctx.settings, domain: ctx.connection.domain }),
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
];

const select = (ctx: ActionContext) => [
  ...new Set([...BASE_SELECT, ctx.settings.matchingAttribute, ...mappedProperties(ctx.mapping, 'update')]),
];

/** Users as an object type of the operation pipeline (apply-operation.ts). */
export const userKind: ObjectKind = { name: 'user', act: (ctx) => performAction(ctx) };

export async function performAction(ctx: ActionContext): Promise<ActionOutcome> {
  const account = await findAccount(ctx, select(ctx));
  switch (ctx.change.type) {
    case 'upsert':
      return account ? updateAccount(ctx, account.user, account.adopted, account.restored) : createAccount(ctx);
    case 'activate':
    case 'deactivate':
      if (!account && !ctx.change.hasProfile) {
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
      return setEnabled(ctx, account?.user, ctx.change.type === 'activate');
    case 'remove':
      return removeAccount(ctx, account?.user);
  }
}

/** The linked account, or (not linked yet) the one the matching attribute finds, which is then adopted. */
async function findAccount(
  ctx: ActionContext,
  select: string[],
): Promise<{ user: GraphUser; adopted: boolean; restored?: boolean } | undefined> {
  if (ctx.user.objectId) {
    const linked = await ctx.gateway.users.getUser(ctx.user.objectId, select);
    if (linked) {
      ctx.trace('match', `Linked account ${linked.id} (${linked.userPrincipalName ?? '?'})`);
      return { user: linked, adopted: false };
    }
    ctx.trace('match', `The linked account ${ctx.user.objectId} no longer exists in Microsoft 365`);
    if (ctx.change.type === 'upsert' && ctx.settings.restoreDeletedUsers) {
      // Deleted in Microsoft 365 (by hand, or by an earlier remove) but wanted again: bring the same account back
      // from deletedItems (30 days) instead of creating a new one; its id, mailbox and group memberships survive.
      const restored = await ctx.gateway.users.restoreDeletedUser(ctx.user.objectId, select).catch((error: unknown) => {
        // Its UPN (or mail) was taken meanwhile: it cannot come back; fall through to matching and creating.
        if (error instanceof AppError && error.kind === 'conflict') return undefined;
        throw error;
      });
      if (restored) {
        ctx.trace('match', `Restored ${restored.id} (${restored.userPrincipalName ?? '?'}) from deleted items`);
        return { user: restored, adopted: false, restored: true };
      }
      ctx.trace('match', `${ctx.user.objectId} is not in deleted items (purged or never soft-deleted)`);
    }
    if (ctx.change.type === 'upsert' && !ctx.settings.allowCreate) {
      throw new AppError(
        'not-found',
        'linked-account-missing',
        `The linked account ${ctx.user.objectId} no longer exists in Microsoft 365 and creating accounts is not allowed`,
      );
    }
  }
  const value = matchingValue(ctx);
  if (value === undefined) {
    ctx.trace('match', `No ${ctx.settings.matchingAttribute} value to match on`);
    return undefined;
  }
  const found = await ctx.gateway.users.findUser(ctx.settings.matchingAttribute, value, select);
  ctx.trace(
    'match',
    found
      ? `Found existing account ${found.id} by ${ctx.settings.matchingAttribute} = ${value}`
      : `No account has ${ctx.settings.matchingAttribute} = ${value}`,
  );
  return found ? { user: found, adopted: true } : undefined;
}

function matchingValue(ctx: ActionContext): string | undefined {
  const mapped = applyMapping(ctx.mapping, ctx.change.attributes, { domain: ctx.connection.domain }, 'create').values[
    ctx.settings.matchingAttribute
  ];
  return typeof mapped === 'string' && mapped !== '' ? mapped : undefined;
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

async function createAccount(ctx: ActionContext): Promise<ActionOutcome> {
  if (!ctx.settings.allowCreate) {
    return {
      result: 'skipped',
      action: 'none',
      reason: 'Creating accounts is not allowed (allowCreate is off)',
      changedProperties: [],
      ownedLicenses: ctx.user.ownedLicenses,
    };
  }
  const values = mapOrFail(ctx, 'create');
  // The lifecycle (newest of upsert/activate/deactivate) decides; being assigned means enabled.
  values.accountEnabled = ctx.change.enabled ?? values.accountEnabled ?? true;
  // What POST /users needs (one rule with POST …/changes, which refuses such a change before it is enqueued).
  assertCreatable(values);
  ctx.trace('action', `Create ${String(values.userPrincipalName)}`);
  let created: GraphUser;
  try {
    created = await ctx.gateway.users.createUser(values);
  } catch (error) {
    if (!(error instanceof AppError && error.kind === 'conflict')) throw error;
    // The account may have just been created for this very user (a lookup by filter can lag a fresh write;
    // a read by UPN does not): adopt it if it is the same person by the matching attribute.
    const existing = await ctx.gateway.users.getUser(String(values.userPrincipalName), select(ctx));
    if (existing && existing[ctx.settings.matchingAttribute] === values[ctx.settings.matchingAttribute]) {
      ctx.trace(
        'match',
        `The account ${existing.id} appeared meanwhile with the same ${ctx.settings.matchingAttribute}: adopted`,
      );
      return updateAccount(ctx, existing, true);
    }
    throw new AppError(
      'conflict',
      'account-conflict',
      `Another Microsoft 365 account already uses ${String(values.userPrincipalName)} (or its mail/proxy address) and does not match this user by ${ctx.settings.matchingAttribute}: resolve the duplicate or change the mapping`,
      error.details,
    );
  }
  const licenses = await reconcileLicenses(
    ctx,
    { ...created, usageLocation: (values.usageLocation as string | undefined) ?? null, licenseAssignmentStates: [] },
    [],
  );
  const { passwordProfile: _secret, ...applied } = values;
  return {
    result: 'applied',
    action: 'create',
    changedProperties: Object.keys(applied).concat(licenses.changed),
    account: created,
    ownedLicenses: licenses.owned,
    applied,
  };
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
  const changed = [...Object.keys(patch), ...licenses.changed];
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
    applied: { ...pick(current, Object.keys(desired)), ...patch },
    ...(held.length > 0 ? { blockedBy: held } : {}),
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
