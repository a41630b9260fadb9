// What most component tests do through the HTTP API: make a connection to the simulated Contoso tenant (ready
// or not), submit a change, and wait for the executor's log record of it.
import { expect } from 'vitest';
import type { ConnectionView } from '../../shared/domain/connection.js';
import type { ProvisioningLogRecord } from '../../shared/domain/user-state.js';
import type { AppHost } from './app-host.js';
import { contosoConnection, type TestTenant } from './simulated-tenant.js';
import { uniqueName } from './unique.js';
import { waitFor } from './wait-for.js';

/** A directory person's attributes, valid for the default mapping (`who` names the test in given/display name). */
export const person = (userName: string, extra: Record<string, unknown> = {}, who = 'Test') => ({
  userName,
  givenName: who,
  familyName: userName.replace(/[^a-z]/gi, ''),
  displayName: `${who} ${userName}`,
  active: true,
  password: 'Initial-Pa55word!',
  ...extra,
});

export function provisioningApi(ctx: { app: AppHost; sim: TestTenant }, namePrefix: string) {
  /** A draft connection to Contoso with the full-permission app (plus any fields in `extra`). */
  async function createConnection(extra: Record<string, unknown> = {}): Promise<string> {
    const created = await ctx.app.api<ConnectionView>('POST', '/api/connections', {
      ...contosoConnection(ctx.sim, uniqueName(namePrefix)),
      ...extra,
    });
    expect(created.status, created.text).toBe(201);
    return created.body.id;
  }

  /** A connection with `settings` (if any) that a test has made ready. */
  async function readyConnection(settings?: Record<string, unknown>): Promise<string> {
    const id = await createConnection();
    if (settings) expect((await ctx.app.api('PUT', `/api/connections/${id}/settings`, settings)).status).toBe(200);
    const tested = await ctx.app.api<{ status: string }>('POST', `/api/connections/${id}/test`);
    expect(tested.body.status, tested.text).toBe('ready');
    return id;
  }

  /** POST …/changes with one change; answers its operation id. */
  async function submit(connectionId: string, change: Record<string, unknown>): Promise<string> {
    const res = await ctx.app.api<{ operations: { operationId: string }[] }>(
      'POST',
      `/api/connections/${connectionId}/changes`,
      change,
    );
    expect(res.status, res.text).toBe(202);
    return res.body.operations[0]!.operationId;
  }

  /** The user's log records, newest first (up to 500). */
  const logsOf = async (connectionId: string, externalId: string) =>
    (
      await ctx.app.api<{ value: ProvisioningLogRecord[] }>(
        'GET',
        `/api/connections/${connectionId}/logs?externalId=${encodeURIComponent(externalId)}&limit=500`,
      )
    ).body.value ?? [];

  /** The log record of an operation (with `result`, if given), once the executor has written it. */
  const logOf = (
    connectionId: string,
    externalId: string,
    operationId: string,
    result?: string,
  ): Promise<ProvisioningLogRecord> =>
    waitFor(
      async () =>
        (await logsOf(connectionId, externalId)).find(
          (r) => r.operationId === operationId && (result === undefined || r.result === result),
        ),
      {
        what: `${result ?? 'a'} log record of ${operationId}`,
        timeoutMs: 20_000,
        intervalMs: 100,
      },
    );

  /**
   * Creates `count` users with one POST …/changes and answers their object ids by externalId (in order) once every one
   * is linked.
   */
  async function linkedUsers(
    connectionId: string,
    count: number,
    who = 'Member',
    extra: { attributes?: Record<string, unknown>; licenses?: unknown[] } = {},
  ): Promise<Map<string, string>> {
    const prefix = uniqueName('m');
    const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
    const res = await ctx.app.api('POST', `/api/connections/${connectionId}/changes`, {
      changes: ids.map((externalId) => ({
        type: 'upsert',
        externalId,
        version: 1,
        attributes: person(externalId.toLowerCase(), extra.attributes ?? {}, who),
        ...(extra.licenses ? { licenses: extra.licenses } : {}),
      })),
    });
    expect(res.status, res.text).toBe(202);
    const linked = new Map<string, string>();
    await waitFor(
      async () => {
        for (const id of ids) {
          if (linked.has(id)) continue;
          const view = await ctx.app.api<{ link: { objectId: string } | null }>(
            'GET',
            `/api/connections/${connectionId}/users/${encodeURIComponent(id)}`,
          );
          if (view.body.link) linked.set(id, view.body.link.objectId);
        }
        return linked.size === ids.length ? true : undefined;
      },
      { what: `${count} users linked`, timeoutMs: 60_000, intervalMs: 250 },
    );
    return new Map(ids.map((id) => [id, linked.get(id)!]));
  }

  return { createConnection, readyConnection, submit, logsOf, logOf, linkedUsers };
}
