// Accepting changes from producers over HTTP: every change of a request validated (contract, Graph's limits
// under the connection's mapping, size, what a create needs) before any is enqueued, so a request is applied all or
// not at all. The answer says, per change, what the admin should know now rather than find in the log later: a
// likely typo in an attribute name, and a change that is stale (not newer than what was already received).
import {
  changeBytes,
  MAX_CHANGE_BYTES,
  objectTypeOf,
  type OperationMessage,
  postedChangeSchema,
} from '../domain/change.js';
import { attributeWarnings } from '../domain/change-checks.js';
import type { Connection } from '../domain/connection.js';
import {
  ALLOWED_CHARACTERS,
  type CreateProblem,
  createProblems,
  describeCreateProblem,
  quote,
} from '../domain/create-requirements.js';
import { type DesiredState, desiredVersion, mergeChange } from '../domain/desired-state.js';
import { AppError, type FieldError, ValidationError } from '../domain/errors.js';
import { groupDesired, groupMappingOf } from '../domain/group-drift.js';
import { applyMapping, DEFAULT_MAPPING, type MappedUser, ruleAttributes } from '../domain/mapping/mapping.js';
import { effectiveSettings } from '../domain/sync-settings.js';
import type { UserState } from '../domain/user-state.js';
import { fieldErrors } from '../domain/validation.js';
import { type ApplyDeps } from './apply-operation.js';
import { loadConnection } from './connections.js';

export const MAX_CHANGES_PER_REQUEST = 1000;
/** Storage round trips in flight at once (user rows read, messages sent): 1,000 without opening 1,000 sockets. */
const PARALLEL = 32;

export interface AcceptedChange {
  operationId: string;
  externalId: string;
  version: number;
  /**
   * Not newer than what was already received for this user (its row, or an earlier change of the same request):
   * it is still enqueued, and the executor skips it (logged `skipped`, reason `Stale: …`) unless the user is not in
   * sync, when its delivery re-applies what is held.
   */
  stale?: true;
  /** With `stale`: the highest version already received for this user. */
  heldVersion?: number;
  /** Worth a look, not refused: an attribute nothing reads that is close to one that is (`attributes.jobTtile`). */
  warnings?: FieldError[];
}

/**
 * Validates every change first; only if all are valid are they enqueued (nothing from a rejected request).
 * Valid means: the contract (changeSchema); every mapped value within Microsoft 365's limits under this
 * connection's mapping (so a change Graph would refuse is refused here, naming its attribute); an upsert that would
 * create an account (the user is not linked yet and allowCreate is on) gives what POST /users needs
 * (create-requirements.ts); and no change over MAX_CHANGE_BYTES (413). Returns one entry per change, in order.
 */
export async function submitChanges(
  deps: ApplyDeps,
  connectionOrId: string | Connection,
  body: unknown,
): Promise<{ operations: AcceptedChange[] }> {
  // A caller that has just read the connection (the SCIM edge) hands it over instead of a second read.
  const connection = typeof connectionOrId === 'string' ? await loadConnection(deps, connectionOrId) : connectionOrId;
  const connectionId = connection.id;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationError(
      [{ field: '(body)', message: 'must be a JSON object: one change, or {"changes": [ … ]}' }],
      'The request body is not a change',
    );
  }
  const batch = 'changes' in body;
  const list = batch ? body.changes : [body];
  if (!Array.isArray(list) || list.length === 0)
    throw new ValidationError([{ field: 'changes', message: 'must be a non-empty array' }]);
  if (list.length > MAX_CHANGES_PER_REQUEST)
    throw new ValidationError([
      { field: 'changes', message: `at most ${MAX_CHANGES_PER_REQUEST} changes per request (got ${list.length})` },
    ]);
  const errors: { index: number; error: FieldError }[] = [];
  const oversize: FieldError[] = [];
  const accepted: { index: number; prefix: string; message: OperationMessage; mapped?: MappedUser }[] = [];
  const mapping = connection.mapping ?? DEFAULT_MAPPING;
  list.forEach((item, index) => {
    const prefix = batch ? `changes.${index}.` : '';
    const refuse = (error: FieldError) => errors.push({ index, error: { ...error, field: `${prefix}${error.field}` } });
    const bytes = changeBytes(item);
    if (bytes > MAX_CHANGE_BYTES) {
      const largest = largestField(item);
      oversize.push({
        field: `${prefix}${largest ?? '(change)'}`,
        message: `makes the change ${bytes} bytes; a change may be at most ${MAX_CHANGE_BYTES} bytes`,
      });
      return;
    }
    const parsed = postedChangeSchema.safeParse(item);
    if (!parsed.success) {
      fieldErrors(parsed.error).forEach(refuse);
      return;
    }
    if (parsed.data.connectionId && parsed.data.connectionId !== connectionId) {
      refuse({ field: 'connectionId', message: `must be ${connectionId} (the connection in the URL) or left out` });
      return;
    }
    let mapped: MappedUser | undefined;
    if (objectTypeOf(parsed.data) === 'group') {
      // A group: upsert or remove, and attributes that describe a group Microsoft 365 can hold (group-drift.ts).
      if (parsed.data.type !== 'upsert' && parsed.data.type !== 'remove')
        refuse({ field: 'type', message: 'a group change is an upsert or a remove' });
      if (parsed.data.type === 'upsert')
        for (const problem of groupDesired(parsed.data.attributes ?? {}, groupMappingOf(connection)).problems)
          refuse({ field: `attributes.${problem.field}`, message: problem.message });
    } else if (parsed.data.type === 'upsert' && parsed.data.attributes) {
      mapped = applyMapping(mapping, parsed.data.attributes, { domain: connection.domain }, 'create');
      for (const issue of mapped.errors)
        refuse({ field: `attributes${issue.attribute ? `.${issue.attribute}` : ''}`, message: issue.message });
    }
    accepted.push({
      index,
      prefix,
      message: { ...parsed.data, connectionId, operationId: parsed.data.operationId ?? crypto.randomUUID() },
      ...(mapped && mapped.errors.length === 0 ? { mapped } : {}),
    });
  });

  // What was already received for these users (and groups): one point read per object, in parallel.
  const rows = await readRows(
    deps,
    connectionId,
    accepted.map((a) => a.message),
  );
  const allowCreate = effectiveSettings(connection.settings).allowCreate;
  const received = new Map<string, DesiredState>();
  const answers = accepted.map(({ index, prefix, message, mapped }): AcceptedChange => {
    const row = rows.get(rowKey(message));
    const before = received.get(rowKey(message)) ?? row?.desired ?? {};
    const { next, changed } = mergeChange(before, message);
    received.set(rowKey(message), next);
    if (changed && mapped && !row?.objectId && allowCreate) {
      // Not linked yet: this upsert creates the account (or adopts one the matching attribute finds, which cannot
      // be known without asking Microsoft 365; a change that could not create is refused either way).
      const attributes = message.attributes ?? {};
      for (const problem of createProblems({
        ...mapped.values,
        accountEnabled: mapped.values.accountEnabled ?? true,
      })) {
        const from = ruleAttributes(mapping, problem.property);
        errors.push({
          index,
          error: {
            field: `${prefix}attributes${from.length === 1 ? `.${from[0]}` : ''}`,
            message: `${message.externalId} cannot be created: ${describeCreateProblem(problem, origin(problem, from, attributes))}`,
          },
        });
      }
    }
    const warnings =
      message.attributes && objectTypeOf(message) === 'user'
        ? attributeWarnings(mapping, message.attributes).map((w) => ({
            field: `attributes.${w.attribute}`,
            message: w.message,
          }))
        : [];
    return {
      operationId: message.operationId,
      externalId: message.externalId,
      version: message.version,
      ...(changed ? {} : { stale: true, heldVersion: desiredVersion(before) }),
      ...(warnings.length > 0 ? { warnings } : {}),
    };
  });

  const rejected = [...oversize, ...errors.sort((a, b) => a.index - b.index).map((e) => e.error)];
  if (rejected.length > 0) {
    const message = `${new Set(rejected.map((e) => e.field.split('.').slice(0, 2).join('.'))).size} change(s) are not valid; nothing was enqueued`;
    // Too large and nothing else wrong: 413, so a client knows to split rather than fix.
    if (errors.length === 0) throw new AppError('invalid', 'payload-too-large', message, { errors: oversize });
    throw new ValidationError(rejected, message);
  }
  // Stale changes are enqueued too: harmless (the executor skips them), and the at-least-once path stays one path.
  for (let i = 0; i < accepted.length; i += PARALLEL)
    await Promise.all(accepted.slice(i, i + PARALLEL).map((a) => deps.queue.enqueue(a.message)));
  return { operations: answers };
}

/**
 * Where a value the create needs came from, for the message: the attributes its rule read, and for a value that
 * came out empty from attributes that were there (`userName: "李雷"` → no userPrincipalName), which characters survive.
 * Secret values (the password's attributes) are never shown.
 */
function origin(problem: CreateProblem, from: readonly string[], attributes: Record<string, unknown>): string {
  const given = from.filter((a) => attributes[a] !== undefined && attributes[a] !== null && attributes[a] !== '');
  if (problem.kind === 'missing' && given.length > 0 && !problem.property.startsWith('passwordProfile')) {
    const values = given.map((a) => `${a} ${quote(attributes[a])}`).join(', ');
    const allowed = ALLOWED_CHARACTERS[problem.property];
    return `the mapping made nothing of ${values}${allowed ? `: ${allowed}` : ''}`;
  }
  return from.length > 1 ? `from ${from.join(', ')}` : '';
}

const rowKey = (m: Pick<OperationMessage, 'objectType' | 'externalId'>) => `${objectTypeOf(m)}:${m.externalId}`;

/** The rows of these users and groups (those that have one), by rowKey, read PARALLEL at a time. */
async function readRows(
  deps: ApplyDeps,
  connectionId: string,
  messages: OperationMessage[],
): Promise<Map<string, UserState>> {
  const rows = new Map<string, UserState>();
  const wanted = [...new Map(messages.map((m) => [rowKey(m), m])).values()];
  for (let i = 0; i < wanted.length; i += PARALLEL) {
    await Promise.all(
      wanted.slice(i, i + PARALLEL).map(async (m) => {
        const repo = objectTypeOf(m) === 'group' ? deps.groups : deps.users;
        const row = await repo.get(connectionId, m.externalId);
        if (row) rows.set(rowKey(m), row);
      }),
    );
  }
  return rows;
}

/** The field (or attribute) of a change that takes the most room: what an oversize error should point at. */
function largestField(change: unknown): string | undefined {
  if (typeof change !== 'object' || change === null) return undefined;
  const { attributes, ...fields } = change as Record<string, unknown>;
  const candidates = [
    ...Object.entries(fields).map(([k, v]) => [k, v] as const),
    ...(typeof attributes === 'object' && attributes !== null
      ? Object.entries(attributes).map(([k, v]) => [`attributes.${k}`, v] as const)
      : []),
  ];
  return candidates
    .map(([field, value]) => ({ field, size: changeBytes(value ?? null) }))
    .sort((a, b) => b.size - a.size)[0]?.field;
}
