// The browser consent flow (authorization code + PKCE S256) end to end: our authorize redirect → the
// simulated tenant's authorize endpoint (auto-consent, or deny) → our callback → stored refresh token →
// access tokens by refresh for Graph. Plus every way the callback must refuse.
import { createHash } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { type ConnectionView, connectionViewSchema, testResultSchema } from '../../shared/domain/connection.js';
import { useAppWithTenant } from '../support/app-host.js';
import { DEFAULT_SEED } from '../support/simulated-tenant.js';

const contoso = DEFAULT_SEED.contoso;
const ctx = useAppWithTenant();
const table = (name: string) =>
  TableClient.fromConnectionString(inject('storageConnectionString'), name, { allowInsecureConnection: true });

afterEach(async () => {
  await ctx.sim.controls.interactive({ decision: 'approve' });
});

async function createOAuthConnection(): Promise<ConnectionView> {
  const res = await ctx.app.api<ConnectionView>('POST', '/api/connections', {
    name: 'Contoso (delegated)',
    tenantId: contoso.tenantId,
    domain: contoso.domain,
    clientId: contoso.fullApp.clientId,
    clientSecret: contoso.fullApp.secret,
    authMode: 'authorization_code',
    authorityHost: ctx.sim.authorityHost,
    graphEndpoint: ctx.sim.graphBaseUrl,
  });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

const getConnection = async (id: string) =>
  connectionViewSchema.parse((await ctx.app.api('GET', `/api/connections/${id}`)).body);

/** Our authorize redirect, then the identity platform's answer: the URL the browser is sent back to. */
async function consentRedirect(connectionId: string): Promise<{ authorize: URL; callback: URL }> {
  const start = await ctx.app.api('GET', `/api/connections/${connectionId}/authorize`);
  expect(start.status, start.text).toBe(302);
  const authorize = new URL(start.headers.get('location')!);
  const atTenant = await fetch(authorize, { redirect: 'manual' });
  expect(atTenant.status).toBe(302);
  return { authorize, callback: new URL(atTenant.headers.get('location')!) };
}

const land = (callback: URL) =>
  ctx.app.api<string>('GET', `${callback.pathname}${callback.search}`, undefined, { key: false });

describe('OAuth consent (authorization code + PKCE)', () => {
  it('authorize → consent → callback → authorised → test by refreshed delegated token → ready', async () => {
    const c = await createOAuthConnection();
    const { authorize, callback } = await consentRedirect(c.id);
    expect(`${authorize.origin}${authorize.pathname}`).toBe(
      `${ctx.sim.authorityHost}/${contoso.tenantId}/oauth2/v2.0/authorize`,
    );
    const q = authorize.searchParams;
    expect(Object.fromEntries(q)).toMatchObject({
      client_id: contoso.fullApp.clientId,
      response_type: 'code',
      redirect_uri: `${ctx.app.url}/api/oauth/callback`,
      code_challenge_method: 'S256',
      scope: 'https://graph.microsoft.com/.default offline_access',
    });
    expect(q.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(`${callback.origin}${callback.pathname}`).toBe(`${ctx.app.url}/api/oauth/callback`);
    expect(callback.searchParams.get('state')).toBe(q.get('state'));

    const page = await land(callback);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.text).toContain('Connected to Microsoft 365');
    // The page leads back to the console, on this connection's page.
    expect(page.text).toContain(`<a href="/api/console/#/connections/${c.id}">Back to the console</a>`);
    const authorised = await getConnection(c.id);
    expect(authorised.authorization.status).toBe('authorized');
    const stored = await table('connections').getEntity<{ refreshTokenCipher: string }>('connections', c.id);
    expect(stored.refreshTokenCipher).toMatch(/^v1\.test\./);

    const since = (await ctx.sim.controls.requests()).at(-1)?.seq ?? 0;
    const result = testResultSchema.parse((await ctx.app.api('POST', `/api/connections/${c.id}/test`)).body);
    expect(result.status, JSON.stringify(result.checks)).toBe('ready');
    expect(result.checks.find((x) => x.name === 'token')!.detail).toMatch(/delegated token/);
    expect(result.checks.find((x) => x.name === 'permissions')!.detail).toMatch(/delegated permissions \(scp\)/);
    // The access token came from the stored refresh token: one refresh grant, then Graph calls.
    const calls = await ctx.sim.controls.requests({ since });
    expect(calls.filter((r) => r.surface === 'identity').map((r) => r.grantType)).toEqual(['refresh_token']);
    expect(calls.filter((r) => r.surface === 'graph').length).toBeGreaterThanOrEqual(3);
  });

  it('answers the consent address as {url} to a script asking for JSON (the console), and it completes the same way', async () => {
    const c = await createOAuthConnection();
    const start = await ctx.app.api<{ url: string }>('GET', `/api/connections/${c.id}/authorize`, undefined, {
      headers: { accept: 'application/json' },
    });
    expect(start.status, start.text).toBe(200);
    expect(start.headers.get('cache-control')).toBe('no-store');
    const authorize = new URL(start.body.url);
    expect(`${authorize.origin}${authorize.pathname}`).toBe(
      `${ctx.sim.authorityHost}/${contoso.tenantId}/oauth2/v2.0/authorize`,
    );
    const atTenant = await fetch(authorize, { redirect: 'manual' });
    const page = await land(new URL(atTenant.headers.get('location')!));
    expect(page.status).toBe(200);
    expect((await getConnection(c.id)).authorization.status).toBe('authorized');

    const consent = await ctx.app.api<{ url: string }>('GET', `/api/connections/${c.id}/admin-consent`, undefined, {
      headers: { accept: 'application/json' },
    });
    expect(consent.status, consent.text).toBe(200);
    expect(new URL(consent.body.url).pathname).toBe(`/${contoso.tenantId}/v2.0/adminconsent`);
  });

  it('refuses a state it never issued (forged), without touching any connection', async () => {
    const page = await land(new URL(`${ctx.app.url}/api/oauth/callback?state=forged-state-value&code=abc`));
    expect(page.status).toBe(400);
    expect(page.text).toContain('This consent link is not valid');
    expect(page.text).toContain('<a href="/api/console/">Back to the console</a>');
    const noState = await land(new URL(`${ctx.app.url}/api/oauth/callback?code=abc`));
    expect(noState.status).toBe(400);
  });

  it('refuses a replayed state and records it on the connection, keeping the earlier authorisation', async () => {
    const c = await createOAuthConnection();
    const { callback } = await consentRedirect(c.id);
    expect((await land(callback)).status).toBe(200);
    const replay = await land(callback);
    expect(replay.status).toBe(400);
    expect(replay.text).toContain('already used');
    const after = await getConnection(c.id);
    expect(after.authorization.status).toBe('authorized');
    expect(after.lastAuthorizationError).toMatchObject({ error: 'replayed_state' });
  });

  it('refuses a state older than 10 minutes and records it', async () => {
    const c = await createOAuthConnection();
    const { authorize, callback } = await consentRedirect(c.id);
    const stateHash = createHash('sha256').update(authorize.searchParams.get('state')!).digest('hex');
    // Age the stored state past its 10-minute lifetime.
    await table('oauthstates').updateEntity(
      { partitionKey: 'oauth-state', rowKey: stateHash, expiresAt: new Date(Date.now() - 1000).toISOString() },
      'Merge',
    );
    const page = await land(callback);
    expect(page.status).toBe(400);
    expect(page.text).toContain('expired');
    const after = await getConnection(c.id);
    expect(after.authorization).toMatchObject({ status: 'failed', error: 'expired_state' });
  });

  it('shows a declined consent (error=access_denied) in plain words and records it', async () => {
    const c = await createOAuthConnection();
    await ctx.sim.controls.interactive({ decision: 'deny' });
    const { callback } = await consentRedirect(c.id);
    expect(callback.searchParams.get('error')).toBe('access_denied');
    const page = await land(callback);
    expect(page.status).toBe(403);
    expect(page.text).toContain('Consent was declined');
    expect((await getConnection(c.id)).authorization).toMatchObject({ status: 'failed', error: 'access_denied' });
  });

  it('reports a failed code exchange (invalid_grant) and records it', async () => {
    const c = await createOAuthConnection();
    const { callback } = await consentRedirect(c.id);
    callback.searchParams.set('code', 'tampered-code');
    const page = await land(callback);
    expect(page.status).toBe(502);
    expect(page.text).toContain('invalid_grant');
    expect((await getConnection(c.id)).authorization).toMatchObject({ status: 'failed', error: 'invalid_grant' });
  });

  it('marks the connection needs-attention when its refresh token is revoked', async () => {
    const c = await createOAuthConnection();
    expect((await land((await consentRedirect(c.id)).callback)).status).toBe(200);
    expect(testResultSchema.parse((await ctx.app.api('POST', `/api/connections/${c.id}/test`)).body).status).toBe(
      'ready',
    );
    // The tenant forgets every refresh token it issued (as when an admin revokes sessions).
    await ctx.sim.controls.reset();
    // Same secret again: a new credential is built, which must refresh.
    await ctx.app.api('PATCH', `/api/connections/${c.id}`, { clientSecret: contoso.fullApp.secret });
    const result = testResultSchema.parse((await ctx.app.api('POST', `/api/connections/${c.id}/test`)).body);
    expect(result.status).toBe('needs-attention');
    expect(result.checks[0]).toMatchObject({
      name: 'token',
      ok: false,
      detail: expect.stringMatching(/invalid_grant/),
    });
    expect((await getConnection(c.id)).statusReason).toMatch(/consent again/);
  });

  it('has no consent step for client-credentials connections', async () => {
    const res = await ctx.app.api<ConnectionView>('POST', '/api/connections', {
      name: 'App-only',
      tenantId: contoso.tenantId,
      domain: contoso.domain,
      clientId: contoso.fullApp.clientId,
      clientSecret: contoso.fullApp.secret,
    });
    const start = await ctx.app.api<{ code: string; detail: string }>(
      'GET',
      `/api/connections/${res.body.id}/authorize`,
    );
    expect(start.status).toBe(409);
    expect(start.body.code).toBe('not-authorization-code');
    expect(start.body.detail).toContain('/admin-consent');
  });

  it('sends an administrator to the admin-consent page and records the grant (client credentials too)', async () => {
    const res = await ctx.app.api<ConnectionView>('POST', '/api/connections', {
      name: 'App-only',
      tenantId: contoso.tenantId,
      domain: contoso.domain,
      clientId: contoso.fullApp.clientId,
      clientSecret: contoso.fullApp.secret,
      authorityHost: ctx.sim.authorityHost,
      graphEndpoint: ctx.sim.graphBaseUrl,
    });
    const start = await ctx.app.api('GET', `/api/connections/${res.body.id}/admin-consent`);
    expect(start.status).toBe(302);
    const consent = new URL(start.headers.get('location')!);
    expect(`${consent.origin}${consent.pathname}`).toBe(
      `${ctx.sim.authorityHost}/${contoso.tenantId}/v2.0/adminconsent`,
    );
    expect(Object.fromEntries(consent.searchParams)).toMatchObject({
      client_id: contoso.fullApp.clientId,
      scope: 'https://graph.microsoft.com/.default',
      redirect_uri: `${ctx.app.url}/api/oauth/callback`,
    });
    const back = await fetch(consent, { redirect: 'manual' });
    const callback = new URL(back.headers.get('location')!);
    expect(callback.searchParams.get('admin_consent')).toBe('True');
    const page = await land(callback);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Permissions granted');
    expect((await getConnection(res.body.id)).adminConsent).toEqual({ at: expect.any(String) });

    await ctx.sim.controls.interactive({ decision: 'deny' });
    const denied = await fetch(
      new URL((await ctx.app.api('GET', `/api/connections/${res.body.id}/admin-consent`)).headers.get('location')!),
      { redirect: 'manual' },
    );
    const deniedPage = await land(new URL(denied.headers.get('location')!));
    expect(deniedPage.status).toBe(403);
    expect((await getConnection(res.body.id)).lastAuthorizationError).toMatchObject({ error: 'access_denied' });
  });

  it('never shows a secret, a code verifier or a refresh token in any response or log', async () => {
    const everything = [...ctx.app.transcripts, ...ctx.app.logs.map((l) => l.message)].join('\n');
    expect(everything).not.toContain(contoso.fullApp.secret);
    expect(everything).not.toMatch(/refresh_token=|code_verifier=/);
  });
});
