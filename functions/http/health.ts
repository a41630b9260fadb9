import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { getConfig } from '../../shared/config.js';
import { checkHealth } from '../../shared/provisioning/health.js';
import { storageProbes } from '../../shared/storage/storage-probes.js';
import { httpFunction } from '../define.js';
import { healthSchema, problem } from '../openapi-common.js';
import { problemResponse } from '../problem.js';

/** GET /api/health: 200 when every dependency answers, 503 naming the ones that did not. */
export async function health(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const report = await checkHealth(storageProbes(getConfig().storage));
  if (report.healthy) return { status: 200, jsonBody: { status: 'healthy', checks: report.checks } };
  const failed = report.checks.filter((c) => !c.ok).map((c) => c.name);
  context.warn(`health: unavailable dependencies: ${failed.join(', ')}`);
  return problemResponse({
    status: 503,
    code: 'dependency-unavailable',
    title: 'A dependency is unavailable',
    detail: `Not reachable: ${failed.join(', ')}`,
    failedDependencies: failed,
    checks: report.checks,
  });
}

export const healthFunction = httpFunction({
  name: 'health',
  route: 'health',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: health,
  openapi: {
    summary: 'Health of the app and its dependencies',
    responses: {
      200: { description: 'Healthy', schema: healthSchema },
      503: problem('A dependency is unavailable (named)'),
    },
  },
});
