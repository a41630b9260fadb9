import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { deleteConnection } from '../../shared/provisioning/connections.js';
import { httpFunction } from '../define.js';
import { withProblems } from '../http-support.js';
import { services } from '../services.js';

/** DELETE /api/connections/{id} */
export async function deleteConnectionHttp(request: HttpRequest): Promise<HttpResponseInit> {
  return { jsonBody: await deleteConnection(services(), request.params.id!) };
}

export const deleteConnectionFunction = httpFunction({
  name: 'connections-delete',
  route: 'connections/{id}',
  methods: ['DELETE'],
  authLevel: 'function',
  handler: withProblems(deleteConnectionHttp),
});
