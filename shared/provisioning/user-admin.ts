// What an admin sees and does for users: one user's state, the list of a connection's users (filters, paging,
// counts per status), provision on demand, retry, releasing held changes, and the provisioning log.
import { z } from 'zod';
import { changeSchema, type ObjectType, objectTypeOf, postedChangeSchema } from '../domain/change.js';
import { AppError, invalidContinuation, ValidationError } from '../domain/errors.js';
import { externalIdSchema } from '../domain/identifiers.js';
import {
  isInSync,
  operationActions,
  operationResults,
  type ProvisioningLogRecord,
  type UserState,
  type UserStatus,
  userStatuses,
} from '../domain/user-state.js';
import { fieldErrors } from '../domain/validation.js';
import { type ApplyDeps, applyOperation, type OperationOutcome } from './apply-operation.js';
import { hideDesired, openChange } from './change-secrets.js';
import { loadConnection } from './connections.js';
import type { LogQuery } from './ports.js';
import { reapplyMessage } from './release-held.js';

/** Where a type's rows live (groups have rows of the same shape as users). */
const rowsOf = (deps: Pick<ApplyDeps, 'users' | 'groups'>, kind: ObjectType) =>
  kind === 'group' ? deps.groups : deps.users;
const notReceived = (kind: ObjectType, externalId: string, hint = 'on this connection') =>
  new AppError(
    'not-found',
    kind === 'group' ? 'group-not-found' : 'user-not-found',
    `No change has been received for ${kind} ${externalId} ${hint}`,
    { externalId },
  );

/** The user (or group) of a connection that has received a change; 404 otherwise (an unknown connection too). */
async function loadUser(
  deps: Pick<ApplyDeps, 'connections' | 'users' | 'groups'>,
  connectionId: string,
  externalId: string,
  kind: ObjectType = 'user',
): Promise<UserState> {
  await loadConnection(deps, connectionId);
  const user = await rowsOf(deps, kind).get(connectionId, externalId);
  if (!user) throw notReceived(kind, externalId);
  return user;
}

export async function getUserState(
  deps: ApplyDeps,
  connectionId: string,
  externalId: string,
  kind: ObjectType = 'user',
) {
  return userView(await loadUser(deps, connectionId, externalId, kind));
}

/** A user as the API shows it (one user, or an item of the list): the one mapping from UserState. */
function userView(user: UserState) {
  const { connectionId, externalId } = user;
  return {
    externalId: user.externalId,
    status: user.status,
    ...(user.statusReason ? { statusReason: user.statusReason } : {}),
    desired: user.desired ? hideDesired(user.desired) : null,
    appliedVersion: user.appliedVersion,
    /** Microsoft 365 reflects every change received so far. */
    inSync: isInSync(user),
    blockedBy: user.blockedBy ?? null,
    pending: user.pending ?? [],
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

const booleanParam = (what: string) =>
  z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .describe(what);

export const userListQuerySchema = z.strictObject({
  status: z.enum(userStatuses).optional().describe('Only users with this status'),
  inSync: booleanParam('Only users Microsoft 365 reflects (true) or does not (false): see inSync').optional(),
  blocked: booleanParam('Only users that policy holds back (blockedBy set), or only the others').optional(),
  q: z
    .string()
    .min(1)
    .max(256)
    .optional()
    .describe('Part of the externalId, userPrincipalName or displayName (case-insensitive)'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  continuation: z.string().max(2048).optional(),
});
export type UserListQuery = z.infer<typeof userListQuerySchema>;

/** Rows read per request at most: a selective filter answers a short (even empty) page with a continuation. */
const LIST_SCAN_BUDGET = 5_000;

/**
 * A connection's users in externalId order, each as GET …/users/{externalId} shows it, with the count of users per
 * status (all users of the connection, whatever the filter). `status` is filtered by storage; inSync, blocked and q
 * while the pages stream past. A page ends at `limit` users or after LIST_SCAN_BUDGET rows read; `continuation`
 * (the last externalId read) is null once the end is reached.
 */
export async function listUsers(
  deps: Pick<ApplyDeps, 'connections' | 'users' | 'groups'>,
  connectionId: string,
  q: UserListQuery,
  kind: ObjectType = 'user',
) {
  await loadConnection(deps, connectionId);
  const after = q.continuation === undefined ? undefined : continuationAfter(q.continuation);
  const rows = rowsOf(deps, kind);
  const [page, byStatus] = await Promise.all([
    scanUsers(rows, connectionId, q, after),
    rows.countByStatus(connectionId),
  ]);
  const counts = Object.fromEntries(userStatuses.map((s) => [s, byStatus[s] ?? 0])) as Record<UserStatus, number>;
  return {
    value: page.users.map(userView),
    continuation: page.last === undefined ? null : continuationToken(page.last),
    counts: { ...counts, total: Object.values(counts).reduce((a, b) => a + b, 0) },
  };
}

async function scanUsers(
  rows: ApplyDeps['users'],
  connectionId: string,
  q: UserListQuery,
  after: string | undefined,
): Promise<{ users: UserState[]; last?: string }> {
  const users: UserState[] = [];
  let read = 0;
  const pages = rows.scan(connectionId, {
    ...(q.status ? { status: q.status } : {}),
    ...(after ? { after } : {}),
  });
  for await (const rows of pages) {
    for (const user of rows) {
      read++;
      if (listed(user, q)) users.push(user);
      if (users.length === q.limit || read === LIST_SCAN_BUDGET) return { users, last: user.externalId };
    }
  }
  return { users };
}

/** The filters storage cannot apply. */
function listed(user: UserState, q: UserListQuery): boolean {
  if (q.inSync !== undefined && isInSync(user) !== q.inSync) return false;
  if (q.blocked !== undefined && Boolean(user.blockedBy?.length) !== q.blocked) return false;
  if (q.q === undefined) return true;
  const needle = q.q.toLowerCase();
  const applied = user.lastApplied ?? {};
  return [
    user.externalId,
    user.userPrincipalName,
    applied.userPrincipalName,
    applied.displayName,
    user.desired?.profile?.attributes.displayName,
  ].some((v) => typeof v === 'string' && v.toLowerCase().includes(needle));
}

/** The list's continuation: the last externalId read, as base64url JSON (opaque to callers). */
const continuationToken = (after: string) => Buffer.from(JSON.stringify({ after }), 'utf8').toString('base64url');

function continuationAfter(token: string): string {
  let parsed: unknown;
  try {
    parsed = /^[A-Za-z0-9_-]+$/.test(token) ? JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) : undefined;
  } catch {
    parsed = undefined;
  }
  const after = (parsed as { after?: unknown } | undefined)?.after;
  if (typeof after !== 'string' || !externalIdSchema.safeParse(after).success) throw invalidContinuation();
  return after;
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
  kind: ObjectType = 'user',
): Promise<OperationOutcome> {
  await loadConnection(deps, connectionId);
  if (change !== undefined) {
    const parsed = postedChangeSchema
      .extend({ externalId: changeSchema.shape.externalId.optional() })
      .safeParse(change);
    if (!parsed.success) throw new ValidationError(fieldErrors(parsed.error));
    if (parsed.data.externalId !== undefined && parsed.data.externalId !== externalId)
      throw new ValidationError([
        { field: 'externalId', message: `must be ${externalId} (the ${kind} in the URL) or left out` },
      ]);
    if (objectTypeOf(parsed.data) !== kind)
      throw new ValidationError([{ field: 'objectType', message: `must be ${kind} (the route's) or left out` }]);
    return applyOperation(deps, {
      ...parsed.data,
      ...(kind === 'group' ? { objectType: kind } : {}),
      connectionId,
      externalId,
      operationId: parsed.data.operationId ?? crypto.randomUUID(),
    });
  }
  const user = await rowsOf(deps, kind).get(connectionId, externalId);
  if (!user?.lastChange) throw notReceived(kind, externalId, ': post one in the request body');
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
  kind: ObjectType = 'user',
): Promise<{ operationId: string; version: number }> {
  const user = await loadUser(deps, connectionId, externalId, kind);
  const change = user.lastChange;
  // A blocked user too: once the setting that blocked it is changed, a retry applies what it held back.
  if (!change || !['failed', 'held', 'blocked'].includes(user.status)) {
    throw new AppError(
      'conflict',
      'nothing-to-retry',
      `The ${kind} ${externalId} is ${user.status}: only failed, held or blocked operations can be retried`,
      { status: user.status },
    );
  }
  await deps.queue.enqueue(reapplyMessage(deps, change, 'retry requested by an admin'));
  return { operationId: change.operationId, version: change.version };
}

export const logQuerySchema = z.strictObject({
  externalId: z.string().min(1).max(256).optional(),
  result: z.enum(operationResults).optional().describe("Only records with this result (the record's field)"),
  status: z.enum(operationResults).optional().describe('Alias of result, as documented before it was named so'),
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
  if (q.result && q.status && q.result !== q.status)
    throw new ValidationError([
      { field: 'status', message: `is an alias of result: give one, or the same value (${q.result})` },
    ]);
  const result = q.result ?? q.status;
  if (result) query.result = result;
  if (q.action) query.action = q.action;
  if (q.since) query.since = q.since;
  if (q.until) query.until = q.until;
  if (q.continuation) query.continuation = q.continuation;
  const { records, continuation } = await deps.log.query(connectionId, query);
  return { value: records, continuation: continuation ?? null };
}
