// The local host as `npm start` runs it (dev/host/main.ts in its own process), with the app's real functions.
import { afterEach, describe, expect, inject, it } from 'vitest';
import { ExitedEarly, type ReadyProcess, spawnReady } from '../support/spawn-ready.js';

interface HostReady {
  hostUrl: string;
  functionKey: string;
}
const started: ReadyProcess<HostReady>[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.stop()));
});

async function startHost(env: NodeJS.ProcessEnv) {
  const p = await spawnReady<HostReady>('dev/host/main.ts', { PORT: '0', ...env });
  started.push(p);
  return p;
}

describe('GET /api/health', () => {
  it('answers 200 with each storage service reachable', async () => {
    const { ready } = await startHost({ AzureWebJobsStorage: inject('storageConnectionString') });
    const res = await fetch(`${ready.hostUrl}/api/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; checks: { name: string; ok: boolean }[] };
    expect(body.status).toBe('healthy');
    expect(body.checks.map((c) => [c.name, c.ok])).toEqual([
      ['tableStorage', true],
      ['queueStorage', true],
    ]);
  });

  it('answers 503 problem+json naming the unreachable dependencies', async () => {
    // Port 9 on loopback: nothing listens, the connection is refused at once.
    const deadStorage = inject('storageConnectionString').replace(/http:\/\/127\.0\.0\.1:\d+/g, 'http://127.0.0.1:9');
    const { ready } = await startHost({ AzureWebJobsStorage: deadStorage });
    const res = await fetch(`${ready.hostUrl}/api/health`);
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const body = (await res.json()) as { code: string; failedDependencies: string[]; detail: string };
    expect(body.code).toBe('dependency-unavailable');
    expect(body.failedDependencies).toEqual(['tableStorage', 'queueStorage']);
    expect(body.detail).toContain('tableStorage');
    expect(JSON.stringify(body)).not.toContain('AccountKey');
  });
});

describe('start-up', () => {
  it('prints a ready line with the host URL and the function key from LOCAL_FUNCTION_KEY', async () => {
    const { ready, stderr } = await startHost({
      AzureWebJobsStorage: inject('storageConnectionString'),
      LOCAL_FUNCTION_KEY: 'k-123',
    });
    expect(ready.hostUrl).toMatch(/^http:\/\/localhost:\d+$/);
    expect(ready.functionKey).toBe('k-123');
    expect(stderr()).toContain('function key: k-123');
  });

  it('refuses to start without a storage setting, naming it', async () => {
    const failure = await startHost({ AzureWebJobsStorage: '' }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ExitedEarly);
    expect((failure as ExitedEarly).code).toBe(1);
    expect((failure as ExitedEarly).stderr).toMatch(/AzureWebJobsStorage is required/);
  });
});
