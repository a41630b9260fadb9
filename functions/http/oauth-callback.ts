import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { completeAuthorization } from '../../shared/provisioning/oauth-consent.js';
import { httpFunction } from '../define.js';
import { callbackPage } from '../oauth-callback-page.js';
import { services } from '../services.js';

/** GET /api/oauth/callback (anonymous: a browser lands here from the identity platform). */
export async function oauthCallback(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const q = request.query;
  let outcome;
  try {
    outcome = await completeAuthorization(services(), {
      state: q.get('state') ?? undefined,
      code: q.get('code') ?? undefined,
      adminConsent: q.get('admin_consent') ?? undefined,
      error: q.get('error') ?? undefined,
      errorDescription: q.get('error_description') ?? undefined,
    });
  } catch (error) {
    // A person is looking at this page: say so plainly, log the cause.
    context.error(`OAuth callback failed: ${(error as Error)?.stack ?? String(error)}`);
    return callbackPage({ outcome: 'unavailable' });
  }
  if (outcome.outcome !== 'authorized')
    context.warn(
      `OAuth callback refused: ${outcome.outcome}${'connectionId' in outcome ? ` (connection ${outcome.connectionId})` : ''}`,
    );
  return callbackPage(outcome);
}

export const oauthCallbackFunction = httpFunction({
  name: 'oauth-callback',
  route: 'oauth/callback',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: oauthCallback,
  openapi: {
    summary: 'Where the identity platform sends the browser back after consent',
    responses: {
      200: { description: 'Authorised or permissions granted (HTML page)', html: true },
      400: { description: 'Unknown, replayed or expired state (HTML page)', html: true },
      403: { description: 'Consent declined (HTML page)', html: true },
      502: { description: 'Code exchange failed (HTML page)', html: true },
      503: { description: 'Could not record the outcome (HTML page)', html: true },
    },
  },
});
