import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { startAuthorization } from '../../shared/provisioning/oauth-consent.js';
import { httpFunction } from '../define.js';
import { browserLinkSchema, oauthRedirectUri, redirectOrLink, withProblems } from '../http-support.js';
import { common, problem } from '../openapi-common.js';
import { services } from '../services.js';

/** GET /api/connections/{id}/authorize: 302 to the tenant's consent page (state + PKCE S256). */
export async function authorizeConnectionHttp(request: HttpRequest): Promise<HttpResponseInit> {
  const s = services();
  const redirectUri = oauthRedirectUri(s.config);
  const { authorizeUrl } = await startAuthorization(s, request.params.id!, redirectUri);
  return redirectOrLink(request, authorizeUrl);
}

export const authorizeConnectionFunction = httpFunction({
  name: 'connections-authorize',
  route: 'connections/{id}/authorize',
  methods: ['GET'],
  authLevel: 'function',
  // A GET that starts a consent, which changes the connection: Provisioning.Admin only.
  access: 'write',
  handler: withProblems(authorizeConnectionHttp),
  openapi: {
    summary: 'Start OAuth consent (authorization code + PKCE): redirects the browser to the tenant',
    responses: {
      200: {
        description: 'With Accept: application/json: the same address as {url} (for the console)',
        schema: browserLinkSchema,
      },
      302: { description: 'Redirect to the authorize endpoint', redirect: true },
      404: common[404],
      409: problem('The connection uses client credentials'),
    },
  },
});
