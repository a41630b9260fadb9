// Accepting changes from producers over HTTP: every change of a request validated (contract, Graph's limits
// under the connection's mapping, size) before any is enqueued, so a request is applied all or not at all.
import { changeBytes, MAX_CHANGE_BYTES, type OperationMessage, postedChangeSchema } from '../domain/change.js';
import { AppError, type FieldError, ValidationError } from '../domain/errors.js';
import { applyMapping, DEFAULT_MAPPING } from '../domain/mapping/mapping.js';
import { fieldErrors } from '../domain/validation.js';
import { type ApplyDeps } from './apply-operation.js';
import { loadConnection } from './connections.js';

export const MAX_CHANGES_PER_REQUEST = 1000;

/**
 * Validates every change first; only if all are valid are they enqueued (nothing from a rejected request).
 * Valid means: the contract (changeSchema); every mapped value within Microsoft 365's limits under this
 * connection's mapping (so a change Graph would refuse is refused here, naming its attribute); and no change over
 * MAX_CHANGE_BYTES (413). Returns one operation id per change, in order.
 */
export async function submitChanges(
  deps: ApplyDeps,
  connectionId: string,
  body: unknown,
): Promise<{ operations: { operationId: string; externalId: string; version: number }[] }> {
  const connection = await loadConnection(deps, connectionId);
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
  const errors: FieldError[] = [];
  const oversize: FieldError[] = [];
  const messages: OperationMessage[] = [];
  const mapping = connection.mapping ?? DEFAULT_MAPPING;
  list.forEach((item, index) => {
    const prefix = batch ? `changes.${index}.` : '';
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
      errors.push(...fieldErrors(parsed.error).map((e) => ({ ...e, field: `${prefix}${e.field}` })));
      return;
    }
    if (parsed.data.connectionId && parsed.data.connectionId !== connectionId) {
      errors.push({
        field: `${prefix}connectionId`,
        message: `must be ${connectionId} (the connection in the URL) or left out`,
      });
      return;
    }
    if (parsed.data.type === 'upsert' && parsed.data.attributes) {
      for (const issue of applyMapping(mapping, parsed.data.attributes, { domain: connection.domain }, 'create')
        .errors) {
        errors.push({
          field: `${prefix}attributes${issue.attribute ? `.${issue.attribute}` : ''}`,
          message: issue.message,
        });
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
  for (let i = 0; i < messages.length; i += 32)
    await Promise.all(messages.slice(i, i + 32).map((m) => deps.queue.enqueue(m)));
  return {
    operations: messages.map((m) => ({ operationId: m.operationId, externalId: m.externalId, version: m.version })),
  };
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
