// Recording what could not run (a malformed or poisoned message, retries exhausted): failed on the user when it
// is a change, and in the log whatever it is, so nothing is lost and an admin can retry it.
import { changeSchema, objectTypeOf, type OperationMessage } from '../domain/change.js';
import { mergeChange } from '../domain/desired-state.js';
import type { AppError } from '../domain/errors.js';
import { type ErrorCode } from '../domain/errors.js';
import { isConnectionId } from '../domain/identifiers.js';
import { rawForRecord } from '../domain/queue-message.js';
import { type ApplyDeps } from './apply-operation.js';
import { sealChange, sealDesired } from './change-secrets.js';

/**
 * Records an operation that cannot run (malformed message, retries exhausted, poisoned) so it is visible on the
 * user and in the log, and can be retried by an admin. Never fails on content: anything that is not a valid change
 * is logged as it came (`rawMessage`, secrets redacted) under its connection if it names one, else UNKNOWN_CONNECTION.
 */
export async function recordFailure(
  deps: ApplyDeps,
  item: unknown,
  failure: { code: ErrorCode; kind: AppError['kind']; message: string },
  rawText?: string,
): Promise<void> {
  const parsed = changeSchema.safeParse(item);
  const raw = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
  // Text as it came, cut to size: the log adapter makes every text column well-formed.
  const text = (v: unknown, max: number) => (typeof v === 'string' ? v.slice(0, max) : undefined);
  const rawConnection = text(raw.connectionId, 36);
  const connectionId = parsed.success
    ? parsed.data.connectionId
    : rawConnection && isConnectionId(rawConnection)
      ? rawConnection.toLowerCase()
      : UNKNOWN_CONNECTION;
  const externalId = parsed.success ? parsed.data.externalId : (text(raw.externalId, 256) ?? '');
  const now = deps.clock.now().toISOString();
  const operationId =
    parsed.success && parsed.data.operationId
      ? parsed.data.operationId
      : (text(raw.operationId, 128) ?? crypto.randomUUID());
  const group = parsed.success && objectTypeOf(parsed.data) === 'group';
  if (parsed.success && externalId) {
    // A group's failure lands on its own row (groups table), a user's on the user's.
    const rows = group ? deps.groups : deps.users;
    const user = await rows.get(connectionId, externalId);
    const message: OperationMessage = { ...parsed.data, operationId };
    const who = { connectionId, externalId };
    // The failed change joins the desired state, so a retry by an admin applies it.
    const { next } = mergeChange(user?.desired ?? {}, message);
    await rows.save({
      ...(user ?? { connectionId, externalId, appliedVersion: 0, ownedLicenses: [], createdAt: now }),
      status: 'failed',
      statusReason: failure.message,
      lastError: { ...failure, at: now },
      lastOperationId: operationId,
      desired: sealDesired(deps.secrets, who, next),
      lastChange: sealChange(deps.secrets, message),
      updatedAt: now,
    });
  }
  const kept = parsed.success ? undefined : (rawText ?? serialised(item));
  await deps.log.append({
    connectionId,
    time: now,
    operationId,
    externalId,
    version: parsed.success
      ? parsed.data.version
      : typeof raw.version === 'number' && Number.isFinite(raw.version)
        ? raw.version
        : 0,
    type: parsed.success ? parsed.data.type : 'malformed',
    action: 'none',
    result: 'failed',
    error: { ...failure, message: failure.message.slice(0, 4000) },
    graphRequestIds: [],
    durationMs: 0,
    changedProperties: [],
    ...(kept !== undefined ? { rawMessage: rawForRecord(kept) } : {}),
    ...(group ? { objectType: 'group' as const } : {}),
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
