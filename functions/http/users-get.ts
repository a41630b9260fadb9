import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { getUserState } from '../../shared/provisioning/user-admin.js';
import { httpFunction } from '../define.js';
import { withProblems } from '../http-support.js';
import { problem } from '../openapi-common.js';
import { userViewSchema } from '../openapi-responses.js';
import { services } from '../services.js';

/** GET /api/connections/{id}/users/{externalId}: desired state, link, status, last error, history link. */
export async function getUserHttp(request: HttpRequest): Promise<HttpResponseInit> {
  return { jsonBody: await getUserState(services(), request.params.id!, request.params.externalId!) };
}

export const getUserFunction = httpFunction({
  name: 'users-get',
  route: 'connections/{id}/users/{externalId}',
  methods: ['GET'],
  authLevel: 'function',
  handler: withProblems(getUserHttp),
  openapi: {
    summary: 'A user of the connection: desired state, link to the Microsoft 365 account, status, last error',
    responses: {
      200: { description: 'The user', schema: userViewSchema },
      404: problem('No change received for this user'),
    },
  },
});
