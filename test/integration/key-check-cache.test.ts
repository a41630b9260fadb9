// With sign-in on, the app asks the Functions host whether it accepts a function key it was sent (its own
// GET /api/auth/key-check). A wrong key must not make every request cost such a self-call: a refused key is
// remembered for a short while, the same key asked concurrently is asked once, and un-remembered keys are checked at
// most a bounded number of times a minute per instance. Counted at the door: the app reaches the host through
// PUBLIC_BASE_URL, here a counting relay in front of the local host.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppHost, startAppHost } from '../support/app-host.js';

let app: AppHost;
let relay: Server;
/** The key-check requests the host was sent, by the key they carried. */
const keyChecks: string[] = [];

beforeAll(async () => {
  relay = createServer((req, res) => {
    void (async () => {
      const key = String(req.headers['x-functions-key'] ?? '');
      if (req.url?.startsWith('/api/auth/key-check')) keyChecks.push(key);
      const answer = await fetch(`${app.url}${req.url}`, { headers: { 'x-functions-key': key } });
      res.writeHead(answer.status).end(await answer.text());
    })();
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  process.env.PUBLIC_BASE_URL = `http://127.0.0.1:${(relay.address() as AddressInfo).port}`;
  // Sign-in on (the admin routes are anonymous and the app checks keys itself); no token is used here.
  process.env.ENTRA_TENANT_ID = '11111111-2222-4333-8444-555555555555';
  process.env.ENTRA_CLIENT_ID = '66666666-7777-4888-8999-000000000000';
  app = await startAppHost();
});

afterAll(async () => {
  await app?.stop();
  await new Promise((resolve) => relay?.close(resolve));
});

const withKey = (key: string) =>
  app.api('GET', '/api/connections', undefined, { key: false, headers: { 'x-functions-key': key } });
const checksFor = (key: string) => keyChecks.filter((k) => k === key).length;

describe('checking function keys with the host (sign-in on)', () => {
  it('asks the host once for a wrong key sent again and again, answering 401 each time', async () => {
    const wrong = 'wrong-key-repeated';
    for (let i = 0; i < 5; i++) {
      const res = await withKey(wrong);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ code: 'authentication-required' });
    }
    expect(checksFor(wrong)).toBe(1);
  });

  it('asks the host once for the same wrong key sent concurrently', async () => {
    const wrong = 'wrong-key-concurrent';
    const answers = await Promise.all(Array.from({ length: 8 }, () => withKey(wrong)));
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(401));
    expect(checksFor(wrong)).toBe(1);
  });

  it('asks once for the right key too, and never remembers a wrong key as right', async () => {
    for (let i = 0; i < 3; i++) expect((await withKey(app.host.functionKey)).status).toBe(200);
    expect(checksFor(app.host.functionKey)).toBe(1);
    expect((await withKey(`${app.host.functionKey}x`)).status).toBe(401);
  });

  it('checks at most 60 keys it does not know a minute: then 429 with Retry-After, and no more self-calls', async () => {
    const before = keyChecks.length;
    const answers = [];
    for (let i = 0; i < 70; i++) answers.push(await withKey(`wrong-key-${i}`));
    const checked = keyChecks.length - before;
    expect(checked).toBeLessThanOrEqual(60);
    const throttled = answers.filter((a) => a.status === 429);
    expect(throttled.length).toBe(70 - checked);
    expect(throttled[0]!.body).toMatchObject({ code: 'too-many-key-checks' });
    expect(Number(throttled[0]!.headers.get('retry-after'))).toBeGreaterThan(0);
    // The key it accepted before is still accepted without asking.
    expect((await withKey(app.host.functionKey)).status).toBe(200);
    expect(keyChecks.length - before).toBe(checked);
  });
});
