// The group object type's admin routes: list, one group, provision on demand, retry — the same use cases as users
// (user-admin.ts), on the group rows.
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import { parseOrThrow } from '../../shared/domain/validation.js';
import {
  getUserState,
  listUsers,
  provisionOnDemand,
  retryUser,
  userListQuerySchema,
} from '../../shared/provisioning/user-admin.js';
import { httpFunction } from '../define.js';
import { queryOf, readOptionalJson, withProblems } from '../http-support.js';
import { common, problem } from '../openapi-common.js';
import { userViewSchema } from '../openapi-responses.js';
import { services } from '../services.js';

const id = (request: HttpRequest) => [request.params.id!, request.params.externalId!] as const;

export const listGroupsFunction = httpFunction({
  name: 'groups-list',
  route: 'connections/{id}/groups',
  methods: ['GET'],
  authLevel: 'function',
  handler: withProblems(async (request: HttpRequest): Promise<HttpResponseInit> => {
    const query = parseOrThrow(userListQuerySchema, queryOf(request), 'The group list query is not valid');
    return { jsonBody: await listUsers(services(), request.params.id!, query, 'group') };
  }),
  openapi: {
    summary: "A connection's groups with counts per status (the same filters and paging as the users list)",
    query: userListQuerySchema,
    responses: {
      200: {
        description: 'A page of groups and the counts',
        schema: z.object({ value: z.array(userViewSchema), continuation: z.string().nullable(), counts: z.object({}) }),
      },
      ...common,
    },
  },
});

export const getGroupFunction = httpFunction({
  name: 'groups-get',
  route: 'connections/{id}/groups/{externalId}',
  methods: ['GET'],
  authLevel: 'function',
  handler: withProblems(async (request: HttpRequest): Promise<HttpResponseInit> => ({
    jsonBody: await getUserState(services(), ...id(request), 'group'),
  })),
  openapi: {
    summary: 'A group of the connection: desired state, link to the Microsoft 365 group, pending members, status',
    responses: {
      200: { description: 'The group', schema: userViewSchema },
      404: problem('No change received for this group'),
    },
  },
});

export const provisionGroupFunction = httpFunction({
  name: 'groups-provision',
  route: 'connections/{id}/groups/{externalId}/provision',
  methods: ['POST'],
  authLevel: 'function',
  handler: withProblems(async (request: HttpRequest): Promise<HttpResponseInit> => {
    const change = await readOptionalJson(request);
    return { jsonBody: await provisionOnDemand(services(), ...id(request), change, 'group') };
  }),
  openapi: {
    summary: 'Provision a group on demand (posted group change, or the current desired state); answers the step trace',
    responses: {
      200: { description: 'Outcome with trace' },
      400: common[400],
      404: problem('No change received for this group'),
      429: problem('Throttled by Graph (Retry-After)'),
      503: problem('Graph unavailable'),
    },
  },
});

export const retryGroupFunction = httpFunction({
  name: 'groups-retry',
  route: 'connections/{id}/groups/{externalId}/retry',
  methods: ['POST'],
  authLevel: 'function',
  handler: withProblems(async (request: HttpRequest): Promise<HttpResponseInit> => ({
    status: 202,
    jsonBody: await retryUser(services(), ...id(request), 'group'),
  })),
  openapi: {
    summary: "Put a failed, held or blocked group's operation back on the queue",
    responses: {
      202: { description: 'Enqueued', schema: z.object({ operationId: z.string(), version: z.number() }) },
      404: common[404],
      409: problem('Nothing to retry'),
    },
  },
});
