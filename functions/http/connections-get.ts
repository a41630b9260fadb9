import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { connectionViewSchema } from '../../shared/domain/connection.js';
import { getConnection } from '../../shared/provisioning/connections.js';
import { withDeletionProgress } from '../../shared/provisioning/delete-connection.js';
import { httpFunction } from '../define.js';
import { withProblems } from '../http-support.js';
import { etagHeader } from '../http-writes.js';
import { common } from '../openapi-common.js';
import { services } from '../services.js';

/** GET /api/connections/{id} (with its ETag). */
export async function getConnectionHttp(request: HttpRequest): Promise<HttpResponseInit> {
  const { value, etag } = await getConnection(services(), request.params.id!);
  return { headers: etagHeader(etag), jsonBody: await withDeletionProgress(services(), value) };
}

export const getConnectionFunction = httpFunction({
  name: 'connections-get',
  route: 'connections/{id}',
  methods: ['GET'],
  authLevel: 'function',
  handler: withProblems(getConnectionHttp),
  openapi: {
    summary: 'Read a connection',
    conditional: true,
    responses: { 200: { description: 'The connection', schema: connectionViewSchema }, 404: common[404] },
  },
});
