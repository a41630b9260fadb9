// The SCIM edge (RFC 7644): routes under /api/scim/v2/{connectionId}/…, anonymous at the Functions level — the
// connection's SCIM bearer token is the credential, checked here before anything else — and every answer
// application/scim+json, errors in SCIM's own format (never problem+json).
import type { HttpMethod, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { isAppError } from '../shared/domain/errors.js';
import { isConnectionId } from '../shared/domain/identifiers.js';
import { invalidSyntax, isScimError, ScimError, scimErrorBody } from '../shared/domain/scim/scim-error.js';
import { type ListQuery, scimErrorOf, type ScimRequest } from '../shared/provisioning/scim/scim-resources.js';
import { authenticateScim } from '../shared/provisioning/scim/scim-tokens.js';
import { httpFunction, type HttpFunctionDefinition, type OpenApiOperation } from './define.js';
import { readOptionalJson } from './http-support.js';
import { services } from './services.js';

export const SCIM_CONTENT_TYPE = 'application/scim+json';
/** Below the /api prefix. */
export const SCIM_ROUTE_PREFIX = 'scim/v2/{connectionId}';

export const scimResponse = (status: number, body?: unknown, headers: Record<string, string> = {}): HttpResponseInit =>
  body === undefined
    ? { status, headers }
    : { status, headers: { 'content-type': SCIM_CONTENT_TYPE, ...headers }, body: JSON.stringify(body) };

function scimErrorResponse(error: unknown, context: InvocationContext): HttpResponseInit {
  let scim: ScimError;
  if (isScimError(error)) scim = error;
  else if (isAppError(error)) {
    scim = scimErrorOf(error);
    if (scim.status >= 500) context.warn(`${error.code}: ${error.message}`);
  } else {
    context.error(`Unexpected error: ${(error as Error)?.stack ?? String(error)}`);
    scim = new ScimError(
      500,
      `Something went wrong on our side (invocation ${context.invocationId}); it has been logged.`,
    );
  }
  const headers: Record<string, string> =
    scim.status === 401
      ? { 'www-authenticate': 'Bearer realm="scim"' }
      : scim.status === 429
        ? { 'retry-after': '5' }
        : {};
  return scimResponse(scim.status, scimErrorBody(scim), headers);
}

/** The SCIM id in a URL: ids this endpoint gives out are GUIDs; anything else names nothing. */
export function scimIdOf(request: HttpRequest, what: 'User' | 'Group'): string {
  const id = request.params.scimId ?? '';
  if (!isConnectionId(id)) throw new ScimError(404, `${what} ${id.slice(0, 64)} not found`);
  return id.toLowerCase();
}

/** The JSON body: not JSON (or too large) is a SCIM error too. */
export async function readScimBody(request: HttpRequest): Promise<unknown> {
  try {
    const body = await readOptionalJson(request);
    if (body === undefined) throw invalidSyntax('The request body is empty: a JSON object is required');
    return body;
  } catch (error) {
    if (isAppError(error) && error.code === 'payload-too-large') throw new ScimError(413, error.message);
    if (isAppError(error)) throw invalidSyntax(error.message);
    throw error;
  }
}

const integer = (request: HttpRequest, name: string): number | undefined => {
  const text = request.query.get(name);
  if (text === null || text === '') return undefined;
  if (!/^-?\d{1,9}$/.test(text.trim())) throw new ScimError(400, `${name} must be an integer`, 'invalidValue');
  return Number(text);
};
const optional = (request: HttpRequest, name: string) => request.query.get(name) ?? undefined;

/** filter, startIndex, count, attributes, excludedAttributes (other query parameters are ignored). */
export const listQueryOf = (request: HttpRequest): ListQuery => ({
  filter: optional(request, 'filter'),
  startIndex: integer(request, 'startIndex'),
  count: integer(request, 'count'),
  attributes: optional(request, 'attributes'),
  excludedAttributes: optional(request, 'excludedAttributes'),
});

/** Where this connection's SCIM resources are, as the client reached them. */
function scimRequestOf(request: HttpRequest, connectionId: string): ScimRequest {
  const url = new URL(request.url);
  const at = url.pathname.toLowerCase().indexOf(`/scim/v2/${connectionId.toLowerCase()}`);
  const path = at >= 0 ? url.pathname.slice(0, at + `/scim/v2/${connectionId}`.length) : `/api/scim/v2/${connectionId}`;
  return { connectionId: connectionId.toLowerCase(), baseUrl: `${url.origin}${path}` };
}

export type ScimHandler = (
  request: HttpRequest,
  at: ScimRequest,
  context: InvocationContext,
) => Promise<HttpResponseInit>;

/**
 * A SCIM route: anonymous for the Functions host, the bearer token checked first (401 in SCIM's format), an
 * unknown connection 404, every failure a SCIM error.
 */
export function scimFunction(d: {
  name: string;
  /** Below /api/scim/v2/{connectionId}, e.g. `Users/{scimId}`. */
  route: string;
  methods: HttpMethod[];
  handler: ScimHandler;
  openapi: OpenApiOperation;
}): HttpFunctionDefinition {
  return httpFunction({
    name: d.name,
    route: `${SCIM_ROUTE_PREFIX}/${d.route}`,
    methods: d.methods,
    authLevel: 'anonymous',
    openapi: { ...d.openapi, scim: true },
    handler: async (request, context) => {
      try {
        const connectionId = request.params.connectionId ?? '';
        if (!isConnectionId(connectionId))
          throw new ScimError(404, 'No connection with that id (connection ids are GUIDs)');
        await authenticateScim(
          { scimTokens: services().scimTokens, clock: services().clock },
          connectionId.toLowerCase(),
          request.headers.get('authorization'),
        );
        return await d.handler(request, scimRequestOf(request, connectionId), context);
      } catch (error) {
        return scimErrorResponse(error, context);
      }
    },
  });
}
