// What several routes' OpenAPI descriptions share: the problem+json body and the usual 400/404 answers. Each
// route declares the rest of its description beside its `httpFunction` (see define.ts, OpenApiOperation).
import { z } from 'zod';
import type { OpenApiResponse } from './define.js';

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.string().describe('Stable machine-readable error code'),
    detail: z.string().optional(),
    errors: z
      .array(z.object({ field: z.string(), message: z.string() }))
      .optional()
      .describe('Each invalid field (validation-failed)'),
  })
  .passthrough();

export const healthSchema = z.object({
  status: z.literal('healthy'),
  checks: z.array(
    z.object({ name: z.string(), ok: z.boolean(), durationMs: z.number(), error: z.string().optional() }),
  ),
});

/** A problem+json answer. */
export const problem = (description: string): OpenApiResponse => ({ description, schema: problemSchema });

export const common = {
  400: problem('Invalid request (problem+json naming each field)'),
  404: problem('No such connection'),
};
