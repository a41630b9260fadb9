import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import { licenceOverview } from '../../shared/provisioning/licence-overview.js';
import { httpFunction } from '../define.js';
import { withProblems } from '../http-support.js';
import { common } from '../openapi-common.js';
import { services } from '../services.js';

/** GET /api/connections/{id}/licences: the tenant's SKUs (seats used / free) and the users this connection licensed. */
export async function licencesHttp(request: HttpRequest): Promise<HttpResponseInit> {
  return { jsonBody: await licenceOverview(services(), request.params.id!) };
}

const licencesSchema = z.object({
  skus: z
    .array(
      z.object({
        skuId: z.string(),
        skuPartNumber: z.string(),
        enabled: z.number().int().describe('Seats bought (prepaidUnits.enabled)'),
        consumed: z.number().int().describe('Seats assigned'),
        free: z.number().int(),
      }),
    )
    .describe("The tenant's subscriptions, read now (subscribedSkus)"),
  licensedUsers: z
    .array(
      z.object({
        externalId: z.string(),
        userPrincipalName: z.string().nullable(),
        skus: z.array(z.object({ skuId: z.string(), skuPartNumber: z.string().nullable() })),
      }),
    )
    .describe('Users whose licences this connection assigned directly (the first 1,000)'),
  licensedUserCount: z.number().int(),
});

export const licencesFunction = httpFunction({
  name: 'connections-licences',
  route: 'connections/{id}/licences',
  methods: ['GET'],
  authLevel: 'function',
  handler: withProblems(licencesHttp),
  openapi: {
    summary: "The tenant's licences (seats used and free per SKU) and the users this connection licensed",
    responses: { 200: { description: 'SKUs and licensed users', schema: licencesSchema }, ...common },
  },
});
