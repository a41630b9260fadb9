import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { httpFunction } from '../define.js';
import { problem } from '../openapi-common.js';
import { type Problem, problemResponse } from '../problem.js';

/**
 * Any path or method no other function serves (the least specific route, so it never shadows one): a 404 in
 * problem+json like every other error, instead of the host's empty 404/405. It names nothing about what exists.
 */
export async function notFound(request: HttpRequest): Promise<HttpResponseInit> {
  return problemResponse(routeNotFound(request.method));
}

/** The answer for a path or method the API does not have (the local host answers it too, for paths outside /api). */
export const routeNotFound = (method: string): Problem => ({
  status: 404,
  code: 'route-not-found',
  title: 'Not found',
  detail: `No operation answers ${method} on this path; the API is described at /api/openapi.json`,
});

export const notFoundFunction = httpFunction({
  name: 'not-found',
  route: '{*path}',
  methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'],
  authLevel: 'anonymous',
  handler: notFound,
  openapi: {
    summary: 'Any path or method not described here: 404 problem+json (code route-not-found)',
    responses: { 404: problem('No such operation') },
  },
});
