// Graph's JSON error shape (https://learn.microsoft.com/graph/errors):
// {"error":{"code","message","innerError":{"date","request-id","client-request-id"},"details"?}}
import type { SimResponse } from '../http.js';

export interface GraphErrorDetail {
  code: string;
  message?: string;
  target?: string;
}

/** Thrown by handlers; the pipeline turns it into the documented body plus request-id headers. */
export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: GraphErrorDetail[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export interface RequestIds {
  requestId: string;
  clientRequestId: string;
  date: string;
}

export function graphErrorResponse(err: GraphError, ids: RequestIds): SimResponse {
  const error: Record<string, unknown> = { code: err.code, message: err.message };
  if (err.details) error.details = err.details;
  error.innerError = { date: ids.date, 'request-id': ids.requestId, 'client-request-id': ids.clientRequestId };
  return { status: err.status, headers: { ...err.headers }, body: { error } };
}

// Common errors, worded as Graph words them.
export const insufficientPrivileges = () =>
  new GraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');

export const resourceNotFound = (id: string) =>
  new GraphError(
    404,
    'Request_ResourceNotFound',
    `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
  );

export const badRequest = (message: string, details?: GraphErrorDetail[]) =>
  new GraphError(400, 'Request_BadRequest', message, details);

export const objectConflict = (property: string) =>
  badRequest(`Another object with the same value for property ${property} already exists.`, [
    { target: property, code: 'ObjectConflict' },
  ]);
