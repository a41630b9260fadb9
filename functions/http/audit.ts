import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import { auditActions } from '../../shared/domain/config-audit.js';
import { parseOrThrow } from '../../shared/domain/validation.js';
import { listAudit } from '../../shared/provisioning/audit.js';
import { logQuerySchema } from '../../shared/provisioning/user-admin.js';
import { httpFunction } from '../define.js';
import { queryOf, withProblems } from '../http-support.js';
import { entityTag } from '../http-writes.js';
import { common } from '../openapi-common.js';
import { services } from '../services.js';

/** Paged like the provisioning log: the same limit and continuation rules. */
const auditQuerySchema = logQuerySchema.pick({ limit: true, continuation: true });

const auditEntrySchema = z.object({
  id: z.string(),
  at: z.string(),
  action: z.enum(auditActions),
  actor: z
    .object({
      type: z.enum(['principal', 'function-key', 'oauth-callback']),
      name: z.string().optional().describe('principal: the signed-in user (App Service authentication)'),
      id: z.string().optional(),
      identityProvider: z.string().optional(),
      keyId: z.string().optional().describe("function-key: the key's fingerprint, sha256: and 12 hex digits"),
    })
    .describe('Who made the change'),
  changes: z
    .array(
      z.object({
        path: z.string().describe('Dotted field path, e.g. removeAction or properties.jobTitle.source'),
        before: z.unknown().optional().describe('Absent: the field was absent'),
        after: z.unknown().optional().describe('Absent: the field is gone'),
        secret: z.enum(['set', 'changed', 'removed']).optional().describe('A secret: what happened, never its value'),
      }),
    )
    .describe('What changed'),
  etag: z.string().optional().describe("The connection's ETag after the change (none after its deletion)"),
});

/** GET /api/connections/{id}/audit?limit=&continuation= : configuration changes, newest first. */
export async function auditHttp(request: HttpRequest): Promise<HttpResponseInit> {
  const query = parseOrThrow(auditQuerySchema, queryOf(request), 'The audit query is not valid');
  const { value, continuation } = await listAudit(services(), request.params.id!, query);
  return {
    jsonBody: {
      value: value.map(({ connectionId: _c, etag, ...entry }) => ({
        ...entry,
        ...(etag ? { etag: entityTag(etag) } : {}),
      })),
      continuation,
    },
  };
}

export const auditFunction = httpFunction({
  name: 'connections-audit',
  route: 'connections/{id}/audit',
  methods: ['GET'],
  authLevel: 'function',
  handler: withProblems(auditHttp),
  openapi: {
    summary: 'Configuration changes of a connection, newest first: who, when, what changed (never secret values)',
    description:
      'Every change to the connection, its credentials, settings and mapping, and completed consents. Kept when the connection is deleted (its deletion is the newest entry). Paged like the log: limit (1–500, default 50) and the continuation of the previous page.',
    query: auditQuerySchema,
    responses: {
      200: {
        description: 'Entries and the continuation token of the next page (null on the last)',
        schema: z.object({ value: z.array(auditEntrySchema), continuation: z.string().nullable() }),
      },
      ...common,
    },
  },
});
