import type { HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import { connectionViewSchema } from '../../shared/domain/connection.js';
import { listConnections } from '../../shared/provisioning/connections.js';
import { httpFunction } from '../define.js';
import { withProblems } from '../http-support.js';
import { services } from '../services.js';

/** GET /api/connections */
export async function listConnectionsHttp(): Promise<HttpResponseInit> {
  return { jsonBody: { value: await listConnections(services()) } };
}

export const listConnectionsFunction = httpFunction({
  name: 'connections-list',
  route: 'connections',
  methods: ['GET'],
  authLevel: 'function',
  handler: withProblems(listConnectionsHttp),
  openapi: {
    summary: 'List connections',
    responses: { 200: { description: 'Connections', schema: z.object({ value: z.array(connectionViewSchema) }) } },
  },
});
