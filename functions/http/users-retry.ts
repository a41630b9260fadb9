import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import { retryUser } from '../../shared/provisioning/user-admin.js';
import { httpFunction } from '../define.js';
import { withProblems } from '../http-support.js';
import { common, problem } from '../openapi-common.js';
import { services } from '../services.js';

/** POST /api/connections/{id}/users/{externalId}/retry: re-enqueues a failed or held operation. */
export async function retryUserHttp(request: HttpRequest): Promise<HttpResponseInit> {
  return { status: 202, jsonBody: await retryUser(services(), request.params.id!, request.params.externalId!) };
}

export const retryUserFunction = httpFunction({
  name: 'users-retry',
  route: 'connections/{id}/users/{externalId}/retry',
  methods: ['POST'],
  authLevel: 'function',
  handler: withProblems(retryUserHttp),
  openapi: {
    summary: 'Put a failed or held operation back on the queue',
    responses: {
      202: { description: 'Enqueued', schema: z.object({ operationId: z.string(), version: z.number() }) },
      404: common[404],
      409: problem('Nothing to retry'),
    },
  },
});
