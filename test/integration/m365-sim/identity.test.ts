// The simulated identity platform, driven by the real @azure/identity ClientSecretCredential (MSAL) for
// the client-credentials flow and by plain fetch for the browser redirects and raw error bodies.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_SEED, startTestTenant, type TestTenant } from '../../support/simulated-tenant.js';
import { decodeJwt, type JsonBody, pkcePair } from './helpers.js';

const c = DEFAULT_SEED.contoso;
const SCOPE = 'https://graph.microsoft.com/.default';
let sim: TestTenant;

beforeAll(async () => {
  sim = await startTestTenant();
});
afterAll(async () => sim?.close());
beforeEach(async () => sim.controls.reset());

async function tokenRequest(params: Record<string, string>, tenant: string = c.tenantId) {
  const res = await fetch(`${sim.authorityHost}/${tenant}/oauth2/v2.0/token`, {
    method: 'POST',
    body: new URLSearchParams(params),
  });
  return { status: res.status, body: (await res.json()) as JsonBody };
}

async function authorize(params: Record<string, string>, tenant: string = c.tenantId) {
  const res = await fetch(
    `${sim.authorityHost}/${tenant}/oauth2/v2.0/authorize?${new URLSearchParams(params).toString()}`,
    { redirect: 'manual' },
  );
  return {
    status: res.status,
    location: res.headers.get('location') ? new URL(res.headers.get('location')!) : undefined,
    text: await res.text(),
  };
}

async function codeFor(
  redirectUri = 'http://localhost:53123/api/oauth/callback',
  scope = 'openid offline_access https://graph.microsoft.com/User.ReadWrite.All',
) {
  const pkce = pkcePair();
  const res = await authorize({
    client_id: c.fullApp.clientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope,
    state: 'st-1',
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
  });
  expect(res.status).toBe(302);
  return {
    code: res.location!.searchParams.get('code')!,
    state: res.location!.searchParams.get('state'),
    pkce,
    redirectUri,
  };
}

describe('client credentials (v2-oauth2-client-creds-grant-flow)', () => {
  it('issues an app-only Graph token through the real ClientSecretCredential, with granted permissions in `roles` (access-token-claims-reference)', async () => {
    const token = await sim.credentialFor(c.tenantId, c.fullApp.clientId, c.fullApp.secret).getToken(SCOPE);
    const claims = decodeJwt(token.token);
    expect(claims).toMatchObject({
      tid: c.tenantId,
      appid: c.fullApp.clientId,
      aud: 'https://graph.microsoft.com',
      idtyp: 'app',
    });
    expect(claims.roles).toEqual(
      expect.arrayContaining([
        'User.ReadWrite.All',
        'Group.ReadWrite.All',
        'Organization.Read.All',
        'Application.ReadWrite.All',
      ]),
    );
    expect(claims.scp).toBeUndefined();
    expect(token.expiresOnTimestamp - Date.now()).toBeGreaterThan(3000 * 1000);
  });

  it('omits the `roles` claim entirely when the app has no application permissions (access-token-claims-reference)', async () => {
    const token = await sim
      .credentialFor(c.tenantId, c.noPermissionApp.clientId, c.noPermissionApp.secret)
      .getToken(SCOPE);
    expect(decodeJwt(token.token)).not.toHaveProperty('roles');
  });

  it('answers a wrong secret with 401 invalid_client AADSTS7000215 (troubleshooting ClientSecretCredential)', async () => {
    const raw = await tokenRequest({
      grant_type: 'client_credentials',
      client_id: c.fullApp.clientId,
      client_secret: 'not-the-secret',
      scope: SCOPE,
    });
    expect(raw.status).toBe(401);
    expect(raw.body).toMatchObject({ error: 'invalid_client', error_codes: [7000215] });
    expect(raw.body.error_description).toMatch(/^AADSTS7000215: Invalid client secret provided\./);
    expect(Object.keys(raw.body)).toEqual(expect.arrayContaining(['timestamp', 'trace_id', 'correlation_id']));
    await expect(sim.credentialFor(c.tenantId, c.fullApp.clientId, 'not-the-secret').getToken(SCOPE)).rejects.toThrow(
      /AADSTS7000215/,
    );
  });

  it('answers an expired secret with AADSTS7000222 (troubleshooting ClientSecretCredential)', async () => {
    await expect(
      sim.credentialFor(c.tenantId, c.readOnlyApp.clientId, c.readOnlyApp.expiredSecret).getToken(SCOPE),
    ).rejects.toThrow(/AADSTS7000222/);
  });

  it('expires a secret when its endDateTime passes on the simulated clock', async () => {
    await sim.credentialFor(c.tenantId, c.fullApp.clientId, c.fullApp.soonExpiringSecret).getToken(SCOPE);
    await sim.controls.advanceClock({ days: 21 });
    const raw = await tokenRequest({
      grant_type: 'client_credentials',
      client_id: c.fullApp.clientId,
      client_secret: c.fullApp.soonExpiringSecret,
      scope: SCOPE,
    });
    expect(raw.body.error_codes).toEqual([7000222]);
  });

  it('rejects a scope without /.default with invalid_scope AADSTS1002012 (v2-oauth2-client-creds-grant-flow)', async () => {
    const raw = await tokenRequest({
      grant_type: 'client_credentials',
      client_id: c.fullApp.clientId,
      client_secret: c.fullApp.secret,
      scope: 'https://graph.microsoft.com/User.Read.All',
    });
    expect(raw.status).toBe(400);
    expect(raw.body).toMatchObject({ error: 'invalid_scope', error_codes: [1002012] });
  });

  it('answers an unknown client with AADSTS700016 and an unknown tenant with AADSTS90002 (reference-error-codes)', async () => {
    const unknownClient = await tokenRequest({
      grant_type: 'client_credentials',
      client_id: '11111111-2222-4333-8444-555555555555',
      client_secret: 'x',
      scope: SCOPE,
    });
    expect(unknownClient.body).toMatchObject({ error: 'unauthorized_client', error_codes: [700016] });
    const unknownTenant = await tokenRequest(
      {
        grant_type: 'client_credentials',
        client_id: c.fullApp.clientId,
        client_secret: c.fullApp.secret,
        scope: SCOPE,
      },
      'nobody.example',
    );
    // The token endpoint says invalid_request (OpenID discovery says invalid_tenant), both with AADSTS90002.
    expect(unknownTenant.body).toMatchObject({ error: 'invalid_request', error_codes: [90002] });
    await expect(
      sim.credentialFor('99999999-9999-4999-8999-999999999999', c.fullApp.clientId, c.fullApp.secret).getToken(SCOPE),
    ).rejects.toThrow();
  });

  it('accepts a tenant domain name in place of the tenant id (v2-protocols, "Endpoints")', async () => {
    const raw = await tokenRequest(
      {
        grant_type: 'client_credentials',
        client_id: c.fullApp.clientId,
        client_secret: c.fullApp.secret,
        scope: SCOPE,
      },
      c.domain,
    );
    expect(raw.status).toBe(200);
    expect(raw.body).toMatchObject({ token_type: 'Bearer', expires_in: 3599 });
    expect(raw.body).not.toHaveProperty('refresh_token');
  });
});

describe('authorization code + PKCE (v2-oauth2-auth-code-flow)', () => {
  it('redirects with code and state, and redeems the code once for delegated tokens with `scp`, a refresh token and an id token', async () => {
    const { code, state, pkce, redirectUri } = await codeFor();
    expect(state).toBe('st-1');
    const params = {
      grant_type: 'authorization_code',
      client_id: c.fullApp.clientId,
      client_secret: c.fullApp.secret,
      code,
      redirect_uri: redirectUri,
      code_verifier: pkce.verifier,
    };
    const first = await tokenRequest(params);
    expect(first.status).toBe(200);
    const claims = decodeJwt(first.body.access_token);
    expect(claims).toMatchObject({ scp: 'User.ReadWrite.All', idtyp: 'user', upn: c.admin, tid: c.tenantId });
    expect(claims).not.toHaveProperty('roles');
    expect(first.body.refresh_token).toBeTruthy();
    expect(decodeJwt(first.body.id_token)).toMatchObject({ aud: c.fullApp.clientId, preferred_username: c.admin });
    const again = await tokenRequest(params);
    expect(again.body).toMatchObject({ error: 'invalid_grant', error_codes: [54005] });
  });

  it('matches loopback redirect URIs on any port but otherwise exactly (reply-url, "Localhost exceptions")', async () => {
    await codeFor('http://localhost:1/api/oauth/callback');
    const wrongPath = await authorize({
      client_id: c.fullApp.clientId,
      response_type: 'code',
      redirect_uri: 'http://localhost:8080/elsewhere',
      scope: 'openid',
    });
    expect(wrongPath.status).toBe(400);
    expect(wrongPath.location).toBeUndefined();
    expect(wrongPath.text).toContain('AADSTS50011');
    const otherHost = await authorize({
      client_id: c.fullApp.clientId,
      response_type: 'code',
      redirect_uri: 'https://evil.example/api/oauth/callback',
      scope: 'openid',
    });
    expect(otherHost.status).toBe(400);
  });

  it('rejects a wrong code_verifier and a different redirect_uri with invalid_grant', async () => {
    const { code, redirectUri } = await codeFor();
    const base = {
      grant_type: 'authorization_code',
      client_id: c.fullApp.clientId,
      client_secret: c.fullApp.secret,
      code,
    };
    const wrongVerifier = await tokenRequest({
      ...base,
      redirect_uri: redirectUri,
      code_verifier: pkcePair().verifier,
    });
    expect(wrongVerifier.body).toMatchObject({ error: 'invalid_grant', error_codes: [501481] });
    const wrongRedirect = await tokenRequest({
      ...base,
      redirect_uri: 'http://localhost:9/callback',
      code_verifier: 'x',
    });
    expect(wrongRedirect.body.error).toBe('invalid_grant');
  });

  it('expires an unredeemed code after about ten minutes', async () => {
    const { code, pkce, redirectUri } = await codeFor();
    await sim.controls.advanceClock({ minutes: 11 });
    const res = await tokenRequest({
      grant_type: 'authorization_code',
      client_id: c.fullApp.clientId,
      client_secret: c.fullApp.secret,
      code,
      redirect_uri: redirectUri,
      code_verifier: pkce.verifier,
    });
    expect(res.body).toMatchObject({ error: 'invalid_grant', error_codes: [70008] });
  });

  it('redeems a refresh token for new tokens (v2-oauth2-auth-code-flow, "Refresh the access token")', async () => {
    const { code, pkce, redirectUri } = await codeFor();
    const first = await tokenRequest({
      grant_type: 'authorization_code',
      client_id: c.fullApp.clientId,
      client_secret: c.fullApp.secret,
      code,
      redirect_uri: redirectUri,
      code_verifier: pkce.verifier,
    });
    await sim.controls.advanceClock({ hours: 2 });
    const refreshed = await tokenRequest({
      grant_type: 'refresh_token',
      client_id: c.fullApp.clientId,
      client_secret: c.fullApp.secret,
      refresh_token: first.body.refresh_token,
    });
    expect(refreshed.status).toBe(200);
    expect(decodeJwt(refreshed.body.access_token).scp).toBe('User.ReadWrite.All');
    const unknown = await tokenRequest({
      grant_type: 'refresh_token',
      client_id: c.fullApp.clientId,
      client_secret: c.fullApp.secret,
      refresh_token: 'nope',
    });
    expect(unknown.body.error).toBe('invalid_grant');
  });

  it('redirects a declined sign-in with error=access_denied and the state', async () => {
    await sim.controls.interactive({ decision: 'deny' });
    const res = await authorize({
      client_id: c.fullApp.clientId,
      response_type: 'code',
      redirect_uri: 'http://localhost/callback',
      scope: 'openid',
      state: 'abc',
    });
    expect(res.status).toBe(302);
    expect(Object.fromEntries(res.location!.searchParams)).toMatchObject({ error: 'access_denied', state: 'abc' });
    expect(res.location!.searchParams.get('error_description')).toMatch(/^AADSTS65004/);
  });
});

describe("an app's own API: app roles and v2 tokens (howto-add-app-roles-in-apps, access-token-claims-reference)", () => {
  const api = c.consoleApp;
  const spaCode = async (scope: string, loginHint: string) => {
    const pkce = pkcePair();
    const res = await authorize({
      client_id: api.clientId,
      response_type: 'code',
      redirect_uri: api.redirectUri,
      scope,
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
      login_hint: loginHint,
    });
    return { res, code: res.location?.searchParams.get('code') ?? '', pkce };
  };
  const redeem = async (
    code: string,
    verifier: string,
    headers: Record<string, string> = { origin: 'http://localhost' },
  ) => {
    const res = await fetch(`${sim.authorityHost}/${c.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers,
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: api.clientId,
        code,
        redirect_uri: api.redirectUri,
        code_verifier: verifier,
      }),
    });
    return {
      status: res.status,
      cors: res.headers.get('access-control-allow-origin'),
      body: (await res.json()) as JsonBody,
    };
  };

  it("issues a v2 token for the API: aud = its client id, the v2 issuer, the user's assigned app roles, scp, azp", async () => {
    const { code, pkce } = await spaCode(`${api.scope} openid offline_access`, 'adele.vance@contoso.example');
    const token = await redeem(code, pkce.verifier);
    expect(token.status).toBe(200);
    expect(token.cors).toBe('*');
    const claims = decodeJwt(token.body.access_token);
    expect(claims).toMatchObject({
      aud: api.clientId,
      iss: `${sim.authorityHost}/${c.tenantId}/v2.0`,
      ver: '2.0',
      tid: c.tenantId,
      oid: c.users.adele,
      preferred_username: 'adele.vance@contoso.example',
      roles: ['Provisioning.Reader'],
      scp: 'access_as_user',
      azp: api.clientId,
    });
    expect(token.body.refresh_token).toBeTruthy();
    const { code: code2, pkce: pkce2 } = await spaCode(api.scope, 'alex.wilber@contoso.example');
    expect(decodeJwt((await redeem(code2, pkce2.verifier)).body.access_token)).not.toHaveProperty('roles');
  });

  it('redeems a single-page-app code only cross-origin (AADSTS9002327) and only with PKCE (AADSTS9002325), never needing a secret', async () => {
    const { code, pkce } = await spaCode(api.scope, c.admin);
    expect((await redeem(code, pkce.verifier, {})).body).toMatchObject({
      error: 'invalid_request',
      error_codes: [9002327],
    });
    const noPkce = await authorize({
      client_id: api.clientId,
      response_type: 'code',
      redirect_uri: api.redirectUri,
      scope: api.scope,
    });
    const plain = await redeem(noPkce.location!.searchParams.get('code')!, 'x');
    expect(plain.body).toMatchObject({ error: 'invalid_request', error_codes: [9002325] });
  });

  it('with prompt=select_account or prompt=login shows a sign-in page; the user it is posted for gets the code (v2-oauth2-auth-code-flow, "prompt")', async () => {
    const pkce = pkcePair();
    const asked = {
      client_id: api.clientId,
      response_type: 'code',
      redirect_uri: api.redirectUri,
      scope: api.scope,
      state: 's-1',
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
      prompt: 'select_account',
    };
    const page = await authorize(asked);
    expect(page.status).toBe(200);
    expect(page.location).toBeUndefined();
    // A form posting back to the same endpoint with every parameter kept, and a username field.
    expect(page.text).toContain('<form method="post"');
    expect(page.text).toContain('name="login"');
    expect(page.text).toContain(`name="code_challenge" value="${pkce.challenge}"`);
    const post = (login: string) =>
      fetch(`${sim.authorityHost}/${c.tenantId}/oauth2/v2.0/authorize`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ ...asked, login }),
      });
    const unknown = await post('nobody@contoso.example');
    expect(unknown.status).toBe(200);
    expect(await unknown.text()).toContain('We couldn&#39;t find an account with that username.');
    const signedIn = await post('Adele.Vance@contoso.example');
    expect(signedIn.status).toBe(302);
    const location = new URL(signedIn.headers.get('location')!);
    expect(location.searchParams.get('state')).toBe('s-1');
    const token = await redeem(location.searchParams.get('code')!, pkce.verifier);
    expect(decodeJwt(token.body.access_token)).toMatchObject({
      preferred_username: 'adele.vance@contoso.example',
      roles: ['Provisioning.Reader'],
    });
    // prompt=login too; the login_hint fills the username in.
    const login = await authorize({ ...asked, prompt: 'login', login_hint: 'alex.wilber@contoso.example' });
    expect(login.status).toBe(200);
    expect(login.text).toContain('value="alex.wilber@contoso.example"');
  });

  it('refuses a scope the API does not expose, an unknown resource, and two resources at once (AADSTS28000)', async () => {
    const unknownScope = await spaCode(`api://${api.clientId}/nope`, c.admin);
    expect(unknownScope.res.location?.searchParams.get('error')).toBe('invalid_scope');
    const unknownResource = await spaCode('api://not-registered/access_as_user', c.admin);
    expect(unknownResource.res.location?.searchParams.get('error_description')).toMatch(/^AADSTS500011:/);
    const twoResources = await spaCode(`${api.scope} https://graph.microsoft.com/User.Read`, c.admin);
    expect(twoResources.res.location?.searchParams.get('error_description')).toMatch(/^AADSTS28000:/);
  });
});

describe('admin consent (v2-admin-consent)', () => {
  it('redirects with admin_consent=True, tenant, state and the granted scope', async () => {
    const res = await fetch(
      `${sim.authorityHost}/organizations/v2.0/adminconsent?${new URLSearchParams({ client_id: c.fullApp.clientId, scope: SCOPE, redirect_uri: 'http://localhost:4000/callback', state: 's1' }).toString()}`,
      { redirect: 'manual' },
    );
    expect(res.status).toBe(302);
    const loc = new URL(res.headers.get('location')!);
    expect(loc.origin + loc.pathname).toBe('http://localhost:4000/callback');
    expect(Object.fromEntries(loc.searchParams)).toMatchObject({
      admin_consent: 'True',
      tenant: c.tenantId,
      state: 's1',
    });
    expect(loc.searchParams.get('scope')).toContain('https://graph.microsoft.com/User.ReadWrite.All');
  });

  it('redirects a declined consent with error=access_denied', async () => {
    await sim.controls.interactive({ decision: 'deny' });
    const res = await fetch(
      `${sim.authorityHost}/${c.tenantId}/v2.0/adminconsent?${new URLSearchParams({ client_id: c.fullApp.clientId, scope: SCOPE, redirect_uri: 'http://localhost/callback', state: 's2' }).toString()}`,
      { redirect: 'manual' },
    );
    const loc = new URL(res.headers.get('location')!);
    expect(Object.fromEntries(loc.searchParams)).toMatchObject({ error: 'access_denied', state: 's2' });
  });
});

describe('discovery', () => {
  it('publishes the OpenID configuration MSAL needs and the signing keys', async () => {
    const conf = (await (
      await fetch(`${sim.authorityHost}/${c.tenantId}/v2.0/.well-known/openid-configuration`)
    ).json()) as Record<string, string>;
    expect(conf.token_endpoint).toBe(`${sim.authorityHost}/${c.tenantId}/oauth2/v2.0/token`);
    expect(conf.authorization_endpoint).toBe(`${sim.authorityHost}/${c.tenantId}/oauth2/v2.0/authorize`);
    expect(conf.issuer).toBe(`${sim.authorityHost}/${c.tenantId}/v2.0`);
    const keys = (await (await fetch(conf.jwks_uri!)).json()) as { keys: Array<{ kty: string }> };
    expect(keys.keys[0]!.kty).toBe('RSA');
  });

  it('logs token requests without their secrets', async () => {
    await sim.credentialFor(c.tenantId, c.fullApp.clientId, c.fullApp.secret).getToken(SCOPE);
    const log = await sim.controls.requests({ surface: 'identity' });
    expect(log.some((r) => r.grantType === 'client_credentials' && r.status === 200)).toBe(true);
    expect(JSON.stringify(log)).not.toContain(c.fullApp.secret);
  });
});
