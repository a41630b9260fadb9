import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { parseOrThrow } from '../../shared/domain/validation.js';
import { applyImport, importSelectionSchema } from '../../shared/provisioning/import-apply.js';
import { importQuerySchema, previewImport } from '../../shared/provisioning/import-preview.js';
import { httpFunction } from '../define.js';
import { queryOf, readBody, withProblems } from '../http-support.js';
import { common, problem } from '../openapi-common.js';
import { services } from '../services.js';

/**
 * GET /api/connections/{id}/import[?list=new|update|activate|deactivate&limit=&continuation=]: the four lists.
 * POST with the selection per list: applies exactly that, and answers what was done per user.
 * Groups: GET ?objectType=group (lists new, update, readOnly), POST with objectType group.
 */
export async function importHttp(request: HttpRequest): Promise<HttpResponseInit> {
  const id = request.params.id!;
  if (request.method === 'GET') {
    const query = parseOrThrow(importQuerySchema, queryOf(request), 'The import query is not valid');
    return { jsonBody: await previewImport(services(), id, query) };
  }
  return { jsonBody: await applyImport(services(), id, await readBody(request, importSelectionSchema)) };
}

export const importFunction = httpFunction({
  name: 'connections-import',
  route: 'connections/{id}/import',
  methods: ['GET', 'POST'],
  authLevel: 'function',
  handler: withProblems(importHttp),
  openapi: {
    summary:
      'Import from Microsoft 365. GET: the new / update / activate / deactivate lists by the matching attribute (counts, paged); objectType=group: groups, new / update / readOnly by the group matching rules. POST: apply a selection (objectType group: of groups)',
    query: importQuerySchema,
    request: importSelectionSchema,
    responses: {
      200: { description: 'GET: counts and lists; POST: summary and what was done per user (or group)' },
      ...common,
      409: problem('The connection is not ready'),
    },
  },
});
