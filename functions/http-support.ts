// HTTP plumbing shared by the HTTP functions: JSON bodies in, problem+json out for every error.
import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { z } from 'zod';
import { type AppConfig, publicOrigin } from '../shared/config.js';
import { MAX_REQUEST_BYTES } from '../shared/domain/change.js';
import { AppError, type ErrorCode, type ErrorKind, isAppError, ValidationError } from '../shared/domain/errors.js';
import { externalIdSchema, isConnectionId, isRunId, requireSaneJson } from '../shared/domain/identifiers.js';
import { parseOrThrow } from '../shared/domain/validation.js';
import { problemResponse } from './problem.js';

/** Codes whose HTTP status is more specific than their kind's. */
const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  'payload-too-large': 413,
  'precondition-failed': 412,
  'unsupported-media-type': 415,
  'authentication-required': 401,
  'invalid-token': 401,
  'role-required': 403,
  'read-only-role': 403,
};

const STATUS: Record<ErrorKind, number> = {
  invalid: 400,
  'not-found': 404,
  conflict: 409,
  throttled: 429,
  // Our credentials to an upstream were refused: the request was fine, the dependency said no.
  unauthorized: 502,
  transient: 503,
  'dry-run': 200,
};

/** The request body as JSON, validated by `schema`; bad JSON or fields become a 400 naming them. */
export async function readBody<S extends z.ZodType>(request: HttpRequest, schema: S): Promise<z.infer<S>> {
  const json = await readOptionalJson(request);
  if (json === undefined)
    throw new ValidationError(
      [{ field: '(body)', message: 'is required (a JSON object)' }],
      'The request body is empty',
    );
  return parseOrThrow(schema, json);
}

/**
 * The JSON body if there is one (undefined for an empty body). Too large → 413; not JSON, or holding text that is not
 * well-formed Unicode (a lone surrogate can be written in JSON but never stored), or nested absurdly deep → 400.
 */
export async function readOptionalJson(request: HttpRequest): Promise<unknown> {
  const declared = Number(request.headers.get('content-length') ?? 0);
  if (declared > MAX_REQUEST_BYTES) throw tooLarge(declared);
  const text = await request.text();
  if (Buffer.byteLength(text, 'utf8') > MAX_REQUEST_BYTES) throw tooLarge(Buffer.byteLength(text, 'utf8'));
  if (text.trim() === '') return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ValidationError(
      [{ field: '(body)', message: `is not valid JSON: ${(error as Error).message}` }],
      'The request body is not valid JSON',
    );
  }
  requireSaneJson(json);
  return json;
}

const tooLarge = (bytes: number) =>
  new AppError(
    'invalid',
    'payload-too-large',
    `The request body is ${bytes} bytes; at most ${MAX_REQUEST_BYTES} are accepted (send large batches in several requests)`,
  );

/**
 * The query parameters a handler validates: every one but `code`, the function key (`?code=`), which the host
 * checks before the handler runs and which is no filter of any route.
 */
export function queryOf(request: HttpRequest): Record<string, string> {
  const { code: _key, ...rest } = Object.fromEntries(request.query);
  return rest;
}

/**
 * Route values are outside input too: checked before any handler runs, so a bad one is answered at once and never
 * reaches a Table key. A connection id that is not a GUID, or a run id of the wrong shape, names nothing: 404.
 */
function checkRouteParams(params: Record<string, string>): void {
  if (params.id !== undefined && !isConnectionId(params.id)) {
    throw new AppError('not-found', 'connection-not-found', 'No connection with that id (connection ids are GUIDs)');
  }
  if (params.runId !== undefined && !isRunId(params.runId))
    throw new AppError('not-found', 'run-not-found', 'No reconciliation run with that id');
  if (params.externalId !== undefined)
    parseOrThrow(
      z.object({ externalId: externalIdSchema }),
      { externalId: params.externalId },
      'The user id in the URL is not valid',
    );
}

/** Wraps a handler so every failure answers problem+json; unexpected ones are logged and answered 500. */
export function withProblems(handler: HttpHandler): HttpHandler {
  return async (request: HttpRequest, context: InvocationContext) => {
    try {
      checkRouteParams(request.params);
      return await handler(request, context);
    } catch (error) {
      return problemFor(error, context);
    }
  };
}

export function problemFor(error: unknown, context: InvocationContext): HttpResponseInit {
  if (isAppError(error)) {
    const status = STATUS_BY_CODE[error.code] ?? STATUS[error.kind];
    if (status >= 500) context.warn(`${error.code}: ${error.message}`);
    const retryAfter: Record<string, string> =
      error.retryAfterMs !== undefined ? { 'retry-after': String(Math.ceil(error.retryAfterMs / 1000)) } : {};
    const { code: _providerCode, ...details } = error.details;
    // Details add to the problem; they never replace its own members (a detail named `status`, say).
    return problemResponse(
      { ...details, status, code: error.code, title: titleFor(status), detail: error.message },
      retryAfter,
    );
  }
  context.error(`Unexpected error: ${(error as Error)?.stack ?? String(error)}`);
  return problemResponse({
    status: 500,
    code: 'internal-error',
    title: 'Internal error',
    detail: `Something went wrong on our side (invocation ${context.invocationId}); it has been logged.`,
  });
}

const titleFor = (status: number) =>
  ({
    400: 'Invalid request',
    401: 'Authentication required',
    403: 'Forbidden',
    404: 'Not found',
    413: 'Payload too large',
    409: 'Conflict',
    412: 'Precondition failed',
    415: 'Unsupported media type',
    429: 'Too many requests',
    502: 'Upstream refused our credentials',
    503: 'Temporarily unavailable',
  })[status] ?? 'Error';

/**
 * Where the identity platform sends the browser back: this app's configured public origin (PUBLIC_BASE_URL, else the
 * platform's WEBSITE_HOSTNAME), never the request's Host header. Neither set: refused rather than guessed.
 */
export function oauthRedirectUri(config: Pick<AppConfig, 'PUBLIC_BASE_URL' | 'WEBSITE_HOSTNAME'>): string {
  const origin = publicOrigin(config);
  if (!origin)
    throw new AppError(
      'conflict',
      'public-base-url-not-configured',
      'The app does not know its public address: set PUBLIC_BASE_URL (e.g. https://myapp.azurewebsites.net) so the OAuth redirect URI is not taken from the request',
    );
  return `${origin}/api/oauth/callback`;
}

/** `{url}`: where a redirect would have sent the browser (for a client that navigates itself, e.g. the console). */
export const browserLinkSchema = z.object({ url: z.string().describe('Where to send the browser') });

/**
 * A redirect for a browser that followed a link (302), or the same address as `{url}` for a script that asked with
 * `Accept: application/json` (the console: a fetch cannot read a redirect to another origin, nor send the function
 * key on a plain navigation).
 */
export function redirectOrLink(request: HttpRequest, url: string): HttpResponseInit {
  const headers = { 'cache-control': 'no-store' };
  if ((request.headers.get('accept') ?? '').includes('application/json')) return { headers, jsonBody: { url } };
  return { status: 302, headers: { ...headers, location: url } };
}
