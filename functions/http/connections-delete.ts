import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import { parseOrThrow } from '../../shared/domain/validation.js';
import { deleteConnection, provisionedUsersChoices } from '../../shared/provisioning/delete-connection.js';
import { httpFunction } from '../define.js';
import { queryOf, withProblems } from '../http-support.js';
import { configWrite } from '../http-writes.js';
import { common, problem } from '../openapi-common.js';
import { services } from '../services.js';

const query = z.object({ provisionedUsers: z.enum(provisionedUsersChoices).optional() });

/** DELETE /api/connections/{id}[?provisionedUsers=keep|deprovision] (a choice is required once users were provisioned). */
export async function deleteConnectionHttp(request: HttpRequest): Promise<HttpResponseInit> {
  const { provisionedUsers } = parseOrThrow(query, queryOf(request));
  const { status, body } = await deleteConnection(
    services(),
    request.params.id!,
    provisionedUsers,
    configWrite(request),
  );
  return { status, jsonBody: body };
}

export const deleteConnectionFunction = httpFunction({
  name: 'connections-delete',
  route: 'connections/{id}',
  methods: ['DELETE'],
  authLevel: 'function',
  handler: withProblems(deleteConnectionHttp),
  openapi: {
    summary:
      'Delete a connection; once users were provisioned, choose ?provisionedUsers=keep (accounts stay) or deprovision (removed first)',
    query,
    conditional: true,
    responses: {
      200: { description: 'Deleted' },
      202: { description: 'Deprovisioning: remove operations enqueued; delete again when they are applied' },
      404: common[404],
      409: problem('Users were provisioned: a choice is required'),
      412: problem('If-Match names a stale ETag: nothing was deleted (precondition-failed)'),
    },
  },
});
