import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { connectionUpdateSchema, connectionViewSchema } from '../../shared/domain/connection.js';
import { parseOrThrow } from '../../shared/domain/validation.js';
import { updateConnection } from '../../shared/provisioning/connections.js';
import { httpFunction } from '../define.js';
import { withProblems } from '../http-support.js';
import { configWrite, etagHeader, readMergePatch } from '../http-writes.js';
import { common, problem } from '../openapi-common.js';
import { services } from '../services.js';

/** PATCH /api/connections/{id}: changed credentials or endpoints send the connection back to draft. */
export async function updateConnectionHttp(request: HttpRequest): Promise<HttpResponseInit> {
  const update = parseOrThrow(connectionUpdateSchema, await readMergePatch(request));
  const { value, etag } = await updateConnection(services(), request.params.id!, update, configWrite(request));
  return { headers: etagHeader(etag), jsonBody: value };
}

export const updateConnectionFunction = httpFunction({
  name: 'connections-update',
  route: 'connections/{id}',
  methods: ['PATCH'],
  authLevel: 'function',
  handler: withProblems(updateConnectionHttp),
  openapi: {
    summary: 'Change a connection; credential or endpoint changes send it back to draft',
    description:
      'A merge patch of the connection (application/merge-patch+json or application/json): the fields named change, null clears an optional override. Send the ETag of your last read in If-Match to refuse (412) a write made from a stale read.',
    request: connectionUpdateSchema,
    requestTypes: ['application/merge-patch+json', 'application/json'],
    conditional: true,
    responses: {
      200: { description: 'Updated', schema: connectionViewSchema },
      ...common,
      409: problem('Changed concurrently'),
      412: problem('If-Match names a stale ETag: nothing was changed (precondition-failed)'),
      415: problem('Not a merge patch (e.g. application/json-patch+json)'),
    },
  },
});
