import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import { rematchBodySchema, rematchUser, unlinkUser } from '../../shared/provisioning/user-links.js';
import { httpFunction } from '../define.js';
import { readOptionalJson, withProblems } from '../http-support.js';
import { common, problem } from '../openapi-common.js';
import { services } from '../services.js';

/** POST /api/connections/{id}/users/{externalId}/unlink */
export async function unlinkUserHttp(request: HttpRequest): Promise<HttpResponseInit> {
  return { jsonBody: await unlinkUser(services(), request.params.id!, request.params.externalId!) };
}

/** POST /api/connections/{id}/users/{externalId}/rematch */
export async function rematchUserHttp(request: HttpRequest): Promise<HttpResponseInit> {
  const body = await readOptionalJson(request);
  return { jsonBody: await rematchUser(services(), request.params.id!, request.params.externalId!, body) };
}

export const unlinkUserFunction = httpFunction({
  name: 'users-unlink',
  route: 'connections/{id}/users/{externalId}/unlink',
  methods: ['POST'],
  authLevel: 'function',
  handler: withProblems(unlinkUserHttp),
  openapi: {
    summary:
      'Unlink the user from its Microsoft 365 account: the account is left as it is and never adopted again by this user; its operations wait for a re-match',
    responses: {
      200: {
        description: 'Unlinked',
        schema: z.object({
          externalId: z.string(),
          status: z.literal('unlinked'),
          unlinkedFrom: z.object({ objectId: z.string(), at: z.string() }),
        }),
      },
      404: common[404],
      409: problem('Not linked, or being provisioned right now'),
    },
  },
});

export const rematchUserFunction = httpFunction({
  name: 'users-rematch',
  route: 'connections/{id}/users/{externalId}/rematch',
  methods: ['POST'],
  authLevel: 'function',
  handler: withProblems(rematchUserHttp),
  openapi: {
    summary:
      'Re-match the user now: unlink it if linked, then run the matching rules, or link the account named by objectId (never a role holder or an account linked to another directory user); answers the outcome with its trace',
    request: rematchBodySchema,
    responses: {
      200: { description: 'Outcome with trace and what matching found' },
      400: common[400],
      404: common[404],
      409: problem('Being provisioned right now'),
      429: problem('Throttled by Graph (Retry-After)'),
      503: problem('Graph unavailable'),
    },
  },
});
