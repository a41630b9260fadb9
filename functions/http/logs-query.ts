import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { parseOrThrow } from '../../shared/domain/validation.js';
import { logQuerySchema, queryLogs } from '../../shared/provisioning/user-admin.js';
import { httpFunction } from '../define.js';
import { queryOf, withProblems } from '../http-support.js';
import { common } from '../openapi-common.js';
import { services } from '../services.js';

/** GET /api/connections/{id}/logs?externalId=&result=&action=&since=&until=&limit=&continuation= (newest first; status: alias of result). */
export async function queryLogsHttp(request: HttpRequest): Promise<HttpResponseInit> {
  const query = parseOrThrow(logQuerySchema, queryOf(request), 'The log query is not valid');
  return { jsonBody: await queryLogs(services(), request.params.id!, query) };
}

export const queryLogsFunction = httpFunction({
  name: 'logs-query',
  route: 'connections/{id}/logs',
  methods: ['GET'],
  authLevel: 'function',
  handler: withProblems(queryLogsHttp),
  openapi: {
    summary:
      'Provisioning log, newest first (filters: externalId, result (alias status), action, since, until; limit, continuation)',
    query: logQuerySchema,
    responses: { 200: { description: 'Records and a continuation token' }, ...common },
  },
});
