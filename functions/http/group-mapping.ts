import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import { groupMappingSchema } from '../../shared/domain/mapping/group-mapping.js';
import { mappingRuleSchema } from '../../shared/domain/mapping/mapping.js';
import { getGroupMapping, patchGroupMapping, putGroupMapping } from '../../shared/provisioning/connection-config.js';
import { httpFunction } from '../define.js';
import { readBody, withProblems } from '../http-support.js';
import { acceptPatch, configWrite, etagHeader, readMergePatch } from '../http-writes.js';
import { common, problem } from '../openapi-common.js';
import { services } from '../services.js';

const answer = z.object({ mapping: groupMappingSchema, isDefault: z.boolean() });
const conditional = {
  412: problem('If-Match names a stale ETag: nothing was changed (precondition-failed)'),
  409: problem('Changed concurrently (retry)'),
};

/** GET|PUT /api/connections/{id}/group-mapping: where a group's own properties come from (default until saved). */
export async function groupMappingHttp(request: HttpRequest): Promise<HttpResponseInit> {
  const id = request.params.id!;
  const { value, etag } =
    request.method === 'GET'
      ? await getGroupMapping(services(), id)
      : await putGroupMapping(services(), id, await readBody(request, z.unknown()), configWrite(request));
  return { headers: { ...etagHeader(etag), ...acceptPatch }, jsonBody: value };
}

export const groupMappingFunction = httpFunction({
  name: 'connections-group-mapping',
  route: 'connections/{id}/group-mapping',
  methods: ['GET', 'PUT'],
  authLevel: 'function',
  handler: withProblems(groupMappingHttp),
  openapi: {
    summary:
      "Read (GET) or replace (PUT) the group mapping: a group's displayName, description and mailNickname from the group change's attributes",
    description:
      'PUT replaces the whole group mapping (displayName and mailNickname must be mapped); PATCH changes single rules. Answers carry the connection ETag; send it back in If-Match to refuse (412) a write made from a stale read.',
    request: groupMappingSchema,
    conditional: true,
    responses: { 200: { description: 'The group mapping', schema: answer }, ...common, ...conditional },
  },
});

/** PATCH /api/connections/{id}/group-mapping: JSON Merge Patch; null removes a rule. */
export async function patchGroupMappingHttp(request: HttpRequest): Promise<HttpResponseInit> {
  const patch = await readMergePatch(request);
  const { value, etag } = await patchGroupMapping(services(), request.params.id!, patch, configWrite(request));
  return { headers: { ...etagHeader(etag), ...acceptPatch }, jsonBody: value };
}

export const patchGroupMappingFunction = httpFunction({
  name: 'connections-group-mapping-patch',
  route: 'connections/{id}/group-mapping',
  methods: ['PATCH'],
  authLevel: 'function',
  handler: withProblems(patchGroupMappingHttp),
  openapi: {
    summary: 'Change some group mapping rules (JSON Merge Patch): null removes a rule, the rest stay',
    request: z
      .strictObject({
        properties: z.record(z.string().min(1).max(128), z.union([mappingRuleSchema, z.null()])).optional(),
      })
      .describe('JSON Merge Patch (RFC 7396) of the group mapping'),
    requestTypes: ['application/merge-patch+json', 'application/json'],
    conditional: true,
    responses: {
      200: { description: 'The group mapping after the patch', schema: answer },
      ...common,
      ...conditional,
      415: problem('Not a merge patch (e.g. application/json-patch+json)'),
    },
  },
});
