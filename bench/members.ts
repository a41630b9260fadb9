// Membership sync of one large group (issue 16): the simulated tenant holds N accounts and the directory N linked
// user rows; one group change whose members are all N goes through the real path (POST /changes → queue → local
// host process → Graph) with Graph's documented limits (time scale 1 by default), and then the same group is
// provisioned again with nothing changed. Prints the Graph writes used against the minimum ⌈N/20⌉ (20 members bound
// per write: the create's members@odata.bind, then PATCH members@odata.bind), wall time and 429s; asserts nothing.
// A change lists at most 5,000 references, so the source sends the N members as nested directory groups of 5,000
// (nestedGroups flatten, the default: their members become the group's direct members); those are provisioned first,
// and only the large group's own operation is measured.
//
//   npm run bench -- members [--members 10000] [--time-scale 1]
import { TableClient, type TransactionAction } from '@azure/data-tables';
import { linkEntity, userEntity } from '../shared/storage/user-state-repository.table.js';
import { arg, benchSeed, round, startBenchEnvironment } from './environment.js';

const WRITE_QUOTA = { writes: 3000, windowS: 150 };
const PREFIX = 'mem';
/** A group change lists at most this many references (group-drift.ts). */
const PER_CHANGE = 5_000;

interface LogEntity {
  operationId: string;
  externalId: string;
  time: string;
  result: string;
  durationMs: number;
}

export async function run(): Promise<Record<string, unknown>> {
  const members = arg('members', 10_000);
  const timeScale = arg('time-scale', 1);
  const env = await startBenchEnvironment({ timeScale, throttling: true, seed: benchSeed(100) });
  const { azurite, controls } = env;
  try {
    // --- Set up (throttling off while the bench itself writes): N accounts in the tenant, N linked user rows.
    await controls.settings({ throttling: false });
    const connectionId = await env.createReadyConnection('bench-members');
    const { DEFAULT_SEED, credentialForAuthority, graphClientForBaseUrl } =
      await import('../test/support/simulated-tenant.js');
    const { contoso } = DEFAULT_SEED;
    console.error(`seeding ${members} accounts and linked user rows…`);
    await controls.generateUsers(contoso.tenantId, members, PREFIX);
    const graph = graphClientForBaseUrl(
      env.sim.graphBaseUrl,
      credentialForAuthority(env.sim.authorityHost, contoso.tenantId, contoso.fullApp.clientId, contoso.fullApp.secret),
    );
    const accounts: { id: string; userPrincipalName: string }[] = [];
    let next: string | undefined = '/users?$top=999&$select=id,userPrincipalName';
    while (next) {
      const page = (await graph.api(next).get()) as {
        value: { id: string; userPrincipalName: string }[];
        '@odata.nextLink'?: string;
      };
      accounts.push(...page.value.filter((u) => u.userPrincipalName.startsWith(PREFIX)));
      next = page['@odata.nextLink'];
    }
    if (accounts.length !== members)
      throw new Error(`expected ${members} generated accounts, found ${accounts.length}`);
    const externalId = (i: number) => `m${i}`;
    const at = new Date().toISOString();
    const users = TableClient.fromConnectionString(azurite.connectionString, 'users', {
      allowInsecureConnection: true,
    });
    await users.createTable();
    const batches: TransactionAction[][] = [];
    for (let b = 0; b < members; b += 100) {
      const slice = accounts.slice(b, b + 100).map((a, j) => ({ a, i: b + j }));
      batches.push(
        slice.map(({ a, i }): TransactionAction => [
          'create',
          userEntity({
            connectionId,
            externalId: externalId(i),
            desired: {
              profile: { version: 1, attributes: { userName: a.userPrincipalName } },
              lifecycle: { version: 1, state: 'active', explicit: false },
            },
            appliedVersion: 1,
            appliedDesired: { profile: 1, lifecycle: 1 },
            objectId: a.id,
            userPrincipalName: a.userPrincipalName,
            status: 'applied',
            ownedLicenses: [],
            createdAt: at,
            updatedAt: at,
          }),
        ]),
        slice.map(({ a, i }): TransactionAction => ['create', linkEntity(connectionId, a.id, externalId(i))]),
      );
    }
    let done = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (done < batches.length) await users.submitTransaction(batches[done++]!);
      }),
    );
    await controls.settings({ throttling: true });

    // --- One group change naming every member.
    const logs = TableClient.fromConnectionString(azurite.connectionString, 'provisioninglogs', {
      allowInsecureConnection: true,
    });
    const groupExternalId = `bench-${members}`;
    await logs.createTable();
    const logOf = async (operationId: string) => {
      for (;;) {
        for await (const e of logs.listEntities<LogEntity>({
          queryOptions: { filter: `PartitionKey eq '${connectionId}' and operationId eq '${operationId}'` },
        }))
          return e;
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    /** Waits until the group is in sync (a create that replication delayed comes back by itself). */
    const groupInSync = async () => {
      for (;;) {
        const view = await env.api<{ inSync: boolean; status: string; link: { objectId: string } | null }>(
          'GET',
          `/api/connections/${connectionId}/groups/${groupExternalId}`,
        );
        if (view.inSync && view.link) return view;
        if (view.status === 'failed') throw new Error(`group failed: ${JSON.stringify(view)}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    const measure = async (name: string, send: () => Promise<string>) => {
      console.error(`\n${name} (time scale ${timeScale}×)…`);
      await controls.clearRequests();
      const started = Date.now();
      const operationId = await send();
      const record = await logOf(operationId);
      const view = await groupInSync();
      // The last record of the group (a create finished by a later pass after replication delay included).
      let lastAt = Date.parse(record.time);
      let passes = 0;
      for await (const e of logs.listEntities<LogEntity>({
        queryOptions: { filter: `PartitionKey eq '${connectionId}' and externalId eq '${groupExternalId}'` },
      })) {
        if (Date.parse(e.time) < started) continue;
        passes++;
        lastAt = Math.max(lastAt, Date.parse(e.time));
      }
      const stats = await env.simStats();
      const wallS = (lastAt - started) / 1000;
      const seconds = Object.keys(stats.writesPerSecond).map(Number);
      const writeS = seconds.length ? Math.max(...seconds) - Math.min(...seconds) + 1 : 0;
      const minimum = name.startsWith('create') ? Math.ceil(members / 20) : 0;
      const quotaPerS = (WRITE_QUOTA.writes / WRITE_QUOTA.windowS) * timeScale;
      const result = {
        step: name,
        members,
        result: record.result,
        passes,
        graphWrites: stats.graphWrites,
        minimumWrites: minimum,
        writesOverMinimum: stats.graphWrites - minimum,
        graphRequests: stats.graphRequests,
        wallSeconds: round(wallS),
        // From the first write to the last (the rest of the wall time reads the members' rows and the group).
        writePhaseSeconds: writeS,
        writeQuotaUtilisationWhileWriting: writeS ? round((stats.graphWrites / writeS / quotaPerS) * 100) : null,
        throttled429: stats.throttled,
        resourceUnits: stats.resourceUnits,
      };
      console.table(result);
      return { result, objectId: view.link!.objectId };
    };
    // The nested directory groups (each a Microsoft 365 group of its own too), provisioned before the measurement.
    const parts = Array.from({ length: Math.ceil(members / PER_CHANGE) }, (_, p) => ({
      objectType: 'group',
      type: 'upsert',
      externalId: `${groupExternalId}-part-${p}`,
      version: 1,
      attributes: {
        displayName: `Bench ${members} part ${p}`,
        members: Array.from({ length: Math.min(PER_CHANGE, members - p * PER_CHANGE) }, (_, i) =>
          externalId(p * PER_CHANGE + i),
        ),
      },
    }));
    console.error(`provisioning ${parts.length} nested group(s) of up to ${PER_CHANGE} members first…`);
    await controls.settings({ throttling: false });
    const partOps = await env.api<{ operations: { operationId: string }[] }>(
      'POST',
      `/api/connections/${connectionId}/changes`,
      { changes: parts },
    );
    for (const op of partOps.operations) await logOf(op.operationId);
    for (const part of parts)
      for (;;) {
        const view = await env.api<{ inSync: boolean }>(
          'GET',
          `/api/connections/${connectionId}/groups/${part.externalId}`,
        );
        if (view.inSync) break;
        await new Promise((r) => setTimeout(r, 500));
      }
    await controls.settings({ throttling: true });
    const change = {
      objectType: 'group',
      type: 'upsert',
      externalId: groupExternalId,
      version: 1,
      attributes: { displayName: `Bench ${members}`, groups: parts.map((p) => p.externalId) },
    };
    const created = await measure(`create a group of ${members} members`, async () => {
      const { operations } = await env.api<{ operations: { operationId: string }[] }>(
        'POST',
        `/api/connections/${connectionId}/changes`,
        change,
      );
      return operations[0]!.operationId;
    });
    const again = await measure('provision it again, nothing changed', async () => {
      const outcome = await env.api<{ operationId: string }>(
        'POST',
        `/api/connections/${connectionId}/groups/${groupExternalId}/provision`,
      );
      return outcome.operationId;
    });
    await controls.settings({ throttling: false });
    let inGroup = 0;
    let link: string | undefined = `/groups/${created.objectId}/members?$select=id&$top=999`;
    while (link) {
      const page = (await graph.api(link).get()) as { value: unknown[]; '@odata.nextLink'?: string };
      inGroup += page.value.length;
      link = page['@odata.nextLink'];
    }
    const summary = { members, timeScale, membersInGroupAfterwards: inGroup, hostPeakRssMb: env.hostPeakRssMb() };
    console.table(summary);
    return { ...summary, steps: [created.result, again.result] };
  } finally {
    await env.close();
  }
}
