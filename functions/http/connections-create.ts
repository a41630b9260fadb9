import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { connectionCreateSchema, connectionViewSchema } from '../../shared/domain/connection.js';
import { createConnection } from '../../shared/provisioning/connections.js';
import { httpFunction } from '../define.js';
import { readBody, withProblems } from '../http-support.js';
import { etagHeader, writerOf } from '../http-writes.js';
import { common } from '../openapi-common.js';
import { services } from '../services.js';

/** POST /api/connections: 201 with the new connection (status draft); secrets are never echoed. */
export async function createConnectionHttp(request: HttpRequest): Promise<HttpResponseInit> {
  const input = await readBody(request, connectionCreateSchema);
  const { value, etag } = await createConnection(services(), input, writerOf(request));
  return { status: 201, headers: { location: `/api/connections/${value.id}`, ...etagHeader(etag) }, jsonBody: value };
}

export const createConnectionFunction = httpFunction({
  name: 'connections-create',
  route: 'connections',
  methods: ['POST'],
  authLevel: 'function',
  handler: withProblems(createConnectionHttp),
  openapi: {
    summary: 'Create a connection to a Microsoft 365 tenant (status draft)',
    request: connectionCreateSchema,
    conditional: true,
    responses: { 201: { description: 'Created', schema: connectionViewSchema }, 400: common[400] },
  },
});
