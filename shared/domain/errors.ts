// One error taxonomy for the whole app (ARCHITECTURE.md, invariant 3). Adapters classify what they see into
// a kind; HTTP maps kinds to statuses; the queue function maps kinds to retry decisions.
export type ErrorKind = 'transient' | 'throttled' | 'not-found' | 'conflict' | 'invalid' | 'unauthorized' | 'dry-run';

export class AppError extends Error {
  constructor(
    readonly kind: ErrorKind,
    /** Stable, machine-readable code (e.g. `connection-not-found`). */
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
    /** For throttled/transient: how long to wait before trying again. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;

export interface FieldError {
  /** Dotted path of the offending field in the request (e.g. `tenantId`, `changes.3.version`). */
  field: string;
  message: string;
}

/** Invalid input: names every offending field. */
export class ValidationError extends AppError {
  constructor(readonly errors: FieldError[], message = 'The request is not valid') {
    super('invalid', 'validation-failed', message, { errors });
    this.name = 'ValidationError';
  }
}

/** A paging token that this API did not give out (or that belongs to another list): a 400, never a storage error. */
export const invalidContinuation = () =>
  new AppError('invalid', 'invalid-continuation', 'The continuation token is not valid: start again from the first page', {
    errors: [{ field: 'continuation', message: 'is not a continuation token from a previous page of this list' }],
  });
