import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { testResultSchema } from '../../shared/domain/connection.js';
import { testConnection } from '../../shared/provisioning/test-connection.js';
import { httpFunction } from '../define.js';
import { withProblems } from '../http-support.js';
import { common } from '../openapi-common.js';
import { services } from '../services.js';

/** POST /api/connections/{id}/test: {ok, checks:[{name, ok, detail}]}; sets the status ready or invalid. */
export async function testConnectionHttp(request: HttpRequest): Promise<HttpResponseInit> {
  return { jsonBody: await testConnection(services(), request.params.id!) };
}

export const testConnectionFunction = httpFunction({
  name: 'connections-test',
  route: 'connections/{id}/test',
  methods: ['POST'],
  authLevel: 'function',
  handler: withProblems(testConnectionHttp),
  openapi: {
    summary: 'Test the connection: token, permissions, verified domain, user read, secret expiry',
    responses: {
      200: { description: 'Test result; the connection becomes ready or invalid', schema: testResultSchema },
      404: common[404],
    },
  },
});
