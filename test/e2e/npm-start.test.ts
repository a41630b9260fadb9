// `npm start` as a newcomer runs it: Azurite, the local host (and the simulated tenant) come up, health answers,
// Ctrl-C stops everything it started. Ports are OS-chosen so the test runs beside a real `npm start`.
import { connect } from 'node:net';
import { expect, it } from 'vitest';
import { spawnReady } from '../support/spawn-ready.js';

interface StartReady {
  hostUrl: string;
  authorityHost: string;
  graphBaseUrl: string;
  tenants: { tenantId: string; domains: string[]; clientId: string; clientSecret: string }[];
  functionKey: string;
  storageConnectionString: string;
  azurite: { blob: number; queue: number; table: number };
}

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

it('starts everything, answers GET /api/health with 200, and stops everything on SIGINT', async () => {
  const zeroPorts = {
    PORT: '0',
    M365_SIM_PORT: '0',
    AZURITE_BLOB_PORT: '0',
    AZURITE_QUEUE_PORT: '0',
    AZURITE_TABLE_PORT: '0',
  };
  const started = await spawnReady<StartReady>('dev/start.ts', zeroPorts, { timeoutMs: 30_000 });
  try {
    const { ready } = started;
    expect(ready.functionKey).toBe('local-dev-key');
    expect(ready.storageConnectionString).toContain(`QueueEndpoint=http://127.0.0.1:${ready.azurite.queue}/`);
    const res = await fetch(`${ready.hostUrl}/api/health`);
    expect(res.status).toBe(200);
    expect(await listening(ready.azurite.table)).toBe(true);

    // The product, as started, talks to the simulated tenant: create a connection from the ready line and test it.
    const [tenant] = ready.tenants;
    const key = { 'x-functions-key': ready.functionKey, 'content-type': 'application/json' };
    const created = await fetch(`${ready.hostUrl}/api/connections`, {
      method: 'POST',
      headers: key,
      body: JSON.stringify({
        name: 'e2e',
        tenantId: tenant!.tenantId,
        domain: tenant!.domains.at(-1),
        clientId: tenant!.clientId,
        clientSecret: tenant!.clientSecret,
        authorityHost: ready.authorityHost,
        graphEndpoint: ready.graphBaseUrl,
      }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const tested = (await (
      await fetch(`${ready.hostUrl}/api/connections/${id}/test`, { method: 'POST', headers: key })
    ).json()) as { ok: boolean; checks: unknown[] };
    expect(tested.ok, JSON.stringify(tested.checks)).toBe(true);

    const exited = new Promise<number | null>((resolve) => started.child.once('exit', (code) => resolve(code)));
    started.child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(await listening(ready.azurite.table)).toBe(false);
    expect(await listening(Number(new URL(ready.hostUrl).port))).toBe(false);
    expect(await listening(Number(new URL(ready.authorityHost).port))).toBe(false);
  } finally {
    await started.stop();
  }
});
