import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { provisionOnDemand } from '../../shared/provisioning/operations.js';
import { httpFunction } from '../define.js';
import { readOptionalJson, withProblems } from '../http-support.js';
import { services } from '../services.js';

/** POST /api/connections/{id}/users/{externalId}/provision: runs the operation now; answers the step trace. */
export async function provisionUserHttp(request: HttpRequest): Promise<HttpResponseInit> {
  const change = await readOptionalJson(request);
  return { jsonBody: await provisionOnDemand(services(), request.params.id!, request.params.externalId!, change) };
}

export const provisionUserFunction = httpFunction({ name: 'users-provision', route: 'connections/{id}/users/{externalId}/provision', methods: ['POST'], authLevel: 'function', handler: withProblems(provisionUserHttp) });
