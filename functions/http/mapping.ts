import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import { mappingSchema } from '../../shared/domain/mapping/mapping.js';
import { getMapping, putMapping } from '../../shared/provisioning/connection-config.js';
import { httpFunction } from '../define.js';
import { readBody, withProblems } from '../http-support.js';
import { common } from '../openapi-common.js';
import { services } from '../services.js';

/** GET|PUT /api/connections/{id}/mapping: the field mapping (default until one is saved); PUT validates it fully. */
export async function mappingHttp(request: HttpRequest): Promise<HttpResponseInit> {
  const id = request.params.id!;
  if (request.method === 'GET') return { jsonBody: await getMapping(services(), id) };
  return { jsonBody: await putMapping(services(), id, await readBody(request, z.unknown())) };
}

export const mappingFunction = httpFunction({
  name: 'connections-mapping',
  route: 'connections/{id}/mapping',
  methods: ['GET', 'PUT'],
  authLevel: 'function',
  handler: withProblems(mappingHttp),
  openapi: {
    summary: 'Read (GET) or replace (PUT) the field mapping; PUT is refused unless the mapping can create a valid user',
    request: mappingSchema,
    responses: {
      200: { description: 'The mapping', schema: z.object({ mapping: mappingSchema, isDefault: z.boolean() }) },
      ...common,
    },
  },
});
