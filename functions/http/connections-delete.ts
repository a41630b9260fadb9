import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import { parseOrThrow } from '../../shared/domain/validation.js';
import { deleteConnection, provisionedUsersChoices } from '../../shared/provisioning/operations.js';
import { httpFunction } from '../define.js';
import { withProblems } from '../http-support.js';
import { services } from '../services.js';

const query = z.object({ provisionedUsers: z.enum(provisionedUsersChoices).optional() });

/** DELETE /api/connections/{id}[?provisionedUsers=keep|deprovision] (a choice is required once users were provisioned). */
export async function deleteConnectionHttp(request: HttpRequest): Promise<HttpResponseInit> {
  const { provisionedUsers } = parseOrThrow(query, Object.fromEntries(request.query));
  const { status, body } = await deleteConnection(services(), request.params.id!, provisionedUsers);
  return { status, jsonBody: body };
}

export const deleteConnectionFunction = httpFunction({
  name: 'connections-delete',
  route: 'connections/{id}',
  methods: ['DELETE'],
  authLevel: 'function',
  handler: withProblems(deleteConnectionHttp),
});
