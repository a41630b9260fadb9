// The simulated tenant at 100,000 users: how long seeding takes, and how fast the real Graph client can page,
// filter and read through it (the simulator must not be the bottleneck of any product benchmark).
import { startSimulatedTenant } from '../dev/m365-sim/server.js';
import { DEV_TLS_DIR } from '../dev/paths.js';
import { ensureDevCertificates } from '../dev/tls/dev-certificates.js';
import {
  credentialForAuthority,
  DEFAULT_SEED,
  graphClientForBaseUrl,
  simControls,
} from '../test/support/simulated-tenant.js';

const USERS = Number(process.env.BENCH_SIM_USERS ?? 100_000);

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};
const ms = (n: number) => Math.round(n * 100) / 100;

export async function run(): Promise<Record<string, unknown>> {
  const certs = await ensureDevCertificates(DEV_TLS_DIR);
  const sim = await startSimulatedTenant({ tls: { cert: certs.serverCert, key: certs.serverKey }, throttling: false });
  try {
    const { contoso } = DEFAULT_SEED;
    const controls = simControls(sim.url);
    let t = performance.now();
    await controls.generateUsers(contoso.tenantId, USERS, 'bench');
    const seedMs = performance.now() - t;
    const graph = graphClientForBaseUrl(
      sim.graphBaseUrl,
      credentialForAuthority(sim.authorityHost, contoso.tenantId, contoso.fullApp.clientId, contoso.fullApp.secret),
    );
    await graph.api('/users').top(1).get(); // token + connection warm-up

    const pageTimes: number[] = [];
    let next: string | undefined = '/users?$top=999&$select=id,userPrincipalName,accountEnabled';
    let listed = 0;
    t = performance.now();
    while (next) {
      const started = performance.now();
      const page = (await graph.api(next).get()) as { value: unknown[]; '@odata.nextLink'?: string };
      pageTimes.push(performance.now() - started);
      listed += page.value.length;
      next = page['@odata.nextLink'];
    }
    const fullListMs = performance.now() - t;

    const filterTimes: number[] = [];
    for (let i = 0; i < 200; i++) {
      const upn = `bench${Math.floor((i * 7919) % USERS)}@${contoso.domain}`;
      const started = performance.now();
      await graph.api('/users').filter(`userPrincipalName eq '${upn}'`).select('id').get();
      filterTimes.push(performance.now() - started);
    }
    const rssMb = Math.round(process.memoryUsage().rss / 2 ** 20);
    const result = {
      users: USERS,
      listed,
      seedMs: Math.round(seedMs),
      page999: {
        pages: pageTimes.length,
        p50Ms: ms(percentile(pageTimes, 50)),
        p95Ms: ms(percentile(pageTimes, 95)),
        maxMs: ms(Math.max(...pageTimes)),
      },
      fullListMs: Math.round(fullListMs),
      filterEq: {
        requests: filterTimes.length,
        p50Ms: ms(percentile(filterTimes, 50)),
        p95Ms: ms(percentile(filterTimes, 95)),
      },
      rssMb,
    };
    console.table({
      'seed users': `${USERS} in ${result.seedMs} ms`,
      '$top=999 page (client round trip)': `p50 ${result.page999.p50Ms} ms, p95 ${result.page999.p95Ms} ms, max ${result.page999.maxMs} ms over ${result.page999.pages} pages`,
      'list all users': `${listed} in ${result.fullListMs} ms`,
      '$filter eq userPrincipalName': `p50 ${result.filterEq.p50Ms} ms, p95 ${result.filterEq.p95Ms} ms`,
      'process RSS (sim + client)': `${rssMb} MB`,
    });
    return result;
  } finally {
    await sim.close();
  }
}
