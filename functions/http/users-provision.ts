import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { provisionOnDemand } from '../../shared/provisioning/user-admin.js';
import { httpFunction } from '../define.js';
import { readOptionalJson, withProblems } from '../http-support.js';
import { common, problem } from '../openapi-common.js';
import { services } from '../services.js';

/** POST /api/connections/{id}/users/{externalId}/provision: runs the operation now; answers the step trace. */
export async function provisionUserHttp(request: HttpRequest): Promise<HttpResponseInit> {
  const change = await readOptionalJson(request);
  return { jsonBody: await provisionOnDemand(services(), request.params.id!, request.params.externalId!, change) };
}

export const provisionUserFunction = httpFunction({
  name: 'users-provision',
  route: 'connections/{id}/users/{externalId}/provision',
  methods: ['POST'],
  authLevel: 'function',
  handler: withProblems(provisionUserHttp),
  openapi: {
    summary:
      'Provision on demand: run the operation now (posted change, or the current desired state) and answer the step trace',
    responses: {
      200: { description: 'Outcome with trace' },
      400: common[400],
      404: problem('No change received for this user'),
      429: problem('Throttled by Graph (Retry-After)'),
      503: problem('Graph unavailable'),
    },
  },
});
