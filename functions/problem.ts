// Errors to HTTP callers as problem+json (RFC 9457) with a stable machine-readable `code`.
import type { HttpResponseInit } from '@azure/functions';
import type { ErrorCode } from '../shared/domain/errors.js';

export interface Problem {
  status: number;
  code: ErrorCode;
  title: string;
  detail?: string;
  [extension: string]: unknown;
}

export function problemResponse(problem: Problem, headers: Record<string, string> = {}): HttpResponseInit {
  const { status, code, title, detail, ...extensions } = problem;
  return {
    status,
    headers: { 'content-type': 'application/problem+json', ...headers },
    body: JSON.stringify({ type: `urn:m365-provisioner:problem:${code}`, title, status, code, detail, ...extensions }),
  };
}
