import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import { postedChangeSchema } from '../../shared/domain/change.js';
import { MAX_CHANGES_PER_REQUEST, submitChanges } from '../../shared/provisioning/changes.js';
import { httpFunction } from '../define.js';
import { readOptionalJson, withProblems } from '../http-support.js';
import { common, problem } from '../openapi-common.js';
import { services } from '../services.js';

/**
 * POST /api/connections/{id}/changes: one change or {changes:[…]} (≤ 1,000); 202 with an operation id each, and
 * per change `stale` / `heldVersion` and `warnings` when there are any.
 */
export async function submitChangesHttp(request: HttpRequest): Promise<HttpResponseInit> {
  return {
    status: 202,
    jsonBody: await submitChanges(services(), request.params.id!, await readOptionalJson(request)),
  };
}

/** The documented body (submitChanges validates it, change by change, naming each invalid field). */
const submitChangesBodySchema = z.union([
  postedChangeSchema,
  z.object({ changes: z.array(postedChangeSchema).min(1).max(MAX_CHANGES_PER_REQUEST) }),
]);

export const submitChangesFunction = httpFunction({
  name: 'changes-submit',
  route: 'connections/{id}/changes',
  methods: ['POST'],
  authLevel: 'function',
  handler: withProblems(submitChangesHttp),
  openapi: {
    summary: 'Submit one change, or {changes:[…]} (up to 1,000); every change is validated before any is enqueued',
    request: submitChangesBodySchema,
    responses: {
      202: {
        description: 'Enqueued',
        schema: z.object({
          operations: z.array(
            z.object({
              operationId: z.string(),
              externalId: z.string(),
              version: z.number(),
              stale: z
                .literal(true)
                .optional()
                .describe('Not newer than what was already received: enqueued, and skipped by the executor'),
              heldVersion: z.number().optional().describe('With stale: the highest version already received'),
              warnings: z
                .array(z.object({ field: z.string(), message: z.string() }))
                .optional()
                .describe(
                  'Not refused, worth a look: e.g. an attribute the mapping doesn\'t read, with "did you mean"',
                ),
            }),
          ),
        }),
      },
      400: problem(
        'Names each invalid change and field (changes.N.field), including an upsert for a user not linked yet that could not create the account (no displayName, password, mailNickname, or a userPrincipalName Entra refuses); nothing was enqueued',
      ),
      404: common[404],
    },
  },
});
