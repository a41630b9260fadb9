import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import { syncSettingsObject } from '../../shared/domain/sync-settings.js';
import { getSettings, patchSettings, putSettings } from '../../shared/provisioning/connection-config.js';
import { httpFunction } from '../define.js';
import { readBody, withProblems } from '../http-support.js';
import { acceptPatch, configWrite, etagHeader, mergePatchSchema, readMergePatch } from '../http-writes.js';
import { common, problem } from '../openapi-common.js';
import { services } from '../services.js';

const conditional = {
  412: problem('If-Match names a stale ETag: nothing was changed (precondition-failed)'),
  409: problem('Changed concurrently (retry)'),
};

/** GET|PUT /api/connections/{id}/settings: sync policy; PUT replaces it (left-out settings take their defaults). */
export async function settingsHttp(request: HttpRequest): Promise<HttpResponseInit> {
  const id = request.params.id!;
  const { value, etag } =
    request.method === 'GET'
      ? await getSettings(services(), id)
      : await putSettings(services(), id, await readBody(request, z.unknown()), configWrite(request));
  return { headers: { ...etagHeader(etag), ...acceptPatch }, jsonBody: value };
}

export const settingsFunction = httpFunction({
  name: 'connections-settings',
  route: 'connections/{id}/settings',
  methods: ['GET', 'PUT'],
  authLevel: 'function',
  handler: withProblems(settingsHttp),
  openapi: {
    summary:
      'Read (GET) or replace (PUT) the sync policy; PUT is a full replace: settings left out take their defaults',
    description:
      'PUT replaces every setting: one left out of the body is reset to its default. To change some settings and keep the others, use PATCH. Answers carry the connection ETag; send it back in If-Match to refuse (412) a write made from a stale read.',
    request: syncSettingsObject,
    conditional: true,
    responses: { 200: { description: 'The settings', schema: syncSettingsObject }, ...common, ...conditional },
  },
});

/** PATCH /api/connections/{id}/settings: JSON Merge Patch; null resets a setting to its default. */
export async function patchSettingsHttp(request: HttpRequest): Promise<HttpResponseInit> {
  const patch = await readMergePatch(request);
  const { value, etag } = await patchSettings(services(), request.params.id!, patch, configWrite(request));
  return { headers: { ...etagHeader(etag), ...acceptPatch }, jsonBody: value };
}

export const patchSettingsFunction = httpFunction({
  name: 'connections-settings-patch',
  route: 'connections/{id}/settings',
  methods: ['PATCH'],
  authLevel: 'function',
  handler: withProblems(patchSettingsHttp),
  openapi: {
    summary:
      'Change some settings (JSON Merge Patch): the ones named change, null resets one to its default, the rest stay',
    description:
      'RFC 7396 JSON Merge Patch over the settings in force (application/merge-patch+json or application/json). The merged settings are validated like a PUT: a bad one answers 400 naming it and nothing is changed. A merge patch cannot set a setting to null (null means "reset"): use PUT for accidentalDeletionThreshold: null.',
    request: mergePatchSchema(syncSettingsObject),
    requestTypes: ['application/merge-patch+json', 'application/json'],
    conditional: true,
    responses: {
      200: { description: 'The settings after the patch', schema: syncSettingsObject },
      ...common,
      ...conditional,
      415: problem('Not a merge patch (e.g. application/json-patch+json)'),
    },
  },
});
