// The identity platform's error body (https://learn.microsoft.com/entra/identity-platform/reference-error-codes):
// {error, error_description "AADSTSnnnn: … Trace ID … Correlation ID … Timestamp …", error_codes, timestamp,
//  trace_id, correlation_id, error_uri}. MSAL surfaces error_description, so the AADSTS code must lead it.
import { randomUUID } from 'node:crypto';
import type { SimResponse } from '../http.js';

export class IdentityError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly aadsts: number,
    readonly description: string,
  ) {
    super(`AADSTS${aadsts}: ${description}`);
  }
}

function aadTimestamp(now: number): string {
  return new Date(now)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
}

export function identityErrorResponse(err: IdentityError, now: number, correlationId?: string): SimResponse {
  const traceId = randomUUID();
  const correlation = correlationId ?? randomUUID();
  const timestamp = aadTimestamp(now);
  return {
    status: err.status,
    headers: { 'cache-control': 'no-store, no-cache', pragma: 'no-cache' },
    body: {
      error: err.error,
      error_description: `AADSTS${err.aadsts}: ${err.description} Trace ID: ${traceId} Correlation ID: ${correlation} Timestamp: ${timestamp}`,
      error_codes: [err.aadsts],
      timestamp,
      trace_id: traceId,
      correlation_id: correlation,
      error_uri: `https://login.microsoftonline.com/error?code=${err.aadsts}`,
    },
  };
}
