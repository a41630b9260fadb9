// Hostile and careless input on the queues and the paths around them (issue 13), through the exit doors: raw
// messages of any bytes end as failure records in the log table (nothing lost, no `-poison-poison`), a poisoned
// reconciliation request ends its run record, a large change travels as a claim check and is applied, duplicates
// settle without Graph calls, and the OAuth redirect URI never comes from the Host header.
import { request as httpRequest } from 'node:http';
import { TableClient } from '@azure/data-tables';
import { QueueClient } from '@azure/storage-queue';
import fc from 'fast-check';
import { describe, expect, inject, it } from 'vitest';
import { PROVISIONING_QUEUE } from '../../shared/domain/change.js';
import type { ConnectionView } from '../../shared/domain/connection.js';
import { RECONCILIATION_QUEUE } from '../../shared/domain/reconciliation.js';
import type { ProvisioningLogRecord } from '../../shared/domain/user-state.js';
import { encodeMessage } from '../../shared/storage/operation-queue.queue.js';
import { useAppWithTenant } from '../support/app-host.js';
import { person, provisioningApi } from '../support/provisioning-api.js';
import { DEFAULT_SEED } from '../support/simulated-tenant.js';
import { uniqueName } from '../support/unique.js';
import { waitFor } from '../support/wait-for.js';

const contoso = DEFAULT_SEED.contoso;
const ctx = useAppWithTenant();
const storage = inject('storageConnectionString');
const queue = (name: string) => new QueueClient(storage, name);
const logTable = TableClient.fromConnectionString(storage, 'provisioninglogs', { allowInsecureConnection: true });

const { readyConnection, logsOf } = provisioningApi(ctx, 'hostile');

/** Every log row (raw, as stored) of a partition: the connection's, or `_unknown` for messages that name none. */
async function logRows(partition: string): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  await logTable.createTable(); // idempotent: the app creates it on its first record
  for await (const e of logTable.listEntities<Record<string, unknown>>({
    queryOptions: { filter: `PartitionKey eq '${partition}'` },
  }))
    rows.push(e);
  return rows;
}

/** The user's log records once one of them satisfies `predicate`. */
const logOf = (
  connectionId: string,
  externalId: string,
  predicate: (r: ProvisioningLogRecord) => boolean,
  timeoutMs = 20_000,
) =>
  waitFor(
    async () => {
      const records = await logsOf(connectionId, externalId);
      return records.some(predicate) ? records : undefined;
    },
    { what: `a log record of ${externalId}`, timeoutMs, intervalMs: 200 },
  );

const approximateCount = async (name: string) => {
  const q = queue(name);
  return (await q.exists()) ? ((await q.getProperties()).approximateMessagesCount ?? 0) : 0;
};

describe('queue messages of any content end as failure records', () => {
  it('records every fuzzed message on either queue — not base64, not UTF-8, not JSON, not a change — and keeps serving', async () => {
    const conn = await readyConnection();
    const provisioning = queue(PROVISIONING_QUEUE);
    const runs = queue(RECONCILIATION_QUEUE);
    await provisioning.createIfNotExists();
    await runs.createIfNotExists();
    const marker = (i: number) => `fz${i}x${Math.random().toString(36).slice(2, 8)}`;
    // Each message carries a marker its record can be found by. Seeded: the same cases every run.
    const cases = fc.sample(
      fc.oneof(
        // Not base64: the host cannot decode it, fails it five times and poisons it; the drain records it raw.
        // Any text a queue accepts: Azure Queue Storage refuses characters XML 1.0 does not allow (Azurite takes
        // them, then cannot return them: a test artefact, not a case a real queue can hold).
        fc.record({
          kind: fc.constant('raw' as const),
          body: fc
            .string({ unit: 'binary', maxLength: 300 })
            .map((t) => t.replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')),
        }),
        // Base64 of text that is not JSON.
        fc.record({ kind: fc.constant('text' as const), body: fc.string({ unit: 'grapheme', maxLength: 300 }) }),
        // Base64 of bytes that are not UTF-8.
        fc.record({
          kind: fc.constant('bytes' as const),
          body: fc
            .uint8Array({ minLength: 1, maxLength: 200 })
            .map((b) => Buffer.from([0xff, 0xfe, ...b]).toString('latin1')),
        }),
        // Base64 of JSON that is not a valid change (wrong types, unknown fields, lone surrogates, claim checks to nowhere).
        fc.record({
          kind: fc.constant('json' as const),
          body: fc
            .record({
              type: fc.oneof(fc.constantFrom('upsert', 'remove', 'rename'), fc.jsonValue()),
              connectionId: fc.constantFrom(conn, 'not-a-guid', undefined),
              externalId: fc.oneof(fc.string({ maxLength: 40 }), fc.constant('bad\ud800id'), fc.jsonValue()),
              version: fc.oneof(fc.integer({ min: -5, max: 5 }), fc.string({ maxLength: 5 })),
              extra: fc.option(fc.jsonValue({ maxDepth: 3 })),
              claimCheck: fc.option(fc.uuid()),
            })
            .map((o) => JSON.stringify(o)),
        }),
      ),
      { seed: 1313, numRuns: 40 },
    );
    // And one that carries secrets: its record must not keep them.
    const secretMarker = uniqueName('secret');
    await provisioning.sendMessage(
      `${secretMarker} {"password": "Hunter2-Secret!", "clientSecret":"abc~def"} not base64`,
    );
    const markers: string[] = [secretMarker];
    for (const [i, c] of cases.entries()) {
      const m = marker(i);
      markers.push(m);
      const text =
        c.kind === 'raw'
          ? `${m}!${c.body}` // "!" is never base64
          : c.kind === 'json'
            ? Buffer.from(c.body.replace(/^\{/, `{"operationId":"${m}",`), 'utf8').toString('base64')
            : Buffer.from(`${m}${c.body}`, c.kind === 'bytes' ? 'latin1' : 'utf8').toString('base64');
      // Both queue triggers: every fourth case goes to the reconciliation queue.
      await (i % 4 === 3 ? runs : provisioning).sendMessage(text);
    }
    // Each marker shows up in a record: its operation id, or the raw text kept.
    const found = await waitFor(
      async () => {
        const rows = [...(await logRows(conn)), ...(await logRows('_unknown'))];
        const missing = markers.filter(
          (m) => !rows.some((r) => r.operationId === m || String(r.rawMessage ?? '').includes(m)),
        );
        return missing.length === 0 ? rows : undefined;
      },
      { what: 'a failure record for every fuzzed message', timeoutMs: 90_000, intervalMs: 1000 },
    );
    const ours = found.filter((r) =>
      markers.some((m) => r.operationId === m || String(r.rawMessage ?? '').includes(m)),
    );
    const secretRow = ours.find((r) => String(r.rawMessage).includes(secretMarker))!;
    expect(secretRow.rawMessage).toContain('"password": "[redacted]"');
    expect(JSON.stringify(ours)).not.toMatch(/Hunter2|abc~def/);
    expect(ours.every((r) => r.result === 'failed')).toBe(true);
    expect(new Set(ours.map((r) => (JSON.parse(String(r.error)) as { code: unknown }).code))).toEqual(
      new Set(['unreadable-message', 'malformed-message', 'unreadable-run-request']),
    );
    // Nothing is left behind on a poison queue, and nothing ever reached a poison queue's poison queue.
    for (const name of [PROVISIONING_QUEUE, RECONCILIATION_QUEUE]) {
      await waitFor(async () => (await approximateCount(`${name}-poison`)) === 0, {
        what: `an empty ${name}-poison`,
        timeoutMs: 15_000,
        intervalMs: 500,
      });
      expect(await approximateCount(`${name}-poison-poison`)).toBe(0);
    }
    // The host still serves, and a valid change afterwards is applied.
    expect((await ctx.app.api('GET', '/api/health')).status).toBe(200);
    const ext = uniqueName('after-fuzz');
    await queue(PROVISIONING_QUEUE).sendMessage(
      encodeMessage({
        type: 'upsert',
        connectionId: conn,
        externalId: ext,
        version: 1,
        operationId: uniqueName('op'),
        attributes: person(uniqueName('after.fuzz')),
      }),
    );
    await logOf(conn, ext, (r) => r.result === 'applied');
  }, 150_000);

  it('a lone surrogate in an id is refused at once as invalid, not retried as a storage failure', async () => {
    const conn = await readyConnection();
    const operationId = uniqueName('surrogate');
    await queue(PROVISIONING_QUEUE).sendMessage(
      encodeMessage({
        type: 'upsert',
        connectionId: conn,
        externalId: 'sur\ud800rogate',
        version: 1,
        operationId,
        attributes: person('sur.rogate'),
      }),
    );
    const row = await waitFor(async () => (await logRows(conn)).find((r) => r.operationId === operationId), {
      what: 'the record',
      timeoutMs: 10_000,
      intervalMs: 200,
    });
    expect(row).toMatchObject({ result: 'failed', type: 'malformed', externalId: 'sur\ufffdrogate' });
    expect(JSON.parse(String(row.error))).toMatchObject({
      code: 'malformed-message',
      kind: 'invalid',
      message: expect.stringMatching(/externalId must be well-formed Unicode/),
    });
  });

  it('a poisoned reconciliation request ends its run record as failed; a malformed one is logged on its connection', async () => {
    const conn = await readyConnection();
    const started = await ctx.app.api<{ runId: string }>('POST', `/api/connections/${conn}/reconcile?dryRun=true`);
    expect(started.status).toBe(202);
    // As if the host had given up on a run request: it lands on the poison queue (here put there directly).
    const runId = '0000000000001-abcdef12';
    const poison = queue(`${RECONCILIATION_QUEUE}-poison`);
    await poison.createIfNotExists();
    await poison.sendMessage(
      encodeMessage({
        connectionId: conn,
        runId,
        trigger: 'manual',
        dryRun: false,
        full: false,
        requestedAt: new Date().toISOString(),
      }),
    );
    const run = await waitFor(
      async () => {
        const res = await ctx.app.api<{ status: string; reason?: string }>(
          'GET',
          `/api/connections/${conn}/runs/${runId}`,
        );
        return res.status === 200 && res.body.status === 'failed' ? res.body : undefined;
      },
      { what: 'the failed run record', timeoutMs: 20_000, intervalMs: 250 },
    );
    expect(run.reason).toMatch(/failed on every attempt/);

    const operationId = uniqueName('badrun');
    await queue(RECONCILIATION_QUEUE).sendMessage(encodeMessage({ connectionId: conn, runId: 42, operationId }));
    const row = await waitFor(async () => (await logRows(conn)).find((r) => r.operationId === operationId), {
      what: 'the record of the malformed request',
      timeoutMs: 15_000,
      intervalMs: 250,
    });
    expect(JSON.parse(String(row.error))).toMatchObject({ code: 'unreadable-run-request', kind: 'invalid' });
  }, 60_000);
});

describe('large changes and duplicates', () => {
  it('a change too large for a queue message travels as a claim check, is applied, and its stored body is deleted', async () => {
    const conn = await readyConnection();
    const ext = uniqueName('large');
    // ~120 KB of source attributes the mapping does not use (a directory's extra fields): legitimately large.
    const extras = Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`extra${i}`, `${i}-${'v'.repeat(1000)}`]));
    const res = await ctx.app.api<{ operations: { operationId: string }[] }>(
      'POST',
      `/api/connections/${conn}/changes`,
      {
        type: 'upsert',
        externalId: ext,
        version: 1,
        attributes: person('large.change', { jobTitle: 'Archivist', ...extras }),
      },
    );
    expect(res.status, res.text).toBe(202);
    const records = await logOf(conn, ext, (r) => r.result === 'applied');
    expect(records.find((r) => r.result === 'applied')).toMatchObject({
      action: 'create',
      operationId: res.body.operations[0]!.operationId,
    });
    expect(await ctx.sim.controls.user(contoso.tenantId, `large.change@${contoso.domain}`)).toMatchObject({
      jobTitle: 'Archivist',
    });
    const bodies = TableClient.fromConnectionString(storage, 'operationbodies', { allowInsecureConnection: true });
    await waitFor(
      async () => {
        const left: unknown[] = [];
        for await (const e of bodies.listEntities({ queryOptions: { filter: `PartitionKey eq '${conn}'` } }))
          left.push(e);
        return left.length === 0;
      },
      { what: 'the stored body to be deleted', timeoutMs: 10_000, intervalMs: 200 },
    );
  });

  it('20 copies of one change settle as one applied and 19 skipped, the copies without any Graph request', async () => {
    const conn = await readyConnection();
    const ext = uniqueName('dupe');
    const operationId = uniqueName('dupe-op');
    const message = encodeMessage({
      type: 'upsert',
      connectionId: conn,
      externalId: ext,
      version: 1,
      operationId,
      attributes: person(uniqueName('du.pe')),
    });
    const since = (await ctx.sim.controls.requests()).at(-1)?.seq ?? 0;
    const provisioning = queue(PROVISIONING_QUEUE);
    await Promise.all(Array.from({ length: 20 }, () => provisioning.sendMessage(message)));
    const records = await waitFor(
      async () => {
        const rows = await logOf(conn, ext, () => true);
        return rows.filter((r) => r.operationId === operationId).length >= 20 ? rows : undefined;
      },
      { what: '20 log records', timeoutMs: 60_000, intervalMs: 500 },
    );
    const results = records.map((r) => r.result).sort();
    expect(results.filter((r) => r === 'applied')).toHaveLength(1);
    expect(results.filter((r) => r === 'skipped')).toHaveLength(19);
    expect(records.filter((r) => r.result === 'skipped').every((r) => r.graphRequestIds.length === 0)).toBe(true);
    // The one applying operation's requests only: a lookup or two and the create, not a read per copy.
    const userRequests = (await ctx.sim.controls.requests({ since, surface: 'graph' })).filter((r) =>
      r.path.startsWith('/v1.0/users'),
    );
    expect(userRequests.length).toBeLessThanOrEqual(
      records.find((r) => r.result === 'applied')!.graphRequestIds.length,
    );
  }, 90_000);
});

describe('the OAuth redirect URI', () => {
  it("comes from the app's configured address, never from the Host header", async () => {
    const created = await ctx.app.api<ConnectionView>('POST', '/api/connections', {
      name: uniqueName('redirect'),
      tenantId: contoso.tenantId,
      domain: contoso.domain,
      clientId: contoso.fullApp.clientId,
      clientSecret: contoso.fullApp.secret,
      authMode: 'authorization_code',
      authorityHost: ctx.sim.authorityHost,
      graphEndpoint: ctx.sim.graphBaseUrl,
    });
    const url = new URL(`${ctx.app.url}/api/connections/${created.body.id}/authorize`);
    const location = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: url.port,
          path: url.pathname,
          headers: { host: 'evil.example', 'x-functions-key': ctx.app.host.functionKey },
        },
        (res) => {
          res.resume();
          if (res.statusCode !== 302) reject(new Error(`expected 302, got ${res.statusCode}`));
          resolve(String(res.headers.location));
        },
      );
      req.on('error', reject);
      req.end();
    });
    const redirectUri = new URL(location).searchParams.get('redirect_uri');
    expect(redirectUri).toBe(`http://${process.env.WEBSITE_HOSTNAME}/api/oauth/callback`);
    expect(redirectUri).not.toContain('evil.example');
  });
});
