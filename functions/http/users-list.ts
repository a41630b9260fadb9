import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import { userStatuses } from '../../shared/domain/user-state.js';
import { parseOrThrow } from '../../shared/domain/validation.js';
import { listUsers, userListQuerySchema } from '../../shared/provisioning/user-admin.js';
import { httpFunction } from '../define.js';
import { queryOf, withProblems } from '../http-support.js';
import { common } from '../openapi-common.js';
import { userViewSchema } from '../openapi-responses.js';
import { services } from '../services.js';

/** GET /api/connections/{id}/users?status=&inSync=&blocked=&q=&limit=&continuation= */
export async function listUsersHttp(request: HttpRequest): Promise<HttpResponseInit> {
  const query = parseOrThrow(userListQuerySchema, queryOf(request), 'The user list query is not valid');
  return { jsonBody: await listUsers(services(), request.params.id!, query) };
}

const userListSchema = z.object({
  value: z.array(userViewSchema).describe('Each user as GET …/users/{externalId} shows it, in externalId order'),
  continuation: z
    .string()
    .nullable()
    .describe('Pass it back for the next page; null at the end (a page may be short, even empty, before the end)'),
  counts: z
    .object({
      ...Object.fromEntries(userStatuses.map((s) => [s, z.number().int()])),
      total: z.number().int(),
    })
    .describe("The connection's users per status, whatever the filters (a scan of the status column)"),
});

export const listUsersFunction = httpFunction({
  name: 'users-list',
  route: 'connections/{id}/users',
  methods: ['GET'],
  authLevel: 'function',
  handler: withProblems(listUsersHttp),
  openapi: {
    summary: "A connection's users with counts per status (filters: status, inSync, blocked, q; limit, continuation)",
    query: userListQuerySchema,
    responses: { 200: { description: 'A page of users and the counts', schema: userListSchema }, ...common },
  },
});
