// `npm start` as a newcomer runs it: Azurite, the local host and the simulated tenant come up, health answers,
// Ctrl-C stops everything it started, and what was made survives a restart (`--fresh` starts empty). Ports are
// OS-chosen and the state lives in a temporary LOCAL_STATE_DIR, so the test runs beside a real `npm start` and
// never touches the repository's .local/.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInAs } from '../support/sign-in.js';
import { DEFAULT_SEED } from '../support/simulated-tenant.js';
import { type ReadyProcess, spawnReady } from '../support/spawn-ready.js';
import { waitFor } from '../support/wait-for.js';

interface StartReady {
  hostUrl: string;
  consoleUrl: string;
  authorityHost: string;
  graphBaseUrl: string;
  tenants: { tenantId: string; domains: string[]; clientId: string; clientSecret: string }[];
  functionKey: string;
  storageConnectionString: string;
  azurite: { blob: number; queue: number; table: number };
  state: { dir: string; storage: 'new' | 'restored'; simulatedTenant: 'seeded' | 'restored' };
  signIn: { authority: string; clientId: string; scopes: string[] } | null;
}

const zeroPorts = {
  PORT: '0',
  M365_SIM_PORT: '0',
  AZURITE_BLOB_PORT: '0',
  AZURITE_QUEUE_PORT: '0',
  AZURITE_TABLE_PORT: '0',
};

const listening = (port: number, host = '127.0.0.1') =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

let stateDir: string;
beforeAll(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'npm-start-state-'));
});
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

/**
 * `npm start [args]` with its state in `dir`; the key for secrets at rest is the one npm start keeps there.
 * `env` may pin a port: a connection remembers the simulated tenant's address, as with the fixed default ports.
 */
const start = (dir: string, args: string[] = [], env: NodeJS.ProcessEnv = {}) =>
  spawnReady<StartReady>(
    'dev/start.ts',
    { ...zeroPorts, LOCAL_STATE_DIR: dir, SECRETS_ENCRYPTION_KEYS: '', ...env },
    { timeoutMs: 60_000, args },
  );

async function stopWithCtrlC(started: ReadyProcess<StartReady>) {
  const exited = new Promise<number | null>((resolve) => started.child.once('exit', (code) => resolve(code)));
  started.child.kill('SIGINT');
  expect(await exited).toBe(0);
}

function api(ready: StartReady) {
  const headers = { 'x-functions-key': ready.functionKey, 'content-type': 'application/json' };
  return async <T = Record<string, unknown>>(method: string, path: string, body?: unknown) => {
    const res = await fetch(`${ready.hostUrl}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, text };
  };
}

/** The simulated tenant's stored user (also soft-deleted), through its test controls. */
const simUser = (ready: StartReady, objectId: string) =>
  fetch(`${ready.authorityHost}/_sim/tenants/${ready.tenants[0]!.tenantId}/users/${objectId}`);

describe('npm start', () => {
  it('starts everything on a localhost hostUrl, answers GET /api/health with 200, and stops everything on SIGINT', async () => {
    const started = await start(mkdtempSync(join(stateDir, 'health-')));
    try {
      const { ready } = started;
      // The OAuth redirect URI registered for local use is http://localhost/…; 127.0.0.1 would be another one.
      expect(ready.hostUrl).toMatch(/^http:\/\/localhost:\d+$/);
      const port = Number(new URL(ready.hostUrl).port);
      expect(ready.functionKey).toBe('local-dev-key');
      expect(ready.storageConnectionString).toContain(`QueueEndpoint=http://127.0.0.1:${ready.azurite.queue}/`);
      expect((await fetch(`${ready.hostUrl}/api/health`)).status).toBe(200);
      // The console's address carries nothing secret: the console asks for the key itself.
      expect(ready.consoleUrl).toBe(`${ready.hostUrl}/api/console/`);
      expect(ready.consoleUrl).not.toContain(ready.functionKey);
      const consolePage = await fetch(ready.consoleUrl);
      expect([consolePage.status, consolePage.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
      // Whichever loopback address `localhost` resolves to first on this machine, the host answers on it.
      expect((await fetch(`http://127.0.0.1:${port}/api/health`)).status).toBe(200);
      expect((await fetch(`http://[::1]:${port}/api/health`)).status).toBe(200);
      expect(await listening(ready.azurite.table)).toBe(true);

      await stopWithCtrlC(started);
      expect(await listening(ready.azurite.table)).toBe(false);
      expect(await listening(port)).toBe(false);
      expect(await listening(port, '::1')).toBe(false);
      expect(await listening(Number(new URL(ready.authorityHost).port))).toBe(false);
    } finally {
      await started.stop();
    }
  });

  it("--sign-in: the admin API takes the simulated tenant users' access tokens by app role, and still the function key", async () => {
    const started = await start(mkdtempSync(join(stateDir, 'sign-in-')), ['--sign-in']);
    try {
      const { ready } = started;
      const contoso = DEFAULT_SEED.contoso;
      expect(ready.signIn).toEqual({
        authority: `${ready.authorityHost}/${contoso.tenantId}`,
        clientId: contoso.consoleApp.clientId,
        scopes: [contoso.consoleApp.scope],
      });
      const config = await fetch(`${ready.hostUrl}/api/auth/config`);
      expect(((await config.json()) as { signIn: unknown }).signIn).toMatchObject(ready.signIn!);
      expect((await fetch(`${ready.hostUrl}/api/me`)).status).toBe(401);
      const me = async (headers: Record<string, string>) =>
        (await (await fetch(`${ready.hostUrl}/api/me`, { headers })).json()) as { canWrite: boolean; roles: string[] };
      expect(await me({ 'x-functions-key': ready.functionKey })).toMatchObject({ canWrite: true });
      const reader = await signInAs(ready, 'adele.vance@contoso.example');
      expect(await me({ authorization: `Bearer ${reader}` })).toEqual(
        expect.objectContaining({ roles: ['Provisioning.Reader'], canWrite: false }),
      );
      const refused = await fetch(`${ready.hostUrl}/api/connections`, {
        method: 'POST',
        headers: { authorization: `Bearer ${reader}`, 'content-type': 'application/json' },
        body: '{}',
      });
      expect(refused.status).toBe(403);
    } finally {
      await started.stop();
    }
  });

  it('remembers connections, users and the simulated accounts across a restart; --fresh starts empty', async () => {
    const dir = mkdtempSync(join(stateDir, 'remember-'));
    let started = await start(dir);
    try {
      let { ready } = started;
      expect(ready.state).toEqual({ dir, storage: 'new', simulatedTenant: 'seeded' });
      const [tenant] = ready.tenants;
      const created = await api(ready)<{ id: string }>('POST', '/api/connections', {
        name: 'remembered',
        tenantId: tenant!.tenantId,
        domain: tenant!.domains.at(-1),
        clientId: tenant!.clientId,
        clientSecret: tenant!.clientSecret,
        authorityHost: ready.authorityHost,
        graphEndpoint: ready.graphBaseUrl,
      });
      expect(created.status, created.text).toBe(201);
      const id = created.body.id;
      const tested = await api(ready)<{ ok: boolean; status: string }>('POST', `/api/connections/${id}/test`);
      expect(tested.body.status, tested.text).toBe('ready');
      const submitted = await api(ready)('POST', `/api/connections/${id}/changes`, {
        type: 'upsert',
        externalId: 'emp-remember',
        version: 1,
        attributes: {
          userName: 'rita.remember',
          givenName: 'Rita',
          familyName: 'Remember',
          displayName: 'Rita Remember',
          active: true,
          password: 'Initial-Pa55word!',
        },
      });
      expect(submitted.status, submitted.text).toBe(202);
      const provisioned = await waitFor(
        async () => {
          const user = await api(ready)<{ status: string; link: { objectId: string } | null }>(
            'GET',
            `/api/connections/${id}/users/emp-remember`,
          );
          return user.body?.status === 'applied' ? user.body : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 250, what: 'the user applied' },
      );
      const objectId = provisioned.link!.objectId;
      expect((await simUser(ready, objectId)).status).toBe(200);

      await stopWithCtrlC(started);
      expect(existsSync(join(dir, 'm365-sim-state.json'))).toBe(true);

      // Started again: the connection (still ready: its secret decrypts with the kept key), the user row and the
      // account in the simulated tenant are all still there.
      const samePlace = { M365_SIM_PORT: new URL(ready.authorityHost).port };
      started = await start(dir, [], samePlace);
      ready = started.ready;
      expect(ready.state).toEqual({ dir, storage: 'restored', simulatedTenant: 'restored' });
      const connection = await api(ready)<{ name: string; status: string }>('GET', `/api/connections/${id}`);
      expect(connection.status, connection.text).toBe(200);
      expect(connection.body).toMatchObject({ name: 'remembered', status: 'ready' });
      const user = await api(ready)<{ status: string; link: { objectId: string; userPrincipalName: string } }>(
        'GET',
        `/api/connections/${id}/users/emp-remember`,
      );
      expect(user.status, user.text).toBe(200);
      expect(user.body).toMatchObject({ status: 'applied', link: { objectId } });
      const account = await simUser(ready, objectId);
      expect(account.status).toBe(200);
      expect(await account.json()).toMatchObject({ id: objectId, displayName: 'Rita Remember', deleted: false });
      const retested = await api(ready)<{ ok: boolean; checks: unknown[] }>('POST', `/api/connections/${id}/test`);
      expect(retested.body.ok, retested.text).toBe(true);
      await stopWithCtrlC(started);

      // --fresh: no connection, no user, and the simulated tenant is back to its seed.
      started = await start(dir, ['--fresh'], samePlace);
      ready = started.ready;
      expect(ready.state).toEqual({ dir, storage: 'new', simulatedTenant: 'seeded' });
      const list = await api(ready)<{ value: unknown[] }>('GET', '/api/connections');
      expect(list.body.value).toEqual([]);
      expect((await simUser(ready, objectId)).status).toBe(404);
      await stopWithCtrlC(started);
    } finally {
      await started.stop();
    }
  }, 180_000);

  it('starts from the seed, saying why, when the saved simulated tenant cannot be read', async () => {
    const dir = mkdtempSync(join(stateDir, 'corrupt-'));
    writeFileSync(join(dir, 'm365-sim-state.json'), '{"format":"m365-sim-state","version":1,"tenants":[{"id":');
    const started = await start(dir);
    try {
      expect(started.ready.state).toEqual({ dir, storage: 'new', simulatedTenant: 'seeded' });
      expect(started.stderr()).toMatch(/saved state .*m365-sim-state\.json.* could not be read/);
      expect(started.stderr()).toMatch(/starting from the seed/);
      expect(started.ready.tenants.length).toBeGreaterThan(0);
      // The unreadable file is kept aside for a look, not overwritten.
      const kept = started.stderr().match(/kept as (\S+m365-sim-state\.json\.unreadable-\d+)\)/)?.[1];
      expect(kept && readFileSync(kept, 'utf8')).toContain('"tenants":[{"id":');
      await stopWithCtrlC(started);
    } finally {
      await started.stop();
    }
  }, 90_000);
});
