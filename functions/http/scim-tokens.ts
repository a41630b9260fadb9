// SCIM bearer tokens of a connection (function key): make one (shown once), list them with their last use,
// revoke one. See shared/provisioning/scim/scim-tokens.ts.
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import { AppError } from '../../shared/domain/errors.js';
import { isConnectionId, wellFormedText } from '../../shared/domain/identifiers.js';
import { parseOrThrow } from '../../shared/domain/validation.js';
import {
  createScimToken,
  listScimTokens,
  revokeScimToken,
  type ScimTokenDeps,
} from '../../shared/provisioning/scim/scim-tokens.js';
import { httpFunction } from '../define.js';
import { readOptionalJson, withProblems } from '../http-support.js';
import { writerOf } from '../http-writes.js';
import { common, problem } from '../openapi-common.js';
import { services } from '../services.js';

const deps = (): ScimTokenDeps => {
  const s = services();
  return { scimTokens: s.scimTokens, connections: s.connections, audit: s.audit, clock: s.clock };
};

const createBodySchema = z.strictObject({
  description: wellFormedText().max(256).optional().describe('What the token is for, e.g. "Entra ID provisioning"'),
});

const tokenSchema = z.object({
  id: z.string(),
  description: z.string().optional(),
  createdAt: z.string(),
  lastUsedAt: z.string().optional().describe('Last SCIM request made with it (recorded at most once a minute)'),
});

export async function createScimTokenHttp(request: HttpRequest): Promise<HttpResponseInit> {
  const body = parseOrThrow(createBodySchema, (await readOptionalJson(request)) ?? {});
  const created = await createScimToken(deps(), request.params.id!, writerOf(request), body.description);
  return { status: 201, headers: { 'cache-control': 'no-store' }, jsonBody: created };
}

export const createScimTokenFunction = httpFunction({
  name: 'scim-token-create',
  route: 'connections/{id}/scim-token',
  methods: ['POST'],
  authLevel: 'function',
  handler: withProblems(createScimTokenHttp),
  openapi: {
    summary:
      "Make a SCIM bearer token for this connection's SCIM endpoint (/api/scim/v2/{id}): shown once in this answer, stored only as a hash",
    request: createBodySchema,
    responses: {
      201: {
        description: 'The token (paste it as the Secret Token in Entra ID, the API token in Okta)',
        schema: tokenSchema.extend({ token: z.string().describe('Shown only here') }),
      },
      400: common[400],
      404: common[404],
      409: problem('The connection already has the maximum number of tokens (scim-token-limit)'),
    },
  },
});

export const listScimTokensFunction = httpFunction({
  name: 'scim-tokens-list',
  route: 'connections/{id}/scim-tokens',
  methods: ['GET'],
  authLevel: 'function',
  handler: withProblems(async (request) => ({
    jsonBody: { value: await listScimTokens(deps(), request.params.id!) },
  })),
  openapi: {
    summary: "The connection's active SCIM tokens (never the tokens themselves), oldest first, with their last use",
    responses: { 200: { description: 'Tokens', schema: z.object({ value: z.array(tokenSchema) }) }, 404: common[404] },
  },
});

export const revokeScimTokenFunction = httpFunction({
  name: 'scim-token-revoke',
  route: 'connections/{id}/scim-tokens/{tokenId}',
  methods: ['DELETE'],
  authLevel: 'function',
  handler: withProblems(async (request) => {
    const tokenId = request.params.tokenId ?? '';
    if (!isConnectionId(tokenId))
      throw new AppError('not-found', 'scim-token-not-found', 'No SCIM token with that id (token ids are GUIDs)');
    await revokeScimToken(deps(), request.params.id!, tokenId.toLowerCase(), writerOf(request));
    return { status: 204 };
  }),
  openapi: {
    summary: 'Revoke a SCIM token: requests with it are refused (401) from now on',
    responses: {
      204: { description: 'Revoked' },
      404: problem('No such connection, or no such token (scim-token-not-found)'),
    },
  },
});
