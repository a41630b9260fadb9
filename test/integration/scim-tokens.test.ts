// SCIM bearer tokens (issue 18): made per connection and shown once, stored only as a hash, several active,
// listed with their last use, revocable; the SCIM routes need no function key, and refuse a missing, wrong,
// revoked or other connection's token with a SCIM 401. Real local host, Azurite and simulated tenant.
import { createHash } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { describe, expect, inject, it } from 'vitest';
import { useAppWithTenant } from '../support/app-host.js';
import { expectScimError, newScimToken, scimEndpoint } from '../support/scim-client.js';

const ctx = useAppWithTenant();

describe('SCIM tokens', () => {
  it('a token is shown once, kept only as its hash, and opens only its own connection', async () => {
    const a = await scimEndpoint(ctx);
    const b = await scimEndpoint(ctx);
    expect(a.token).toMatch(/^m365scim\.[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}$/);

    // No function key is sent: the token is the credential.
    expect((await a.send('GET', '/Users')).status).toBe(200);
    expectScimError(await a.send('GET', '/Users', undefined, b.token), 401);
    expectScimError(await b.send('GET', '/Users', undefined, a.token), 401);
    const missing = await a.send('GET', '/Users', undefined, '');
    expectScimError(missing, 401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
    // The right token id with another secret, and a malformed one.
    expectScimError(await a.send('GET', '/Users', undefined, `${a.token.slice(0, -4)}AAAA`), 401);
    expectScimError(await a.send('GET', '/Users', undefined, 'not-a-token'), 401);
    // A function key is not a SCIM credential.
    const withKey = await fetch(`${a.base}/Users`, { headers: { 'x-functions-key': ctx.app.host.functionKey } });
    expect(withKey.status).toBe(401);

    const list = await ctx.app.api<{ value: { id: string; lastUsedAt?: string }[] }>(
      'GET',
      `/api/connections/${a.connectionId}/scim-tokens`,
    );
    expect(list.status).toBe(200);
    expect(list.body.value).toHaveLength(1);
    expect(list.body.value[0]!.lastUsedAt).toEqual(expect.any(String));
    expect(list.text).not.toContain(a.token.split('.')[2]);

    // Stored: the SHA-256, never the token.
    const table = TableClient.fromConnectionString(inject('storageConnectionString'), 'scim', {
      allowInsecureConnection: true,
    });
    const rows = [];
    for await (const e of table.listEntities({
      queryOptions: { filter: `PartitionKey eq '${a.connectionId}~tokens'` },
    }))
      rows.push(e);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.hash).toBe(createHash('sha256').update(a.token).digest('hex'));
    expect(JSON.stringify(rows)).not.toContain(a.token.split('.')[2]);
  });

  it('several tokens work at once for rotation; a revoked one is refused, the other still works; audited', async () => {
    const a = await scimEndpoint(ctx);
    const second = await newScimToken(ctx, a.connectionId);
    expect((await a.send('GET', '/ServiceProviderConfig', undefined, second)).status).toBe(200);
    expect((await a.send('GET', '/ServiceProviderConfig')).status).toBe(200);

    const firstId = a.token.split('.')[1]!;
    const revoked = await ctx.app.api('DELETE', `/api/connections/${a.connectionId}/scim-tokens/${firstId}`);
    expect(revoked.status, revoked.text).toBe(204);
    expectScimError(await a.send('GET', '/Users'), 401);
    expect((await a.send('GET', '/Users', undefined, second)).status).toBe(200);
    const again = await ctx.app.api<{ code: string }>(
      'DELETE',
      `/api/connections/${a.connectionId}/scim-tokens/${firstId}`,
    );
    expect(again.status).toBe(404);
    expect(again.body.code).toBe('scim-token-not-found');

    const audit = await ctx.app.api<{ value: { action: string; changes: unknown[] }[] }>(
      'GET',
      `/api/connections/${a.connectionId}/audit`,
    );
    expect(audit.body.value.map((e) => e.action)).toEqual(
      expect.arrayContaining(['scim-token.created', 'scim-token.revoked']),
    );
    expect(audit.text).not.toContain(second.split('.')[2]);
  });

  it('token management needs the function key; an unknown connection is a 404', async () => {
    const a = await scimEndpoint(ctx);
    const anonymous = await ctx.app.api('POST', `/api/connections/${a.connectionId}/scim-token`, {}, { key: false });
    expect(anonymous.status).toBe(401);
    const unknown = await ctx.app.api('POST', `/api/connections/${crypto.randomUUID()}/scim-token`, {});
    expect(unknown.status).toBe(404);
    // A SCIM request to a connection that is not a GUID, or does not exist: 404 / 401 in SCIM's format.
    const bad = await fetch(`${ctx.app.url}/api/scim/v2/not-a-guid/Users`, {
      headers: { authorization: `Bearer ${a.token}` },
    });
    expect(bad.status).toBe(404);
    expect(bad.headers.get('content-type')).toMatch(/^application\/scim\+json/);
  });

  it('deleting the connection forgets its SCIM tokens and resources; its token opens nothing any more', async () => {
    const a = await scimEndpoint(ctx);
    const created = await a.send('POST', '/Groups', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: 'Forgotten with the connection',
    });
    expect(created.status).toBe(201);
    const table = TableClient.fromConnectionString(inject('storageConnectionString'), 'scim', {
      allowInsecureConnection: true,
    });
    const partitions = async () => {
      const keys = new Set<string>();
      for await (const e of table.listEntities({
        queryOptions: {
          filter: `PartitionKey ge '${a.connectionId}' and PartitionKey lt '${a.connectionId}~~'`,
          select: ['PartitionKey'],
        },
      }))
        keys.add(e.partitionKey!);
      return [...keys].sort();
    };
    expect(await partitions()).toEqual([`${a.connectionId}~groups`, `${a.connectionId}~tokens`]);

    const deleted = await ctx.app.api('DELETE', `/api/connections/${a.connectionId}`);
    expect(deleted.status, deleted.text).toBe(200);
    expect(await partitions()).toEqual([]);
    expectScimError(await a.send('GET', '/Groups'), 401);
  });
});
