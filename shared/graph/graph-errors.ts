// The one classifier for everything the Graph adapter sees: Graph errors (status + Graph error code),
// identity platform errors (from @azure/identity / MSAL or the OAuth client), and network failures.
// The table of decisions is tested in test/unit/graph/graph-errors.test.ts.
import { AuthenticationError } from '@azure/identity';
import { GraphError } from '@microsoft/microsoft-graph-client';
import { ResponseBodyError } from 'oauth4webapi';
import { AppError, type ErrorCode, type ErrorKind } from '../domain/errors.js';

export interface GraphFailure {
  status?: number;
  /** Graph's error.code or the identity platform's `error`. */
  code?: string;
  /** Graph's error.details[].code (e.g. ObjectConflict under a 400 Request_BadRequest). */
  detailCodes?: string[];
  message: string;
  retryAfterMs?: number;
  requestId?: string;
}

/** Decides the kind of a failure from its status and code (the tested table). */
export function kindOf(f: Pick<GraphFailure, 'status' | 'code' | 'detailCodes'>): ErrorKind {
  const { status, code } = f;
  // A duplicate (userPrincipalName, mail, proxy address) is a 400 whose details say ObjectConflict.
  if (f.detailCodes?.includes('ObjectConflict')) return 'conflict';
  if (
    code === 'invalid_client' ||
    code === 'unauthorized_client' ||
    code === 'invalid_grant' ||
    code === 'interaction_required' ||
    code === 'consent_required'
  )
    return 'unauthorized';
  if (code === 'invalid_scope' || code === 'invalid_request') return 'invalid';
  if (code === 'network_error' || code === 'endpoints_resolution_error') return 'transient';
  if (status === undefined) return 'transient';
  if (status === 401 || status === 403) return 'unauthorized';
  if (status === 404) return 'not-found';
  if (status === 409 || status === 412) return 'conflict';
  if (status === 400 && /ObjectConflict/i.test(code ?? '')) return 'conflict';
  if (status === 429) return 'throttled';
  if (status === 408 || status >= 500) return 'transient';
  if (status >= 400) return 'invalid';
  return 'transient';
}

/** Retry-After in milliseconds (seconds or an HTTP date). */
export const retryAfterMs = (value: string | null | undefined): number | undefined => {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
};

/** Extracts status, code and message from whatever a Graph or identity call threw. */
export function describeFailure(error: unknown): GraphFailure {
  if (error instanceof GraphError) {
    const headers = error.headers;
    const detailCodes = detailCodesOf(error.body);
    return {
      status: error.statusCode > 0 ? error.statusCode : undefined,
      code: error.code ?? undefined,
      ...(detailCodes.length ? { detailCodes } : {}),
      message: error.message,
      retryAfterMs: retryAfterMs(headers?.get?.('retry-after')),
      requestId: error.requestId ?? headers?.get?.('request-id') ?? undefined,
    };
  }
  if (error instanceof AuthenticationError) {
    return {
      status: error.statusCode,
      code: error.errorResponse.error,
      message: firstLine(error.errorResponse.errorDescription),
    };
  }
  if (error instanceof ResponseBodyError) {
    return { status: error.status, code: error.error, message: firstLine(error.error_description ?? error.message) };
  }
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  // MSAL reports an unreachable or unresolvable authority only as a code plus a link.
  const msal = /^(network_error|endpoints_resolution_error)\b/.exec(e?.message ?? '');
  if (msal)
    return {
      code: msal[1],
      message: 'the identity platform could not be reached or did not answer with its OpenID configuration',
    };
  // Network-level failure (refused, reset, TLS, timeout): no HTTP status.
  const cause = e?.cause?.code ?? e?.cause?.message;
  return { message: firstLine(`${e?.message ?? String(error)}${cause ? ` (${cause})` : ''}`) };
}

export function classifyGraphError(error: unknown, what: string): AppError {
  if (error instanceof AppError) return error;
  return classifyFailure(describeFailure(error), what);
}

/** An identity platform error body (`{error, error_description}`) read by the adapter itself, classified the same way. */
export function classifyIdentityResponse(status: number, body: unknown, what: string): AppError {
  const b = (typeof body === 'object' && body !== null ? body : {}) as { error?: unknown; error_description?: unknown };
  return classifyFailure(
    {
      status,
      ...(typeof b.error === 'string' ? { code: b.error } : {}),
      message: firstLine(typeof b.error_description === 'string' ? b.error_description : `HTTP ${status}`),
    },
    what,
  );
}

// AADSTS90002 (reference-error-codes: InvalidTenantName): the tenant in the authority does not exist (or not in this
// cloud). The token endpoint says `invalid_request`, OpenID discovery `invalid_tenant`.
const TENANT_NOT_FOUND = /^AADSTS90002: Tenant '([^']*)' not found/;
const isTenantNotFound = (f: GraphFailure) => f.code === 'invalid_tenant' || TENANT_NOT_FOUND.test(f.message);

function classifyFailure(failure: GraphFailure, what: string): AppError {
  if (isTenantNotFound(failure)) {
    // The connection's tenant id (or cloud) is wrong: its credentials can never work, as with a refused secret.
    const tenant = TENANT_NOT_FOUND.exec(failure.message)?.[1];
    return new AppError(
      'unauthorized',
      'tenant-not-found',
      `AADSTS90002: Tenant${tenant === undefined ? '' : ` '${tenant}'`} not found: check the connection's tenantId (the Directory (tenant) ID of the Microsoft 365 organisation) and its cloud`,
      { ...failure, operation: what },
    );
  }
  const kind = kindOf(failure);
  return new AppError(
    kind,
    codeOf(kind, failure, what),
    `${what} failed${failure.status ? ` (HTTP ${failure.status})` : ''}: ${failure.code ? `${failure.code}: ` : ''}${failure.message}`,
    { ...failure, operation: what },
    failure.retryAfterMs,
  );
}

/** Steps that present the connection's own credentials: a refusal there is the credentials', not a user's. */
const CREDENTIAL_STEPS = new Set(['acquire-token', 'oauth-refresh', 'oauth-code-exchange']);
// Graph documents no code for an exhausted SKU; this message is what assignLicense answers (docs/graph-behaviour.md).
const NO_AVAILABLE_LICENSES = /does not have any available licenses/i;

/** The app's stable code for a classified failure; Graph's or the identity platform's own code stays in details. */
function codeOf(kind: ErrorKind, failure: GraphFailure, what: string): ErrorCode {
  switch (kind) {
    case 'unauthorized':
      return failure.status === 403 && !CREDENTIAL_STEPS.has(what) ? 'permission-denied' : 'credentials-refused';
    case 'throttled':
      return 'graph-throttled';
    case 'transient':
      return 'graph-unavailable';
    case 'not-found':
      return 'graph-not-found';
    case 'conflict':
      return 'graph-conflict';
    default:
      return NO_AVAILABLE_LICENSES.test(failure.message) ? 'no-free-seats' : 'graph-invalid';
  }
}

/** The Graph client keeps the `error` object's JSON in `body`. */
function detailCodesOf(body: unknown): string[] {
  try {
    const parsed = (typeof body === 'string' ? JSON.parse(body) : body) as
      { details?: { code?: string }[] } | undefined;
    return (parsed?.details ?? []).flatMap((d) => (typeof d.code === 'string' ? [d.code] : []));
  } catch {
    return [];
  }
}

function firstLine(text: string | undefined): string {
  return (text ?? '').split(/\r?\n/)[0]!.trim();
}
