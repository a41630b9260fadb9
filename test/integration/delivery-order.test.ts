// At-least-once and out-of-order delivery: every message twice, all shuffled, processed concurrently by the
// queue trigger (batchSize 16). The end state in Microsoft 365 must be what one in-order delivery gives:
// one account per person, the newest version's values, nothing lost.
import { QueueClient } from '@azure/storage-queue';
import { expect, inject, it } from 'vitest';
import { type OperationMessage, PROVISIONING_QUEUE } from '../../shared/domain/change.js';
import type { ConnectionView } from '../../shared/domain/connection.js';
import { encodeMessage } from '../../shared/storage/operation-queue.queue.js';
import { useAppWithTenant } from '../support/app-host.js';
import { shuffle } from '../support/shuffle.js';
import { DEFAULT_SEED } from '../support/simulated-tenant.js';
import { uniqueName } from '../support/unique.js';
import { waitFor } from '../support/wait-for.js';

const contoso = DEFAULT_SEED.contoso;
const ctx = useAppWithTenant();

it('ends in the in-order state after duplicated, shuffled, concurrent delivery', async () => {
  const created = await ctx.app.api<ConnectionView>('POST', '/api/connections', {
    name: 'order',
    tenantId: contoso.tenantId,
    domain: contoso.domain,
    clientId: contoso.fullApp.clientId,
    clientSecret: contoso.fullApp.secret,
    authorityHost: ctx.sim.authorityHost,
    graphEndpoint: ctx.sim.graphBaseUrl,
  });
  const connectionId = created.body.id;
  expect((await ctx.app.api<{ status: string }>('POST', `/api/connections/${connectionId}/test`)).body.status).toBe(
    'ready',
  );

  const tag = uniqueName('o').slice(-6);
  const people = Array.from({ length: 8 }, (_, i) => ({
    externalId: `order-${tag}-${i}`,
    userName: `order${i}.${tag}`,
    last: i % 2 === 0 ? 4 : 3,
  }));
  const messages: OperationMessage[] = people.flatMap((p) => {
    const attrs = (jobTitle: string, active = true) => ({
      userName: p.userName,
      givenName: 'Order',
      familyName: `P${p.userName}`,
      active,
      jobTitle,
      password: 'Initial-Pa55word!',
    });
    const m = (
      version: number,
      type: OperationMessage['type'],
      attributes?: Record<string, unknown>,
    ): OperationMessage =>
      ({
        type,
        connectionId,
        externalId: p.externalId,
        version,
        operationId: `${p.externalId}-v${version}`,
        ...(attributes ? { attributes } : {}),
      }) as OperationMessage;
    // In order: created, updated, deactivated, then (for even-numbered people) updated and active again.
    const history = [m(1, 'upsert', attrs('v1')), m(2, 'upsert', attrs('v2')), m(3, 'deactivate')];
    return p.last === 4 ? [...history, m(4, 'upsert', attrs('v4'))] : history;
  });
  const delivered = shuffle([...messages, ...messages], 20261123);

  const since = (await ctx.sim.controls.requests()).at(-1)?.seq ?? 0;
  const queue = new QueueClient(inject('storageConnectionString'), PROVISIONING_QUEUE);
  await queue.createIfNotExists();
  await Promise.all(delivered.map((m) => queue.sendMessage(encodeMessage(m))));

  // Every user has received all its changes and Microsoft 365 reflects them (each duplicate and older version
  // ends as a skip, never a failure).
  for (const p of people) {
    await waitFor(
      async () => {
        const res = await ctx.app.api<{
          inSync: boolean;
          status: string;
          desired: { profile?: { version: number }; lifecycle?: { version: number } };
        }>('GET', `/api/connections/${connectionId}/users/${p.externalId}`);
        const desired = res.body.desired;
        return (
          res.status === 200 &&
          res.body.inSync &&
          desired.profile?.version === (p.last === 4 ? 4 : 2) &&
          desired.lifecycle?.version === p.last
        );
      },
      { what: `${p.externalId} in sync at version ${p.last}`, timeoutMs: 60_000, intervalMs: 200 },
    );
  }

  // The in-order end state: v4 people active with the v4 title; v3 people disabled, with the v2 title.
  for (const p of people) {
    const account = await ctx.sim.controls.user(contoso.tenantId, `${p.userName}@${contoso.domain}`);
    expect(account, p.externalId).toMatchObject(
      p.last === 4
        ? { jobTitle: 'v4', accountEnabled: true, deleted: false }
        : { jobTitle: 'v2', accountEnabled: false, deleted: false },
    );
  }
  // Exactly one successful create per person, whatever the duplicates and races.
  const creates = (await ctx.sim.controls.requests({ since, surface: 'graph' })).filter(
    (r) => r.method === 'POST' && r.path === '/v1.0/users' && r.status === 201,
  );
  expect(creates.map((r) => (r.body as { userPrincipalName: string }).userPrincipalName).sort()).toEqual(
    people.map((p) => `${p.userName}@${contoso.domain}`).sort(),
  );
  // Nothing failed along the way.
  const failed = await ctx.app.api<{ value: unknown[] }>(
    'GET',
    `/api/connections/${connectionId}/logs?status=failed&limit=100`,
  );
  expect(failed.body.value).toEqual([]);
});
