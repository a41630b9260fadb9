// HTTP plumbing shared by the HTTP functions: JSON bodies in, problem+json out for every error.
import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { z } from 'zod';
import { isAppError, ValidationError, type ErrorKind } from '../shared/domain/errors.js';
import { parseOrThrow } from '../shared/domain/validation.js';
import { problemResponse } from './problem.js';

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
  if (json === undefined) throw new ValidationError([{ field: '(body)', message: 'is required (a JSON object)' }], 'The request body is empty');
  return parseOrThrow(schema, json);
}

/** The JSON body if there is one (undefined for an empty body); bad JSON is a 400. */
export async function readOptionalJson(request: HttpRequest): Promise<unknown> {
  const text = await request.text();
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError([{ field: '(body)', message: `is not valid JSON: ${(error as Error).message}` }], 'The request body is not valid JSON');
  }
}

/** Wraps a handler so every failure answers problem+json; unexpected ones are logged and answered 500. */
export function withProblems(handler: HttpHandler): HttpHandler {
  return async (request: HttpRequest, context: InvocationContext) => {
    try {
      return await handler(request, context);
    } catch (error) {
      return problemFor(error, context);
    }
  };
}

export function problemFor(error: unknown, context: InvocationContext): HttpResponseInit {
  if (isAppError(error)) {
    const status = STATUS[error.kind];
    if (status >= 500) context.warn(`${error.code}: ${error.message}`);
    const retryAfter: Record<string, string> = error.retryAfterMs !== undefined ? { 'retry-after': String(Math.ceil(error.retryAfterMs / 1000)) } : {};
    const { code: _providerCode, ...details } = error.details;
    // Details add to the problem; they never replace its own members (a detail named `status`, say).
    return problemResponse({ ...details, status, code: error.code, title: titleFor(status), detail: error.message }, retryAfter);
  }
  context.error(`Unexpected error: ${(error as Error)?.stack ?? String(error)}`);
  return problemResponse({ status: 500, code: 'internal-error', title: 'Internal error', detail: `Something went wrong on our side (invocation ${context.invocationId}); it has been logged.` });
}

const titleFor = (status: number) =>
  ({ 400: 'Invalid request', 404: 'Not found', 409: 'Conflict', 429: 'Too many requests', 502: 'Upstream refused our credentials', 503: 'Temporarily unavailable' })[status] ?? 'Error';

/** Where the identity platform sends the browser back: this app's public origin (configured, else the request's). */
export const oauthRedirectUri = (request: HttpRequest, publicBaseUrl: string | undefined) => `${publicBaseUrl ?? new URL(request.url).origin}/api/oauth/callback`;
