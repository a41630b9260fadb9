// The page a person's browser lands on after consent: what happened, in plain words, and what to do next.
import type { HttpResponseInit } from '@azure/functions';
import type { CallbackOutcome } from '../shared/provisioning/oauth-consent.js';

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function content(o: CallbackOutcome | { outcome: 'unavailable' }): { status: number; title: string; body: string } {
  // Every value from outside (a connection's name, the provider's error text) is escaped before it enters HTML.
  const name = 'connectionName' in o && o.connectionName ? `“${escape(o.connectionName)}”` : 'the connection';
  switch (o.outcome) {
    case 'authorized':
      return {
        status: 200,
        title: 'Connected to Microsoft 365',
        body: `Access for ${name} is authorised. Close this tab and run <b>Test connection</b> to finish the set-up.`,
      };
    case 'admin-consented':
      return {
        status: 200,
        title: 'Permissions granted',
        body: `The application permissions for ${name} are granted for your organisation. Close this tab and run <b>Test connection</b>.`,
      };
    case 'unknown-state':
      return {
        status: 400,
        title: 'This consent link is not valid',
        body: 'The response did not come from a consent request we started (it may be forged or from another installation). Start again from the connection’s <b>Authorize</b> button.',
      };
    case 'replayed-state':
      return {
        status: 400,
        title: 'This consent link was already used',
        body: `Each consent link works once. Start again from the <b>Authorize</b> button of ${name}.`,
      };
    case 'expired-state':
      return {
        status: 400,
        title: 'This consent link expired',
        body: `Consent must be completed within 10 minutes. Start again from the <b>Authorize</b> button of ${name}.`,
      };
    case 'denied':
      return {
        status: 403,
        title: 'Consent was declined',
        body: `Microsoft 365 access for ${name} was not granted (${escape(o.description)}). Ask a Microsoft 365 administrator to sign in and choose <b>Accept</b>.`,
      };
    case 'unavailable':
      return {
        status: 503,
        title: 'Something went wrong on our side',
        body: 'The authorisation could not be recorded. Wait a minute and start again from the <b>Authorize</b> button.',
      };
    case 'provider-error':
    case 'exchange-failed':
      return {
        status: 502,
        title: 'Microsoft 365 did not complete the authorisation',
        body: `For ${name}: <code>${escape(o.error)}</code> — ${escape(o.description)}. Check the client ID, secret and redirect URI of the app registration, then try <b>Authorize</b> again.`,
      };
  }
}

export function callbackPage(outcome: CallbackOutcome | { outcome: 'unavailable' }): HttpResponseInit {
  const { status, title, body } = content(outcome);
  // Back to the admin console, on the connection's page (the consent round trip started there).
  const back =
    'connectionId' in outcome
      ? `<p><a href="/api/console/#/connections/${encodeURIComponent(outcome.connectionId)}">Back to the console</a></p>`
      : '<p><a href="/api/console/">Back to the console</a></p>';
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem}</style></head>
<body><h1>${escape(title)}</h1><p>${body}</p>${back}</body></html>`;
  return {
    status,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
      'referrer-policy': 'no-referrer',
    },
    body: html,
  };
}
