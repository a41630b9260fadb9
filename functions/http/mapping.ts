import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import { mappingRuleSchema, mappingSchema } from '../../shared/domain/mapping/mapping.js';
import { getMapping, patchMapping, putMapping } from '../../shared/provisioning/connection-config.js';
import { mappingMetadata, mappingPreviewSchema, previewMapping } from '../../shared/provisioning/mapping-preview.js';
import { httpFunction } from '../define.js';
import { readBody, withProblems } from '../http-support.js';
import { acceptPatch, configWrite, etagHeader, readMergePatch } from '../http-writes.js';
import { common, problem } from '../openapi-common.js';
import { mappingMetadataSchema, mappingPreviewAnswerSchema } from '../openapi-responses.js';
import { services } from '../services.js';

const mappingAnswer = z.object({ mapping: mappingSchema, isDefault: z.boolean() });
const conditional = {
  412: problem('If-Match names a stale ETag: nothing was changed (precondition-failed)'),
  409: problem('Changed concurrently (retry)'),
};

/** GET|PUT /api/connections/{id}/mapping: the field mapping (default until one is saved); PUT validates it fully. */
export async function mappingHttp(request: HttpRequest): Promise<HttpResponseInit> {
  const id = request.params.id!;
  const { value, etag } =
    request.method === 'GET'
      ? await getMapping(services(), id)
      : await putMapping(services(), id, await readBody(request, z.unknown()), configWrite(request));
  return { headers: { ...etagHeader(etag), ...acceptPatch }, jsonBody: value };
}

export const mappingFunction = httpFunction({
  name: 'connections-mapping',
  route: 'connections/{id}/mapping',
  methods: ['GET', 'PUT'],
  authLevel: 'function',
  handler: withProblems(mappingHttp),
  openapi: {
    summary:
      'Read (GET) or replace (PUT) the field mapping; PUT is a full replace, refused unless the mapping can create a valid user',
    description:
      'PUT replaces the whole mapping: a rule left out of the body is gone. To add, change or remove single rules use PATCH. Answers carry the connection ETag; send it back in If-Match to refuse (412) a write made from a stale read.',
    request: mappingSchema,
    conditional: true,
    responses: { 200: { description: 'The mapping', schema: mappingAnswer }, ...common, ...conditional },
  },
});

/** What a mapping merge patch may hold (documentation; the merged mapping is validated with mappingSchema). */
const mappingPatch = z
  .strictObject({
    properties: z
      .record(z.string().min(1).max(128), z.union([mappingRuleSchema, z.null()]))
      .optional()
      .describe(
        'Rules to add or change (a rule merges with the one it replaces: to switch its kind, set the old member to null, e.g. {"source": null, "constant": "HQ"}); null removes a rule',
      ),
    generatePassword: z.boolean().nullable().optional(),
    forceChangePasswordNextSignIn: z.boolean().nullable().optional(),
  })
  .describe('JSON Merge Patch (RFC 7396) of the mapping');

/** PATCH /api/connections/{id}/mapping: JSON Merge Patch; null removes a rule. */
export async function patchMappingHttp(request: HttpRequest): Promise<HttpResponseInit> {
  const patch = await readMergePatch(request);
  const { value, etag } = await patchMapping(services(), request.params.id!, patch, configWrite(request));
  return { headers: { ...etagHeader(etag), ...acceptPatch }, jsonBody: value };
}

export const patchMappingFunction = httpFunction({
  name: 'connections-mapping-patch',
  route: 'connections/{id}/mapping',
  methods: ['PATCH'],
  authLevel: 'function',
  handler: withProblems(patchMappingHttp),
  openapi: {
    summary: 'Change some mapping rules (JSON Merge Patch): add or change rules, null removes one, the rest stay',
    description:
      'RFC 7396 JSON Merge Patch over the saved mapping (or the default one): application/merge-patch+json or application/json. The merged mapping is validated like a PUT: if it cannot create a valid user the answer is 400 naming each field, and nothing is changed.',
    request: mappingPatch,
    requestTypes: ['application/merge-patch+json', 'application/json'],
    conditional: true,
    responses: {
      200: { description: 'The mapping after the patch', schema: mappingAnswer },
      ...common,
      ...conditional,
      415: problem('Not a merge patch (e.g. application/json-patch+json)'),
    },
  },
});

/** GET /api/connections/{id}/mapping/metadata: what the mapping editor offers. */
export async function mappingMetadataHttp(request: HttpRequest): Promise<HttpResponseInit> {
  return { jsonBody: await mappingMetadata(services(), request.params.id!) };
}

export const mappingMetadataFunction = httpFunction({
  name: 'connections-mapping-metadata',
  route: 'connections/{id}/mapping/metadata',
  methods: ['GET'],
  authLevel: 'function',
  handler: withProblems(mappingMetadataHttp),
  openapi: {
    summary:
      'What a mapping may use: the writable user properties (Graph metadata), the expression functions, the source attributes seen in received changes',
    responses: {
      200: { description: 'Targets, functions, source attributes', schema: mappingMetadataSchema },
      ...common,
    },
  },
});

/** POST /api/connections/{id}/mapping/preview: the mapping (saved, or a draft) on one real user; changes nothing. */
export async function mappingPreviewHttp(request: HttpRequest): Promise<HttpResponseInit> {
  const body = await readBody(request, mappingPreviewSchema);
  return { jsonBody: await previewMapping(services(), request.params.id!, body) };
}

export const mappingPreviewFunction = httpFunction({
  name: 'connections-mapping-preview',
  route: 'connections/{id}/mapping/preview',
  methods: ['POST'],
  authLevel: 'function',
  handler: withProblems(mappingPreviewHttp),
  openapi: {
    summary:
      'Preview a mapping (the saved one, or a draft) on one user: the value each rule gives and what Microsoft 365 holds now. Writes nothing',
    request: mappingPreviewSchema,
    responses: {
      200: {
        description: 'Each rule with its value, the account’s value and whether they differ',
        schema: mappingPreviewAnswerSchema,
      },
      ...common,
    },
  },
});
