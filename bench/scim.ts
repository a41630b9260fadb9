// SCIM creates over HTTP (issue 18): N `POST /Users` (default 1,000) sent as Entra ID / Okta send them, with a
// bearer token, `--concurrency` at a time, to the app on the local Functions host as a real process, against the
// simulated tenant with Graph's documented limits (time scale 1 by default). Prints the SCIM response times (p50,
// p95, p99, max) and the time until every user is in Microsoft 365 (its create applied, from the log); asserts
// nothing.
//
//   npm run bench -- scim [--users 1000] [--concurrency 8] [--time-scale 1]
import { TableClient } from '@azure/data-tables';
import { arg, benchSeed, pct, round, startBenchEnvironment } from './environment.js';

export async function run(): Promise<Record<string, unknown>> {
  const users = arg('users', 1000);
  const concurrency = arg('concurrency', 8);
  const timeScale = arg('time-scale', 1);
  const env = await startBenchEnvironment({ timeScale, throttling: true, seed: benchSeed(100) });
  try {
    const connectionId = await env.createReadyConnection('bench-scim');
    const { token } = await env.api<{ token: string }>('POST', `/api/connections/${connectionId}/scim-token`, {});
    const base = `${env.host.ready.hostUrl}/api/scim/v2/${connectionId}`;
    const body = (i: number) =>
      JSON.stringify({
        schemas: [
          'urn:ietf:params:scim:schemas:core:2.0:User',
          'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
        ],
        externalId: `ext-${i}`,
        userName: `scimbench${i}@source.example`,
        active: true,
        displayName: `SCIM Bench ${i}`,
        name: { givenName: 'SCIM', familyName: `Bench${i}` },
        emails: [{ primary: true, type: 'work', value: `scimbench${i}@source.example` }],
        title: 'Analyst',
        password: 'Initial-Pa55word!',
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'Bench', employeeNumber: `${i}` },
      });
    console.error(`${users} SCIM creates, ${concurrency} at a time (time scale ${timeScale}×)…`);
    await env.controls.clearRequests();
    const latencies: number[] = [];
    const statuses: Record<number, number> = {};
    const ids: string[] = [];
    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < users) {
          const i = next++;
          const sent = performance.now();
          const res = await fetch(`${base}/Users`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
            body: body(i),
          });
          const answer = (await res.json()) as { id?: string };
          latencies.push(performance.now() - sent);
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          if (answer.id) ids.push(answer.id);
        }
      }),
    );
    const answeredS = (Date.now() - started) / 1000;
    // Every user in Microsoft 365: its create applied (the executor's log record).
    const logs = TableClient.fromConnectionString(env.azurite.connectionString, 'provisioninglogs', {
      allowInsecureConnection: true,
    });
    await logs.createTable();
    const wanted = new Set(ids);
    const applied = new Map<string, number>();
    const deadline = Date.now() + 30 * 60_000;
    while (applied.size < wanted.size && Date.now() < deadline) {
      for await (const e of logs.listEntities<{ externalId: string; result: string; time: string }>({
        queryOptions: { filter: `PartitionKey eq '${connectionId}' and result eq 'applied'` },
      }))
        if (wanted.has(e.externalId) && !applied.has(e.externalId)) applied.set(e.externalId, Date.parse(e.time));
      if (applied.size < wanted.size) await new Promise((r) => setTimeout(r, 1000));
    }
    const lastApplied = Math.max(...applied.values());
    const stats = await env.simStats();
    latencies.sort((a, b) => a - b);
    const result = {
      timeScale,
      users,
      concurrency,
      statuses,
      scimResponseMs: {
        p50: round(pct(latencies, 50)),
        p95: round(pct(latencies, 95)),
        p99: round(pct(latencies, 99)),
        max: round(latencies.at(-1) ?? 0),
      },
      allAnsweredSeconds: round(answeredS),
      scimRequestsPerSecond: round(users / answeredS),
      inMicrosoft365: applied.size,
      allInMicrosoft365Seconds: round((lastApplied - started) / 1000),
      graphRequests: stats.graphRequests,
      graphWrites: stats.graphWrites,
      throttled429: stats.throttled,
      hostPeakRssMb: env.hostPeakRssMb(),
    };
    console.table(
      Object.fromEntries(Object.entries(result).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : v])),
    );
    return result;
  } finally {
    await env.close();
  }
}
