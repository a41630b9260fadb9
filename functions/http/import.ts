import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { parseOrThrow } from '../../shared/domain/validation.js';
import { applyImport, importQuerySchema, importSelectionSchema, previewImport } from '../../shared/provisioning/import.js';
import { httpFunction } from '../define.js';
import { readBody, withProblems } from '../http-support.js';
import { services } from '../services.js';

/**
 * GET /api/connections/{id}/import[?list=new|update|activate|deactivate&limit=&continuation=]: the four lists.
 * POST with the selection per list: applies exactly that, and answers what was done per user.
 */
export async function importHttp(request: HttpRequest): Promise<HttpResponseInit> {
  const id = request.params.id!;
  if (request.method === 'GET') {
    const query = parseOrThrow(importQuerySchema, Object.fromEntries(request.query), 'The import query is not valid');
    return { jsonBody: await previewImport(services(), id, query) };
  }
  return { jsonBody: await applyImport(services(), id, await readBody(request, importSelectionSchema)) };
}

export const importFunction = httpFunction({ name: 'connections-import', route: 'connections/{id}/import', methods: ['GET', 'POST'], authLevel: 'function', handler: withProblems(importHttp) });
