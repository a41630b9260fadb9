// The OpenAPI 3.1 description of the HTTP API, generated from the function declarations (routes, methods,
// auth) and the zod schemas that validate requests and shape responses, so it cannot drift from either.
// Every HTTP function must have an entry below; a test checks the document against the declarations.
import { z } from 'zod';
import { changeSchema } from '../shared/domain/change.js';
import { connectionCreateSchema, connectionUpdateSchema, connectionViewSchema, testResultSchema } from '../shared/domain/connection.js';
import { mappingSchema } from '../shared/domain/mapping/mapping.js';
import { syncSettingsSchema } from '../shared/domain/sync-settings.js';
import { logQuerySchema } from '../shared/provisioning/operations.js';
import { importQuerySchema, importSelectionSchema } from '../shared/provisioning/import.js';
import { pageQuerySchema, stagedDecisionSchema, startRunQuerySchema } from '../shared/provisioning/reconcile-admin.js';
import type { FunctionDefinition, HttpFunctionDefinition } from './define.js';

const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.string().describe('Stable machine-readable error code'),
    detail: z.string().optional(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional().describe('Each invalid field (validation-failed)'),
  })
  .passthrough();
const healthSchema = z.object({ status: z.literal('healthy'), checks: z.array(z.object({ name: z.string(), ok: z.boolean(), durationMs: z.number(), error: z.string().optional() })) });

interface Operation {
  summary: string;
  request?: z.ZodType;
  /** Query parameters, from the schema that validates them. */
  query?: z.ZodObject;
  responses: Record<number, { description: string; schema?: z.ZodType; html?: true; redirect?: true }>;
}

const problem = (description: string) => ({ description, schema: problemSchema });
const common = { 400: problem('Invalid request (problem+json naming each field)'), 404: problem('No such connection') };

export const OPERATIONS: Record<string, Operation> = {
  health: { summary: 'Health of the app and its dependencies', responses: { 200: { description: 'Healthy', schema: healthSchema }, 503: problem('A dependency is unavailable (named)') } },
  'connections-create': { summary: 'Create a connection to a Microsoft 365 tenant (status draft)', request: connectionCreateSchema, responses: { 201: { description: 'Created', schema: connectionViewSchema }, 400: common[400] } },
  'connections-list': { summary: 'List connections', responses: { 200: { description: 'Connections', schema: z.object({ value: z.array(connectionViewSchema) }) } } },
  'connections-get': { summary: 'Read a connection', responses: { 200: { description: 'The connection', schema: connectionViewSchema }, 404: common[404] } },
  'connections-update': { summary: 'Change a connection; credential or endpoint changes send it back to draft', request: connectionUpdateSchema, responses: { 200: { description: 'Updated', schema: connectionViewSchema }, ...common, 409: problem('Changed concurrently') } },
  'connections-delete': {
    summary: 'Delete a connection; once users were provisioned, choose ?provisionedUsers=keep (accounts stay) or deprovision (removed first)',
    query: z.object({ provisionedUsers: z.enum(['keep', 'deprovision']).optional() }),
    responses: { 200: { description: 'Deleted' }, 202: { description: 'Deprovisioning: remove operations enqueued; delete again when they are applied' }, 404: common[404], 409: problem('Users were provisioned: a choice is required') },
  },
  'connections-test': { summary: 'Test the connection: token, permissions, verified domain, user read, secret expiry', responses: { 200: { description: 'Test result; the connection becomes ready or invalid', schema: testResultSchema }, 404: common[404] } },
  'connections-authorize': { summary: 'Start OAuth consent (authorization code + PKCE): redirects the browser to the tenant', responses: { 302: { description: 'Redirect to the authorize endpoint', redirect: true }, 404: common[404], 409: problem('The connection uses client credentials') } },
  'connections-admin-consent': { summary: 'Admin-consent link: redirects an administrator to grant the app registration\'s application permissions', responses: { 302: { description: 'Redirect to the adminconsent endpoint', redirect: true }, 404: common[404] } },
  'oauth-callback': { summary: 'Where the identity platform sends the browser back after consent', responses: { 200: { description: 'Authorised or permissions granted (HTML page)', html: true }, 400: { description: 'Unknown, replayed or expired state (HTML page)', html: true }, 403: { description: 'Consent declined (HTML page)', html: true }, 502: { description: 'Code exchange failed (HTML page)', html: true }, 503: { description: 'Could not record the outcome (HTML page)', html: true } } },
  openapi: { summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1 document' } } },
  'not-found': { summary: 'Any path or method not described here: 404 problem+json (code route-not-found)', responses: { 404: problem('No such operation') } },
  'connections-mapping': { summary: 'Read (GET) or replace (PUT) the field mapping; PUT is refused unless the mapping can create a valid user', request: mappingSchema, responses: { 200: { description: 'The mapping', schema: z.object({ mapping: mappingSchema, isDefault: z.boolean() }) }, ...common } },
  'connections-settings': { summary: 'Read (GET) or replace (PUT) the sync policy; settings left out take their defaults', request: syncSettingsSchema, responses: { 200: { description: 'The settings', schema: syncSettingsSchema }, ...common } },
  'changes-submit': {
    summary: 'Submit one change, or {changes:[…]} (up to 1,000); every change is validated before any is enqueued',
    request: z.union([changeSchema.partial({ connectionId: true }), z.object({ changes: z.array(changeSchema.partial({ connectionId: true })).max(1000) })]),
    responses: { 202: { description: 'Enqueued', schema: z.object({ operations: z.array(z.object({ operationId: z.string(), externalId: z.string(), version: z.number() })) }) }, 400: problem('Names each invalid change and field (changes.N.field); nothing was enqueued'), 404: common[404] },
  },
  'users-get': { summary: 'A user of the connection: desired state, link to the Microsoft 365 account, status, last error', responses: { 200: { description: 'The user' }, 404: problem('No change received for this user') } },
  'users-provision': { summary: 'Provision on demand: run the operation now (posted change, or the current desired state) and answer the step trace', responses: { 200: { description: 'Outcome with trace' }, 400: common[400], 404: problem('No change received for this user'), 429: problem('Throttled by Graph (Retry-After)'), 503: problem('Graph unavailable') } },
  'users-retry': { summary: 'Put a failed or held operation back on the queue', responses: { 202: { description: 'Enqueued', schema: z.object({ operationId: z.string(), version: z.number() }) }, 404: common[404], 409: problem('Nothing to retry') } },
  'reconcile-start': {
    summary: 'Reconcile now: queue a run (?dryRun=true: plan only; ?full=true: full round). Follow Location for its record',
    query: startRunQuerySchema,
    responses: { 202: { description: 'Queued; the run record (status queued)' }, 404: common[404], 409: problem('The connection is not ready, or a run is in progress') },
  },
  'runs-list': { summary: 'Reconciliation runs, newest first: examined, drift by kind, enqueued, staged, unmatched, errors, delta round', query: pageQuerySchema, responses: { 200: { description: 'Runs and a continuation token' }, ...common } },
  'runs-get': { summary: 'One run with a page of its items (a dry run: the plan; a real run: corrections and unmatched accounts)', query: pageQuerySchema, responses: { 200: { description: 'The run and itemsPage' }, 404: problem('No such connection or run') } },
  'staged-list': { summary: 'Disable/delete operations held back by the accidental-deletion threshold', responses: { 200: { description: 'Staged operations' }, 404: common[404] } },
  'staged-decide': { summary: 'Approve (enqueue) or reject (drop) staged operations: all, or {externalIds:[…]}', request: stagedDecisionSchema, responses: { 200: { description: 'What was done per user' }, ...common } },
  'connections-import': {
    summary: 'Import from Microsoft 365. GET: the new / update / activate / deactivate lists by the matching attribute (counts, paged). POST: apply a selection',
    query: importQuerySchema,
    request: importSelectionSchema,
    responses: { 200: { description: 'GET: counts and lists; POST: summary and what was done per user' }, ...common, 409: problem('The connection is not ready') },
  },
  'logs-query': { summary: 'Provisioning log, newest first (filters: externalId, status, action, since, until; limit, continuation)', query: logQuerySchema, responses: { 200: { description: 'Records and a continuation token' }, ...common } },
};

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output') => z.toJSONSchema(schema, { io, unrepresentable: 'any' });

export function buildOpenApiDocument(definitions: readonly FunctionDefinition[]) {
  const http = definitions.filter((d): d is HttpFunctionDefinition => d.kind === 'http');
  const paths: Record<string, Record<string, unknown>> = {};
  for (const fn of http) {
    const op = OPERATIONS[fn.name];
    if (!op) throw new Error(`HTTP function "${fn.name}" has no OpenAPI description in functions/openapi-document.ts`);
    const path = `/api/${fn.route.replace(/\{\*?([A-Za-z0-9_]+)(:[a-z]+)?\??\}/g, '{$1}')}`;
    const parameters: Record<string, unknown>[] = [...fn.route.matchAll(/\{\*?([A-Za-z0-9_]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    for (const [name, schema] of Object.entries(op.query?.shape ?? {})) {
      parameters.push({ name, in: 'query', required: false, schema: jsonSchema(schema as z.ZodType, 'input') });
    }
    for (const method of fn.methods) {
      (paths[path] ??= {})[method.toLowerCase()] = {
        operationId: fn.name,
        summary: op.summary,
        ...(parameters.length ? { parameters } : {}),
        ...(fn.authLevel === 'anonymous' ? { security: [] } : {}),
        ...(op.request && method !== 'GET' ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(op.request, 'input') } } } } : {}),
        responses: Object.fromEntries(
          Object.entries(op.responses).map(([status, r]) => [
            status,
            {
              description: r.description,
              ...(r.schema ? { content: { [Number(status) >= 400 ? 'application/problem+json' : 'application/json']: { schema: jsonSchema(r.schema, 'output') } } } : {}),
              ...(r.html ? { content: { 'text/html': { schema: { type: 'string' } } } } : {}),
              ...(r.redirect ? { headers: { Location: { schema: { type: 'string', format: 'uri' } } } } : {}),
            },
          ]),
        ),
      };
    }
  }
  return {
    openapi: '3.1.0',
    info: { title: 'm365-provisioner', version: '0.1.0', description: 'Provisioning connector for Microsoft 365 / Entra ID users' },
    servers: [{ url: '/' }],
    security: [{ functionKey: [] }],
    components: {
      securitySchemes: {
        functionKey: { type: 'apiKey', in: 'header', name: 'x-functions-key', description: 'Azure Functions function key (or ?code=)' },
      },
    },
    paths,
  };
}
