import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { startAdminConsent } from '../../shared/provisioning/oauth-consent.js';
import { httpFunction } from '../define.js';
import { browserLinkSchema, oauthRedirectUri, redirectOrLink, withProblems } from '../http-support.js';
import { common } from '../openapi-common.js';
import { services } from '../services.js';

/** GET /api/connections/{id}/admin-consent: 302 to the tenant's admin-consent page for the app's permissions. */
export async function adminConsentHttp(request: HttpRequest): Promise<HttpResponseInit> {
  const s = services();
  const redirectUri = oauthRedirectUri(s.config);
  const { adminConsentUrl } = await startAdminConsent(s, request.params.id!, redirectUri);
  return redirectOrLink(request, adminConsentUrl);
}

export const adminConsentFunction = httpFunction({
  name: 'connections-admin-consent',
  route: 'connections/{id}/admin-consent',
  methods: ['GET'],
  authLevel: 'function',
  // A GET that starts a consent, which changes the connection: Provisioning.Admin only.
  access: 'write',
  handler: withProblems(adminConsentHttp),
  openapi: {
    summary: "Admin-consent link: redirects an administrator to grant the app registration's application permissions",
    responses: {
      200: {
        description: 'With Accept: application/json: the same address as {url} (for the console)',
        schema: browserLinkSchema,
      },
      302: { description: 'Redirect to the adminconsent endpoint', redirect: true },
      404: common[404],
    },
  },
});
