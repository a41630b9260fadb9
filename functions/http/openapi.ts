import type { HttpResponseInit } from '@azure/functions';
import { httpFunction } from '../define.js';
import { buildOpenApiDocument } from '../openapi-document.js';

let document: ReturnType<typeof buildOpenApiDocument> | undefined;

/** GET /api/openapi.json: the API description, generated from the declarations and zod schemas. */
export async function openApi(): Promise<HttpResponseInit> {
  // Imported lazily: the definitions list imports this file.
  const { functionDefinitions } = await import('../definitions.js');
  document ??= buildOpenApiDocument(functionDefinitions);
  return { jsonBody: document };
}

export const openApiFunction = httpFunction({
  name: 'openapi',
  route: 'openapi.json',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: openApi,
  openapi: { summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1 document' } } },
});
