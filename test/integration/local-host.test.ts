// The local Functions host, through its exit doors: HTTP responses, queue contents, handler invocations.
import type { HttpRequest, InvocationContext, Timer } from '@azure/functions';
import { QueueClient } from '@azure/storage-queue';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { LogRecord } from '../../dev/host/host-logger.js';
import { parseHostJson } from '../../dev/host/host-settings.js';
import { type RunningLocalHost, startLocalHost } from '../../dev/host/local-host.js';
import { type FunctionDefinition, httpFunction, storageQueueFunction, timerFunction } from '../../functions/define.js';
import { uniqueName } from '../support/unique.js';
import { waitFor } from '../support/wait-for.js';

const connectionString = inject('storageConnectionString');
const KEY = 'test-key';
let running: RunningLocalHost[] = [];

afterEach(async () => {
  await Promise.all(running.map((h) => h.stop()));
  running = [];
});

async function host(
  definitions: FunctionDefinition[],
  queues: Record<string, unknown> = {},
  env: NodeJS.ProcessEnv = {},
) {
  const logs: LogRecord[] = [];
  const h = await startLocalHost({
    definitions,
    settings: parseHostJson({
      version: '2.0',
      extensions: { queues: { maxPollingInterval: '00:00:00.200', ...queues } },
    }),
    port: 0,
    functionKey: KEY,
    env: { AzureWebJobsStorage: connectionString, ...env },
    log: (r) => logs.push(r),
  });
  running.push(h);
  return { ...h, logs };
}

/** These routes exercise the host, not the app: their OpenAPI description is a placeholder. */
const openapi = { summary: 'host test route', responses: {} };

const queue = (name: string) => new QueueClient(connectionString, name);
/** Sends to a queue the listener may not have created yet (it creates it in the background). */
async function send(name: string, text: string) {
  const q = queue(name);
  await q.createIfNotExists();
  return q.sendMessage(text);
}
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');

describe('HTTP functions', () => {
  const echo = httpFunction({
    name: 'echo',
    route: 'items/{id}/parts/{part:int?}',
    methods: ['GET', 'POST'],
    authLevel: 'function',
    openapi,
    handler: async (request: HttpRequest, context: InvocationContext) => ({
      status: 201,
      headers: { 'x-echo': 'yes' },
      cookies: [{ name: 'session', value: 'abc', httpOnly: true, path: '/' }],
      jsonBody: {
        method: request.method,
        params: request.params,
        query: Object.fromEntries(request.query),
        header: request.headers.get('x-custom'),
        body: await request.text(),
        functionName: context.functionName,
        url: request.url,
      },
    }),
  });
  const open = httpFunction({
    name: 'open',
    route: 'items/special',
    methods: ['GET'],
    authLevel: 'anonymous',
    openapi,
    handler: async () => ({ body: 'literal wins' }),
  });
  const broken = httpFunction({
    name: 'broken',
    route: 'broken',
    methods: ['GET'],
    authLevel: 'anonymous',
    openapi,
    handler: async () => {
      throw new Error('boom');
    },
  });

  it('passes route params, query, headers and body to the handler and maps status, headers, cookies and jsonBody back', async () => {
    const h = await host([echo]);
    const res = await fetch(`${h.url}/api/items/a%20b/parts/7?x=1&y=two`, {
      method: 'POST',
      headers: { 'x-functions-key': KEY, 'x-custom': 'hello', 'content-type': 'text/plain' },
      body: 'payload',
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-echo')).toBe('yes');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('set-cookie')).toBe('session=abc; Path=/; HttpOnly');
    expect(await res.json()).toEqual({
      method: 'POST',
      params: { id: 'a b', part: '7' },
      query: { x: '1', y: 'two' },
      header: 'hello',
      body: 'payload',
      functionName: 'echo',
      url: `${h.url}/api/items/a%20b/parts/7?x=1&y=two`,
    });
  });

  it('accepts an omitted optional parameter and rejects a value that breaks its constraint', async () => {
    const h = await host([echo]);
    const ok = await fetch(`${h.url}/api/items/42/parts?code=${KEY}`);
    expect(ok.status).toBe(201);
    expect(((await ok.json()) as { params: unknown }).params).toEqual({ id: '42' });
    expect((await fetch(`${h.url}/api/items/42/parts/notanint?code=${KEY}`)).status).toBe(404);
  });

  it('requires the function key for authLevel function (header or ?code=) but not for anonymous routes', async () => {
    const h = await host([echo, open]);
    expect((await fetch(`${h.url}/api/items/1/parts`)).status).toBe(401);
    expect((await fetch(`${h.url}/api/items/1/parts`, { headers: { 'x-functions-key': 'wrong' } })).status).toBe(401);
    expect((await fetch(`${h.url}/api/items/1/parts?code=wrong`)).status).toBe(401);
    expect((await fetch(`${h.url}/api/items/1/parts`, { headers: { 'x-functions-key': KEY } })).status).toBe(201);
    expect((await fetch(`${h.url}/api/items/1/parts?code=${KEY}`)).status).toBe(201);
    expect((await fetch(`${h.url}/api/items/special`)).status).toBe(200);
  });

  it('prefers a literal route over a parameter that would also match', async () => {
    const h = await host([
      echo,
      open,
      httpFunction({
        name: 'byId',
        route: 'items/{id}',
        methods: ['GET'],
        authLevel: 'anonymous',
        openapi,
        handler: async () => ({ body: 'param' }),
      }),
    ]);
    expect(await (await fetch(`${h.url}/api/items/special`)).text()).toBe('literal wins');
    expect(await (await fetch(`${h.url}/api/items/other`)).text()).toBe('param');
  });

  it('answers 404 for an unknown route or a path outside /api, and 405 with Allow for a wrong method', async () => {
    const h = await host([echo, open]);
    expect((await fetch(`${h.url}/api/nothing-here`)).status).toBe(404);
    expect((await fetch(`${h.url}/items/special`)).status).toBe(404);
    const wrong = await fetch(`${h.url}/api/items/special`, { method: 'DELETE' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET');
  });

  it('answers 500 with no body when the handler throws, and logs the error for that invocation', async () => {
    const h = await host([broken]);
    const res = await fetch(`${h.url}/api/broken`);
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('');
    expect(h.logs.some((r) => r.category === 'broken' && r.level === 'error' && r.message.includes('boom'))).toBe(true);
  });

  it('routes context.log calls to the host log with the function name and invocation id', async () => {
    const h = await host([
      httpFunction({
        name: 'logs',
        route: 'logs',
        methods: ['GET'],
        authLevel: 'anonymous',
        openapi,
        handler: async (_r, ctx) => {
          ctx.warn('careful', 42);
          return { status: 204 };
        },
      }),
    ]);
    expect((await fetch(`${h.url}/api/logs`)).status).toBe(204);
    const record = h.logs.find((r) => r.category === 'logs');
    expect(record).toMatchObject({ level: 'warning', message: 'careful 42' });
    expect(record?.invocationId).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('storage queue functions', () => {
  it('decodes base64 JSON, passes the parsed object with id, dequeueCount and insertion time, then deletes the message', async () => {
    const name = uniqueName('q');
    const seen: { item: unknown; meta: Record<string, unknown> }[] = [];
    await host([
      storageQueueFunction({
        name: 'consume',
        queueName: name,
        handler: async (item, ctx) => void seen.push({ item, meta: ctx.triggerMetadata! }),
      }),
    ]);
    const sent = await send(name, b64({ hello: 'world', n: 1 }));
    await waitFor(() => seen.length === 1, { what: 'the message to be processed' });
    expect(seen[0]!.item).toEqual({ hello: 'world', n: 1 });
    expect(seen[0]!.meta).toMatchObject({
      id: sent.messageId,
      dequeueCount: 1,
      queueTrigger: '{"hello":"world","n":1}',
    });
    expect(Date.parse(String(seen[0]!.meta.insertionTime))).toBe(sent.insertedOn.getTime());
    await waitFor(async () => (await queue(name).getProperties()).approximateMessagesCount === 0, {
      what: 'the message to be deleted',
    });
  });

  it('passes a message that is not JSON as the decoded string', async () => {
    const name = uniqueName('q');
    const seen: unknown[] = [];
    await host([
      storageQueueFunction({ name: 'consume', queueName: name, handler: async (item) => void seen.push(item) }),
    ]);
    await send(name, Buffer.from('plain text').toString('base64'));
    await waitFor(() => seen.length === 1);
    expect(seen).toEqual(['plain text']);
  });

  it('resolves a %SETTING% queue name from the environment', async () => {
    const name = uniqueName('q');
    const seen: unknown[] = [];
    await host(
      [
        storageQueueFunction({
          name: 'consume',
          queueName: '%MY_QUEUE%',
          handler: async (item) => void seen.push(item),
        }),
      ],
      {},
      { MY_QUEUE: name },
    );
    await send(name, b64({ via: 'setting' }));
    await waitFor(() => seen.length === 1);
    expect(seen).toEqual([{ via: 'setting' }]);
  });

  it('moves a message that always fails to <queue>-poison, unchanged, after exactly maxDequeueCount attempts', async () => {
    const name = uniqueName('q');
    const attempts: number[] = [];
    await host(
      [
        storageQueueFunction({
          name: 'fails',
          queueName: name,
          handler: async (_item, ctx) => {
            attempts.push(ctx.triggerMetadata!.dequeueCount as number);
            throw new Error('always');
          },
        }),
      ],
      { maxDequeueCount: 3, visibilityTimeout: '00:00:00' },
    );
    const body = b64({ keep: 'me intact', unicode: 'Zoë' });
    await send(name, body);
    const poison = queue(`${name}-poison`);
    const poisoned = await waitFor(
      async () => {
        if (!(await poison.exists())) return undefined;
        const { peekedMessageItems } = await poison.peekMessages({ numberOfMessages: 32 });
        return peekedMessageItems.length > 0 ? peekedMessageItems : undefined;
      },
      { what: 'the poison queue to receive the message' },
    );
    expect(poisoned.map((m) => m.messageText)).toEqual([body]);
    expect(attempts).toEqual([1, 2, 3]);
    expect((await queue(name).peekMessages()).peekedMessageItems).toHaveLength(0);
  });

  it('keeps a failed message invisible for visibilityTimeout before the next attempt', async () => {
    const name = uniqueName('q');
    const attemptTimes: number[] = [];
    await host(
      [
        storageQueueFunction({
          name: 'flaky',
          queueName: name,
          handler: async () => {
            attemptTimes.push(Date.now());
            if (attemptTimes.length === 1) throw new Error('first time');
          },
        }),
      ],
      { visibilityTimeout: '00:00:02' },
    );
    await send(name, b64({}));
    await waitFor(() => attemptTimes.length === 2, { what: 'the retry' });
    expect(attemptTimes[1]! - attemptTimes[0]!).toBeGreaterThanOrEqual(1900);
  });

  it('runs at most batchSize + newBatchThreshold invocations at once and processes every message', async () => {
    const name = uniqueName('q');
    let active = 0;
    let peak = 0;
    const done = new Set<number>();
    await host(
      [
        storageQueueFunction({
          name: 'slow',
          queueName: name,
          handler: async (item) => {
            peak = Math.max(peak, ++active);
            await new Promise((r) => setTimeout(r, 150));
            active--;
            done.add((item as { n: number }).n);
          },
        }),
      ],
      { batchSize: 4, newBatchThreshold: 2 },
    );
    await Promise.all(Array.from({ length: 20 }, (_, n) => send(name, b64({ n }))));
    await waitFor(() => done.size === 20, { what: 'all 20 messages', timeoutMs: 20_000 });
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(6);
  });

  it('stops polling on stop() but lets a running invocation finish first', async () => {
    const name = uniqueName('q');
    const finished: unknown[] = [];
    let started = false;
    const h = await host([
      storageQueueFunction({
        name: 'slow',
        queueName: name,
        handler: async (item) => {
          started = true;
          await new Promise((r) => setTimeout(r, 500));
          finished.push(item);
        },
      }),
    ]);
    await send(name, b64({ first: true }));
    await waitFor(() => started);
    await h.stop();
    expect(finished).toEqual([{ first: true }]);
    await send(name, b64({ second: true }));
    await new Promise((r) => setTimeout(r, 600));
    expect(finished).toHaveLength(1);
    expect((await queue(name).peekMessages()).peekedMessageItems).toHaveLength(1);
  });
});

describe('timer functions', () => {
  it('fires on its NCRONTAB schedule (seconds field, UTC) with isPastDue false', async () => {
    const fired: { at: number; timer: Timer }[] = [];
    await host([
      timerFunction({
        name: 'tick',
        schedule: '*/1 * * * * *',
        handler: async (timer) => void fired.push({ at: Date.now(), timer }),
      }),
    ]);
    await waitFor(() => fired.length >= 2, { what: 'two ticks', timeoutMs: 5000 });
    expect(fired[0]!.timer.isPastDue).toBe(false);
    expect(new Date(fired[0]!.at).getUTCMilliseconds()).toBeLessThan(500);
    expect(fired[1]!.at - fired[0]!.at).toBeGreaterThanOrEqual(800);
    expect(Date.parse(fired[0]!.timer.scheduleStatus.next)).toBeGreaterThan(fired[0]!.at - 1000);
  });

  it('runs once at start with runOnStartup, even when the schedule is far away', async () => {
    const fired: Timer[] = [];
    await host([
      timerFunction({
        name: 'yearly',
        schedule: '0 0 0 1 1 *',
        runOnStartup: true,
        handler: async (t) => void fired.push(t),
      }),
    ]);
    await waitFor(() => fired.length === 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(fired).toHaveLength(1);
    expect(fired[0]!.isPastDue).toBe(false);
  });

  it('marks the run that follows an overrun as past due instead of overlapping runs', async () => {
    const runs: { isPastDue: boolean; start: number; end?: number }[] = [];
    await host([
      timerFunction({
        name: 'overrun',
        schedule: '* * * * * *',
        handler: async (t) => {
          const run: { isPastDue: boolean; start: number; end?: number } = {
            isPastDue: t.isPastDue,
            start: Date.now(),
          };
          runs.push(run);
          if (runs.length === 1) await new Promise((r) => setTimeout(r, 2300));
          run.end = Date.now();
        },
      }),
    ]);
    await waitFor(() => runs.length >= 2, { timeoutMs: 6000 });
    expect(runs[0]!.isPastDue).toBe(false);
    expect(runs[1]!.isPastDue).toBe(true);
    expect(runs[1]!.start).toBeGreaterThanOrEqual(runs[0]!.end!);
  });

  it('refuses a five-field cron expression at start-up, naming it', async () => {
    await expect(
      host([timerFunction({ name: 'bad', schedule: '*/5 * * * *', handler: async () => {} })]),
    ).rejects.toThrow(/\*\/5 \* \* \* \*.*six fields/);
  });
});

describe('shutdown', () => {
  it('lets an in-flight HTTP request finish when stopping', async () => {
    const h = await host([
      httpFunction({
        name: 'slow',
        route: 'slow',
        methods: ['GET'],
        authLevel: 'anonymous',
        openapi,
        handler: async () => {
          await new Promise((r) => setTimeout(r, 400));
          return { body: 'done' };
        },
      }),
    ]);
    const pending = fetch(`${h.url}/api/slow`);
    await new Promise((r) => setTimeout(r, 100));
    const stopped = h.stop();
    const res = await pending;
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('done');
    await stopped;
  });
});
