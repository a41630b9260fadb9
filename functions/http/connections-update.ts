import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { connectionUpdateSchema, connectionViewSchema } from '../../shared/domain/connection.js';
import { updateConnection } from '../../shared/provisioning/connections.js';
import { httpFunction } from '../define.js';
import { readBody, withProblems } from '../http-support.js';
import { common, problem } from '../openapi-common.js';
import { services } from '../services.js';

/** PATCH /api/connections/{id}: changed credentials or endpoints send the connection back to draft. */
export async function updateConnectionHttp(request: HttpRequest): Promise<HttpResponseInit> {
  const update = await readBody(request, connectionUpdateSchema);
  return { jsonBody: await updateConnection(services(), request.params.id!, update) };
}

export const updateConnectionFunction = httpFunction({
  name: 'connections-update',
  route: 'connections/{id}',
  methods: ['PATCH'],
  authLevel: 'function',
  handler: withProblems(updateConnectionHttp),
  openapi: {
    summary: 'Change a connection; credential or endpoint changes send it back to draft',
    request: connectionUpdateSchema,
    responses: {
      200: { description: 'Updated', schema: connectionViewSchema },
      ...common,
      409: problem('Changed concurrently'),
    },
  },
});
