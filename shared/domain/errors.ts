// One error taxonomy for the whole app (docs/architecture.md, invariant 3). Adapters classify what they see into
// a kind; HTTP maps kinds to statuses; the queue function maps kinds to retry decisions.
export type ErrorKind = 'transient' | 'throttled' | 'not-found' | 'conflict' | 'invalid' | 'unauthorized' | 'dry-run';

/**
 * Every stable, machine-readable error code the app produces: in problem+json answers, failure records and log
 * records. One list, so a code is written once and checked by the compiler wherever it is thrown or compared.
 * Adapters map what they see onto these (Graph's own code stays in the error's details).
 */
export const errorCodes = [
  // The request itself (HTTP edge, queue messages)
  'validation-failed',
  'payload-too-large',
  'unsupported-media-type',
  'invalid-continuation',
  'invalid-key',
  'route-not-found',
  'console-not-built',
  'method-not-allowed',
  'function-key-required',
  // Who is calling (Entra ID sign-in)
  'authentication-required',
  'invalid-token',
  'role-required',
  'read-only-role',
  'too-many-key-checks',
  'internal-error',
  'malformed-message',
  'unreadable-message',
  'unreadable-run-request',
  'retries-exhausted',
  'claim-check-missing',
  'claim-check-corrupt',
  'dependency-unavailable',
  // Connections, credentials and consent
  'connection-not-found',
  'connection-exists',
  'connection-not-ready',
  'concurrent-update',
  'precondition-failed',
  'provisioned-users-choice-required',
  'not-authorization-code',
  'not-authorized',
  'public-base-url-not-configured',
  'no-token',
  'no-refresh-token',
  'oauth-code-exchange',
  'credentials-refused',
  'tenant-not-found',
  'permission-denied',
  // Users and their accounts
  'user-not-found',
  'group-not-found',
  'user-busy',
  'nothing-to-retry',
  'account-not-found',
  'account-conflict',
  'ambiguous-match',
  'adoption-refused',
  'account-linked-elsewhere',
  'protected-account',
  'invalid-group',
  'read-only-group',
  'group-licensing-unsupported',
  'upn-taken',
  'user-not-linked',
  'linked-account-missing',
  'mapping-failed',
  'required-properties-missing',
  'invalid-user-principal-name',
  'usage-location-required',
  'unknown-sku',
  'unknown-service-plan',
  'no-free-seats',
  'licence-group-error',
  // Reconciliation
  'run-not-found',
  'run-in-progress',
  'run-lease-lost',
  'no-such-decision',
  'delta-token-expired',
  // Microsoft Graph, by kind (Graph's own code is in details.code)
  'graph-paced',
  'graph-throttled',
  'graph-unavailable',
  'graph-not-found',
  'graph-conflict',
  'graph-invalid',
  // SCIM (the token API; SCIM routes answer SCIM errors)
  'scim-token-not-found',
  'scim-token-limit',
  'scim-uniqueness',
  // Table and queue storage
  'storage-not-found',
  'storage-conflict',
  'storage-busy',
  'storage-rejected',
  'storage-unavailable',
] as const;
export type ErrorCode = (typeof errorCodes)[number];

export class AppError extends Error {
  constructor(
    readonly kind: ErrorKind,
    /** Stable, machine-readable code (e.g. `connection-not-found`). */
    readonly code: ErrorCode,
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
  constructor(
    readonly errors: FieldError[],
    message = 'The request is not valid',
  ) {
    super('invalid', 'validation-failed', message, { errors });
    this.name = 'ValidationError';
  }
}

/** A paging token that this API did not give out (or that belongs to another list): a 400, never a storage error. */
export const invalidContinuation = () =>
  new AppError(
    'invalid',
    'invalid-continuation',
    'The continuation token is not valid: start again from the first page',
    {
      errors: [{ field: 'continuation', message: 'is not a continuation token from a previous page of this list' }],
    },
  );
