// Use cases around the executor: accepting changes, recording what could not run, and letting admins see and
// steer single users (state, provision on demand, retry, log).
import { z } from 'zod';
import { changeBytes, changeSchema, MAX_CHANGE_BYTES, postedChangeSchema, type OperationMessage } from '../domain/change.js';
import { AppError, ValidationError, type ErrorCode, type FieldError } from '../domain/errors.js';
import { applyMapping, DEFAULT_MAPPING, mappingSchema, validateMapping, type Mapping } from '../domain/mapping/mapping.js';
import { DEFAULT_SYNC_SETTINGS, syncSettingsSchema, type SyncSettings } from '../domain/sync-settings.js';
import { isInSync, operationActions, type ProvisioningLogRecord, type UserState } from '../domain/user-state.js';
import { fieldErrors } from '../domain/validation.js';
import { isConnectionId, printable } from '../domain/identifiers.js';
import { rawForRecord } from '../domain/queue-message.js';
import { applyOperation, type ApplyDeps, type OperationOutcome } from './apply-operation.js';
import { hideDesired, openChange, sealChange, sealDesired } from './change-secrets.js';
import { desiredVersion, mergeChange } from '../domain/desired-state.js';
import { loadConnection } from './connections.js';
import type { LogQuery } from './ports.js';

export const MAX_CHANGES_PER_REQUEST = 1000;

/**
 * Validates every change first; only if all are valid are they enqueued (nothing from a rejected request).
 * Valid means: the contract (changeSchema); every mapped value within Microsoft 365's limits under this
 * connection's mapping (so a change Graph would refuse is refused here, naming its attribute); and no change over
 * MAX_CHANGE_BYTES (413). Returns one operation id per change, in order.
 */
export async function submitChanges(deps: ApplyDeps, connectionId: string, body: unknown): Promise<{ operations: { operationId: string; externalId: string; version: number }[] }> {
  const connection = await loadConnection(deps, connectionId);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationError([{ field: '(body)', message: 'must be a JSON object: one change, or {"changes": [ … ]}' }], 'The request body is not a change');
  }
  const batch = 'changes' in body;
  const list = batch ? (body as { changes: unknown }).changes : [body];
  if (!Array.isArray(list) || list.length === 0) throw new ValidationError([{ field: 'changes', message: 'must be a non-empty array' }]);
  if (list.length > MAX_CHANGES_PER_REQUEST) throw new ValidationError([{ field: 'changes', message: `at most ${MAX_CHANGES_PER_REQUEST} changes per request (got ${list.length})` }]);
  const errors: FieldError[] = [];
  const oversize: FieldError[] = [];
  const messages: OperationMessage[] = [];
  const mapping = connection.mapping ?? DEFAULT_MAPPING;
  list.forEach((item, index) => {
    const prefix = batch ? `changes.${index}.` : '';
    const bytes = changeBytes(item);
    if (bytes > MAX_CHANGE_BYTES) {
      const largest = largestField(item);
      oversize.push({ field: `${prefix}${largest ?? '(change)'}`, message: `makes the change ${bytes} bytes; a change may be at most ${MAX_CHANGE_BYTES} bytes` });
      return;
    }
    const parsed = postedChangeSchema.safeParse(item);
    if (!parsed.success) {
      errors.push(...fieldErrors(parsed.error).map((e) => ({ ...e, field: `${prefix}${e.field}` })));
      return;
    }
    if (parsed.data.connectionId && parsed.data.connectionId !== connectionId) {
      errors.push({ field: `${prefix}connectionId`, message: `must be ${connectionId} (the connection in the URL) or left out` });
      return;
    }
    if (parsed.data.type === 'upsert' && parsed.data.attributes) {
      for (const issue of applyMapping(mapping, parsed.data.attributes, { domain: connection.domain }, 'create').errors) {
        errors.push({ field: `${prefix}attributes${issue.attribute ? `.${issue.attribute}` : ''}`, message: issue.message });
      }
    }
    messages.push({ ...parsed.data, connectionId, operationId: parsed.data.operationId ?? crypto.randomUUID() });
  });
  const rejected = [...oversize, ...errors];
  if (rejected.length > 0) {
    const message = `${new Set(rejected.map((e) => e.field.split('.').slice(0, 2).join('.'))).size} change(s) are not valid; nothing was enqueued`;
    // Too large and nothing else wrong: 413, so a client knows to split rather than fix.
    if (errors.length === 0) throw new AppError('invalid', 'payload-too-large', message, { errors: oversize });
    throw new ValidationError(rejected, message);
  }
  // Bounded parallelism: 1,000 sends without opening 1,000 sockets.
  for (let i = 0; i < messages.length; i += 32) await Promise.all(messages.slice(i, i + 32).map((m) => deps.queue.enqueue(m)));
  return { operations: messages.map((m) => ({ operationId: m.operationId, externalId: m.externalId, version: m.version })) };
}

/** The field (or attribute) of a change that takes the most room: what an oversize error should point at. */
function largestField(change: unknown): string | undefined {
  if (typeof change !== 'object' || change === null) return undefined;
  const { attributes, ...fields } = change as Record<string, unknown>;
  const candidates = [
    ...Object.entries(fields).map(([k, v]) => [k, v] as const),
    ...(typeof attributes === 'object' && attributes !== null ? Object.entries(attributes).map(([k, v]) => [`attributes.${k}`, v] as const) : []),
  ];
  return candidates.map(([field, value]) => ({ field, size: changeBytes(value ?? null) })).sort((a, b) => b.size - a.size)[0]?.field;
}

/**
 * Records an operation that cannot run (malformed message, retries exhausted, poisoned) so it is visible on the
 * user and in the log, and can be retried by an admin. Never fails on content: anything that is not a valid change
 * is logged as it came (`rawMessage`, secrets redacted) under its connection if it names one, else UNKNOWN_CONNECTION.
 */
export async function recordFailure(deps: ApplyDeps, item: unknown, failure: { code: ErrorCode; kind: AppError['kind']; message: string }, rawText?: string): Promise<void> {
  const parsed = changeSchema.safeParse(item);
  const raw = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
  const text = (v: unknown, max: number) => (typeof v === 'string' ? printable(v).slice(0, max) : undefined);
  const rawConnection = text(raw.connectionId, 36);
  const connectionId = parsed.success ? parsed.data.connectionId : rawConnection && isConnectionId(rawConnection) ? rawConnection.toLowerCase() : UNKNOWN_CONNECTION;
  const externalId = parsed.success ? parsed.data.externalId : (text(raw.externalId, 256) ?? '');
  const now = deps.clock.now().toISOString();
  const operationId = parsed.success && parsed.data.operationId ? parsed.data.operationId : (text(raw.operationId, 128) ?? crypto.randomUUID());
  if (parsed.success && externalId) {
    const user = await deps.users.get(connectionId, externalId);
    const message: OperationMessage = { ...parsed.data, operationId };
    const who = { connectionId, externalId };
    // The failed change joins the desired state, so a retry by an admin applies it.
    const { next } = mergeChange(user?.desired ?? {}, message);
    await deps.users.save({
      ...(user ?? { connectionId, externalId, appliedVersion: 0, ownedLicenses: [], createdAt: now }),
      status: 'failed',
      statusReason: failure.message,
      lastError: { ...failure, at: now },
      lastOperationId: operationId,
      desired: sealDesired(deps.secrets, who, next),
      lastChange: sealChange(deps.secrets, message),
      updatedAt: now,
    } as UserState);
  }
  const kept = parsed.success ? undefined : (rawText ?? serialised(item));
  await deps.log.append({
    connectionId,
    time: now,
    operationId,
    externalId,
    version: parsed.success ? parsed.data.version : typeof raw.version === 'number' && Number.isFinite(raw.version) ? raw.version : 0,
    type: parsed.success ? parsed.data.type : 'malformed',
    action: 'none',
    result: 'failed',
    error: { ...failure, message: printable(failure.message).slice(0, 4000) },
    graphRequestIds: [],
    durationMs: 0,
    changedProperties: [],
    ...(kept !== undefined ? { rawMessage: rawForRecord(kept) } : {}),
  });
}

/** JSON text of a message for its record; never throws (a structure too deep to serialise says so). */
function serialised(item: unknown): string | undefined {
  try {
    return item === undefined ? undefined : JSON.stringify(item);
  } catch {
    return '(a structure that could not be serialised: nested too deep)';
  }
}

/** Log partition for messages that do not even name a valid connection. */
export const UNKNOWN_CONNECTION = '_unknown';

export async function getUserState(deps: ApplyDeps, connectionId: string, externalId: string) {
  await loadConnection(deps, connectionId);
  const user = await deps.users.get(connectionId, externalId);
  if (!user) throw new AppError('not-found', 'user-not-found', `No change has been received for user ${externalId} on this connection`, { externalId });
  return {
    externalId: user.externalId,
    status: user.status,
    ...(user.statusReason ? { statusReason: user.statusReason } : {}),
    desired: user.desired ? hideDesired(user.desired) : null,
    appliedVersion: user.appliedVersion,
    /** Microsoft 365 reflects every change received so far. */
    inSync: isInSync(user),
    link: user.objectId ? { objectId: user.objectId, userPrincipalName: user.userPrincipalName ?? null } : null,
    ownedLicenses: user.ownedLicenses,
    lastChange: user.lastChange ? { operationId: user.lastChange.operationId, version: user.lastChange.version, type: user.lastChange.type } : null,
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
export async function provisionOnDemand(deps: ApplyDeps, connectionId: string, externalId: string, change: unknown): Promise<OperationOutcome> {
  await loadConnection(deps, connectionId);
  if (change !== undefined) {
    const parsed = postedChangeSchema.extend({ externalId: changeSchema.shape.externalId.optional() }).safeParse(change);
    if (!parsed.success) throw new ValidationError(fieldErrors(parsed.error));
    if (parsed.data.externalId !== undefined && parsed.data.externalId !== externalId) throw new ValidationError([{ field: 'externalId', message: `must be ${externalId} (the user in the URL) or left out` }]);
    return applyOperation(deps, { ...parsed.data, connectionId, externalId, operationId: parsed.data.operationId ?? crypto.randomUUID() });
  }
  const user = await deps.users.get(connectionId, externalId);
  if (!user?.lastChange) throw new AppError('not-found', 'user-not-found', `No change has been received for user ${externalId}: post one in the request body`, { externalId });
  return applyOperation(deps, { ...openChange(deps.secrets, user.lastChange), operationId: crypto.randomUUID() }, { reapply: true });
}

/** Puts a failed or held user's change back on the queue (same operation id: the log shows the retry). */
export async function retryUser(deps: ApplyDeps, connectionId: string, externalId: string): Promise<{ operationId: string; version: number }> {
  await loadConnection(deps, connectionId);
  const user = await deps.users.get(connectionId, externalId);
  if (!user) throw new AppError('not-found', 'user-not-found', `No change has been received for user ${externalId} on this connection`, { externalId });
  const change = user.lastChange;
  if (!change || (user.status !== 'failed' && user.status !== 'held')) {
    throw new AppError('conflict', 'nothing-to-retry', `User ${externalId} is ${user.status}: only failed or held operations can be retried`, { status: user.status });
  }
  await deps.queue.enqueue(reapplyMessage(deps, change, 'retry requested by an admin'));
  return { operationId: change.operationId, version: change.version };
}

/** Held changes of a connection that has become ready go back on the queue. */
export async function releaseHeld(deps: Pick<ApplyDeps, 'users' | 'queue' | 'secrets'>, connectionId: string): Promise<number> {
  const held = await deps.users.listByStatus(connectionId, 'held');
  const changes = held.flatMap((u) => (u.lastChange ? [u.lastChange] : []));
  for (const change of changes) await deps.queue.enqueue(reapplyMessage(deps, change, 'released: the connection is ready'));
  return changes.length;
}

/** The user's last change, marked to re-apply the merged desired state (not to be skipped as a duplicate). */
function reapplyMessage(deps: Pick<ApplyDeps, 'secrets'>, change: OperationMessage, reason: string): OperationMessage {
  return { ...openChange(deps.secrets, change), retry: { attempt: 1, reason } };
}

export const logQuerySchema = z.strictObject({
  externalId: z.string().min(1).max(256).optional(),
  status: z.enum(['applied', 'skipped', 'failed', 'held', 'planned']).optional(),
  action: z.enum(operationActions).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  continuation: z.string().max(2048).optional(),
});

export async function queryLogs(deps: ApplyDeps, connectionId: string, q: z.infer<typeof logQuerySchema>): Promise<{ value: ProvisioningLogRecord[]; continuation: string | null }> {
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

export async function getMapping(deps: ApplyDeps, connectionId: string): Promise<{ mapping: Mapping; isDefault: boolean }> {
  const c = await loadConnection(deps, connectionId);
  return { mapping: c.mapping ?? DEFAULT_MAPPING, isDefault: !c.mapping };
}

/** Saves a mapping only if it can produce a valid user (targets writable, expressions parse, password covered). */
export async function putMapping(deps: ApplyDeps, connectionId: string, input: unknown): Promise<{ mapping: Mapping; isDefault: false }> {
  const parsed = mappingSchema.safeParse(input);
  if (!parsed.success) throw new ValidationError(fieldErrors(parsed.error), 'The mapping is not valid');
  const issues = validateMapping(parsed.data);
  if (issues.length > 0) throw new ValidationError(issues, 'The mapping is not valid');
  const c = await loadConnection(deps, connectionId);
  await deps.connections.replace({ ...c, mapping: parsed.data, updatedAt: deps.clock.now().toISOString() });
  return { mapping: parsed.data, isDefault: false };
}

export async function getSettings(deps: ApplyDeps, connectionId: string): Promise<SyncSettings> {
  const c = await loadConnection(deps, connectionId);
  return { ...DEFAULT_SYNC_SETTINGS, ...c.settings };
}

/** Replaces the settings; anything left out takes its default. */
export async function putSettings(deps: ApplyDeps, connectionId: string, input: unknown): Promise<SyncSettings> {
  const parsed = syncSettingsSchema.safeParse(input);
  if (!parsed.success) throw new ValidationError(fieldErrors(parsed.error), 'The settings are not valid');
  const c = await loadConnection(deps, connectionId);
  await deps.connections.replace({ ...c, settings: parsed.data, updatedAt: deps.clock.now().toISOString() });
  return parsed.data;
}

export const provisionedUsersChoices = ['keep', 'deprovision'] as const;
export type ProvisionedUsersChoice = (typeof provisionedUsersChoices)[number];

/** Still has an account this connection provisioned (linked, and not already removed by it). */
const stillProvisioned = (u: UserState) =>
  Boolean(u.objectId) && !(u.desired?.lifecycle?.state === 'removed' && u.appliedVersion >= u.desired.lifecycle.version);

/**
 * Deletes a connection. With provisioned users the caller must choose: `keep` leaves their Microsoft 365
 * accounts as they are; `deprovision` removes them per the connection's remove action first (the connection
 * stays until they are removed; delete it again then).
 */
export async function deleteConnection(deps: ApplyDeps, id: string, choice?: ProvisionedUsersChoice) {
  const connection = await loadConnection(deps, id);
  const users = await deps.users.listAll(id);
  const provisioned = users.filter(stillProvisioned);
  if (provisioned.length > 0 && choice === undefined) {
    throw new AppError('conflict', 'provisioned-users-choice-required',
      `${provisioned.length} user(s) were provisioned through this connection. Repeat with ?provisionedUsers=keep to leave their Microsoft 365 accounts as they are, or ?provisionedUsers=deprovision to remove them first (remove action: ${({ ...DEFAULT_SYNC_SETTINGS, ...connection.settings }).removeAction})`,
      { provisionedUsers: provisioned.length });
  }
  if (provisioned.length > 0 && choice === 'deprovision') {
    const settings = { ...DEFAULT_SYNC_SETTINGS, ...connection.settings };
    for (const u of provisioned) {
      await deps.queue.enqueue({ type: 'remove', connectionId: id, externalId: u.externalId, version: Math.max(u.appliedVersion, desiredVersion(u.desired)) + 1, operationId: crypto.randomUUID() });
    }
    return { status: 202, body: { deleted: false, id, provisionedUsers: { count: provisioned.length, action: 'deprovisioning' as const, removeAction: settings.removeAction }, detail: 'Remove operations were enqueued; delete the connection again once they have been applied (see its log).' } };
  }
  await deps.users.deleteAll(id);
  await deps.connections.delete(id);
  return { status: 200, body: { deleted: true, id, provisionedUsers: { count: provisioned.length, action: provisioned.length > 0 ? ('kept' as const) : ('none' as const) } } };
}
