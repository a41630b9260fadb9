// The OpenAPI 3.1 description of the HTTP API, generated from the function declarations (routes, methods,
// auth, and the `openapi` member each HTTP function declares beside its handler: summary, the zod schemas that
// validate its requests and shape its responses), so it cannot drift from either.
import { z } from 'zod';
import type { FunctionDefinition, HttpFunctionDefinition, OpenApiResponse } from './define.js';
import { problem } from './openapi-common.js';

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(schema, { io, unrepresentable: 'any' });

const IF_MATCH = {
  name: 'If-Match',
  in: 'header',
  required: false,
  description: 'The ETag a previous answer gave (or *): a write made from a stale one answers 412 precondition-failed',
  schema: { type: 'string' },
};
/** What every admin route may answer before its handler runs (functions/http-auth.ts). */
const ADMIN_ROUTE_REFUSALS: Record<number, OpenApiResponse> = {
  401: problem('No or a refused credential: authentication-required, invalid-token (WWW-Authenticate: Bearer)'),
  403: problem(
    'Signed in but not allowed: read-only-role (a write by Provisioning.Reader), role-required (no app role)',
  ),
  429: problem(
    'With sign-in on, more function keys the instance does not know than it checks a minute: too-many-key-checks (Retry-After)',
  ),
};

const ETAG = { description: 'The version of the connection this answer reflects', schema: { type: 'string' } };

export function buildOpenApiDocument(definitions: readonly FunctionDefinition[]) {
  const http = definitions.filter((d): d is HttpFunctionDefinition => d.kind === 'http');
  const paths: Record<string, Record<string, unknown>> = {};
  for (const fn of http) {
    const op = fn.openapi;
    if (!op) throw new Error(`HTTP function "${fn.name}" declares no \`openapi\` description`);
    const path = `/api/${fn.route.replace(/\{\*?([A-Za-z0-9_]+)(:[a-z]+)?\??\}/g, '{$1}')}`;
    const parameters: Record<string, unknown>[] = [...fn.route.matchAll(/\{\*?([A-Za-z0-9_]+)/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    for (const [name, schema] of Object.entries(op.query?.shape ?? {})) {
      parameters.push({ name, in: 'query', required: false, schema: jsonSchema(schema as z.ZodType, 'input') });
    }
    // A write to a versioned resource (not its creation) may be conditional.
    const takesIfMatch = (method: string) => op.conditional === true && !['GET', 'POST'].includes(method);
    for (const method of fn.methods) {
      (paths[path] ??= {})[method.toLowerCase()] = {
        // Unique per operation: a function serving several methods gets one per method.
        operationId: fn.methods.length === 1 ? fn.name : `${fn.name}-${method.toLowerCase()}`,
        summary: op.summary,
        ...(op.description ? { description: op.description } : {}),
        ...(parameters.length || takesIfMatch(method)
          ? { parameters: takesIfMatch(method) ? [...parameters, IF_MATCH] : parameters }
          : {}),
        ...(op.scim
          ? { security: [{ scimBearer: [] }] }
          : fn.access
            ? {}
            : { security: fn.authLevel === 'anonymous' ? [] : [{ functionKey: [] }] }),
        ...(op.request && method !== 'GET'
          ? {
              requestBody: {
                required: true,
                content: Object.fromEntries(
                  (op.requestTypes ?? ['application/json']).map((type) => [
                    type,
                    { schema: jsonSchema(op.request!, 'input') },
                  ]),
                ),
              },
            }
          : {}),
        responses: Object.fromEntries(
          Object.entries({ ...(fn.access ? ADMIN_ROUTE_REFUSALS : {}), ...op.responses }).map(([status, r]) => [
            status,
            {
              description: r.description,
              ...(r.schema
                ? {
                    content: {
                      [op.scim
                        ? 'application/scim+json'
                        : Number(status) >= 400
                          ? 'application/problem+json'
                          : 'application/json']: {
                        schema: jsonSchema(r.schema, 'output'),
                      },
                    },
                  }
                : {}),
              ...(r.html ? { content: { 'text/html': { schema: { type: 'string' } } } } : {}),
              ...(r.redirect ? { headers: { Location: { schema: { type: 'string', format: 'uri' } } } } : {}),
              ...(op.conditional && Number(status) < 300 ? { headers: { ETag: ETAG } } : {}),
            },
          ]),
        ),
      };
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'm365-provisioner',
      version: '0.1.0',
      description: 'Provisioning connector for Microsoft 365 / Entra ID users',
    },
    servers: [{ url: '/' }],
    // Either scheme (alternatives): a function key, or — with Entra ID sign-in on — an access token for this API.
    security: [{ functionKey: [] }, { entraId: [] }],
    components: {
      securitySchemes: {
        functionKey: {
          type: 'apiKey',
          in: 'header',
          name: 'x-functions-key',
          description: 'Azure Functions function key (or ?code=); acts as Provisioning.Admin',
        },
        entraId: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'With Entra ID sign-in on (ENTRA_TENANT_ID, ENTRA_CLIENT_ID): a v2 access token for this API ' +
            '(scope api://<client id>/access_as_user; GET /api/auth/config names authority, client id and scope). ' +
            'App role Provisioning.Admin may do everything, Provisioning.Reader only GET; anything else is 403.',
        },
        scimBearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            "A SCIM token of the connection in the URL (POST /api/connections/{id}/scim-token): the SCIM routes' credential",
        },
      },
    },
    paths,
  };
}
