// Signs a simulated user in the way the console (a single-page app) does: authorization code with PKCE at the
// simulated identity platform, redeemed cross-origin without a secret, for the API's scope. Answers the access token.
import { randomBytes } from 'node:crypto';
import { pkcePair } from '../integration/m365-sim/helpers.js';
import { DEFAULT_SEED, type TestTenant } from './simulated-tenant.js';

const app = DEFAULT_SEED.contoso.consoleApp;

export async function signInAs(
  sim: Pick<TestTenant, 'authorityHost'>,
  userPrincipalName: string,
  options: { tenantId?: string; scope?: string; clientId?: string; redirectUri?: string } = {},
): Promise<string> {
  const tenantId = options.tenantId ?? DEFAULT_SEED.contoso.tenantId;
  const clientId = options.clientId ?? app.clientId;
  const redirectUri = options.redirectUri ?? app.redirectUri;
  const pkce = pkcePair();
  const authorize = new URL(`${sim.authorityHost}/${tenantId}/oauth2/v2.0/authorize`);
  for (const [k, v] of Object.entries({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: `${options.scope ?? app.scope} openid offline_access`,
    state: randomBytes(8).toString('hex'),
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
    login_hint: userPrincipalName,
  }))
    authorize.searchParams.set(k, v);
  const redirect = await fetch(authorize, { redirect: 'manual' });
  const location = new URL(redirect.headers.get('location') ?? '', 'http://invalid');
  const code = location.searchParams.get('code');
  if (!code) throw new Error(`no code: ${redirect.status} ${location.toString()} ${await redirect.text()}`);
  const token = await fetch(`${sim.authorityHost}/${tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: clientId,
      code,
      redirect_uri: redirectUri,
      code_verifier: pkce.verifier,
    }),
  });
  const body = (await token.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`no token: ${token.status} ${JSON.stringify(body)}`);
  return body.access_token;
}
