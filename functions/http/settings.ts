import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import { syncSettingsSchema } from '../../shared/domain/sync-settings.js';
import { getSettings, putSettings } from '../../shared/provisioning/connection-config.js';
import { httpFunction } from '../define.js';
import { readBody, withProblems } from '../http-support.js';
import { common } from '../openapi-common.js';
import { services } from '../services.js';

/** GET|PUT /api/connections/{id}/settings: sync policy; PUT replaces it (left-out settings take their defaults). */
export async function settingsHttp(request: HttpRequest): Promise<HttpResponseInit> {
  const id = request.params.id!;
  if (request.method === 'GET') return { jsonBody: await getSettings(services(), id) };
  return { jsonBody: await putSettings(services(), id, await readBody(request, z.unknown())) };
}

export const settingsFunction = httpFunction({
  name: 'connections-settings',
  route: 'connections/{id}/settings',
  methods: ['GET', 'PUT'],
  authLevel: 'function',
  handler: withProblems(settingsHttp),
  openapi: {
    summary: 'Read (GET) or replace (PUT) the sync policy; settings left out take their defaults',
    request: syncSettingsSchema,
    responses: { 200: { description: 'The settings', schema: syncSettingsSchema }, ...common },
  },
});
