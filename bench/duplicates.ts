// Duplicated deliveries (issue 13, finding 10): for each of N people, K identical copies of one upsert (same
// externalId, version 1 and operationId) are put straight onto the provisioning queue at once, as a producer
// or the queue's at-least-once delivery may. One copy applies the change; the others are deferred while it holds
// the user ("user busy") or arrive after it. Measures how fast all copies settle (one log record each) and how
// many Graph requests the copies cost beyond the one that applied. Prints figures; never asserts them.
import { TableClient } from '@azure/data-tables';
import { QueueClient } from '@azure/storage-queue';
import { PROVISIONING_QUEUE } from '../shared/domain/change.js';
import { encodeMessage } from '../shared/storage/operation-queue.queue.js';
import { arg, BENCH_SKU, benchSeed, pct, round, startBenchEnvironment } from './environment.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const count = (into: Record<string, number>, key: string, by = 1) => (into[key] = (into[key] ?? 0) + by);

interface LogEntity {
  operationId: string;
  externalId: string;
  time: string;
  result: string;
  action?: string;
  reason?: string;
  /** JSON text of the request ids (a JSON column). */
  graphRequestIds?: string;
}

export async function run(): Promise<Record<string, unknown>> {
  const people = arg('people', 20);
  const copies = arg('copies', 20);
  const timeScale = arg('time-scale', 10);
  const timeoutS = arg('timeout-s', 300);
  const throttling = true;
  const env = await startBenchEnvironment({ timeScale, throttling, seed: benchSeed(people + 100) });
  try {
    const connectionId = await env.createReadyConnection();
    const queue = new QueueClient(env.azurite.connectionString, PROVISIONING_QUEUE);
    await queue.createIfNotExists();
    const logs = TableClient.fromConnectionString(env.azurite.connectionString, 'provisioninglogs', {
      allowInsecureConnection: true,
    });
    const person = (i: number) => ({
      userName: `dup${i}`,
      givenName: 'Bench',
      familyName: `Duplicate${i}`,
      active: true,
      jobTitle: 'Analyst',
      usageLocation: 'US',
      password: 'Initial-Pa55word!',
    });
    const changes = Array.from({ length: people }, (_, i) => ({
      type: 'upsert',
      connectionId,
      externalId: `dup-${i}`,
      version: 1,
      operationId: `bench-dup-${i}-v1`,
      attributes: person(i),
      licenses: [BENCH_SKU],
    }));
    const personOf = new Map(changes.map((c) => [c.operationId, c.externalId]));

    console.error(
      `\n${people} people × ${copies} copies of one upsert, straight onto the queue (time scale ${timeScale}×, Graph throttling ${throttling ? 'on' : 'off'})…`,
    );
    await env.controls.clearRequests();
    const sentAt = Date.now();
    await Promise.all(
      changes.flatMap((c) => Array.from({ length: copies }, () => queue.sendMessage(encodeMessage(c)))),
    );
    const sentS = (Date.now() - sentAt) / 1000;

    // One log record per delivered copy: wait until every operation has `copies` of them, or the timeout.
    const deadline = sentAt + timeoutS * 1000;
    let records: LogEntity[] = [];
    for (;;) {
      records = [];
      try {
        for await (const e of logs.listEntities<LogEntity>({
          queryOptions: { filter: `PartitionKey eq '${connectionId}'` },
        })) {
          if (personOf.has(e.operationId)) records.push(e);
        }
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode !== 404) throw error; // no record written yet: no table
      }
      const perOperation: Record<string, number> = {};
      for (const r of records) count(perOperation, r.operationId);
      if (changes.every((c) => (perOperation[c.operationId] ?? 0) >= copies) || Date.now() > deadline) break;
      await sleep(250);
    }
    const timedOut = records.length < people * copies;
    const stats = await env.simStats();
    const queueLeft = (await queue.getProperties()).approximateMessagesCount ?? 0;

    const outcomes: Record<string, number> = {};
    const reasons: Record<string, number> = {};
    const lastAt = new Map<string, number>();
    const recordsOf: Record<string, number> = {};
    const graphOf: Record<string, number> = {};
    const graphByResult: Record<string, number> = {};
    for (const r of records) {
      const who = personOf.get(r.operationId)!;
      const graph = r.graphRequestIds ? (JSON.parse(r.graphRequestIds) as string[]).length : 0;
      count(outcomes, r.result);
      // "Stale: …", "Already applied: …" and the like: the reason's kind, without its details.
      count(reasons, `${r.result}: ${r.reason ? r.reason.split(/[:(]/)[0]!.trim() : (r.action ?? '-')}`);
      count(recordsOf, who);
      count(graphOf, who, graph);
      count(graphByResult, r.result, graph);
      lastAt.set(who, Math.max(lastAt.get(who) ?? 0, Date.parse(r.time)));
    }
    const settledPeople = changes.filter((c) => (recordsOf[c.externalId] ?? 0) >= copies).map((c) => c.externalId);
    const settle = settledPeople.map((who) => (lastAt.get(who)! - sentAt) / 1000).sort((a, b) => a - b);
    const graphPerPerson = changes.map((c) => graphOf[c.externalId] ?? 0).sort((a, b) => a - b);

    // The host logs each deferral (a new message, visible later) as "Operation <id> deferred <ms> ms: <why>".
    const deferrals: Record<string, number> = {};
    for (const line of env.host.stderr().split('\n')) {
      const m = /Operation (\S+) deferred \d+ ms: (.*)$/.exec(line);
      if (m && personOf.has(m[1]!)) count(deferrals, m[2]!);
    }
    const peakRssMb = env.hostPeakRssMb();
    const stopped = await env.stopHost();

    const result = {
      people,
      copies,
      messages: people * copies,
      timeScale,
      graphThrottling: throttling ? 'on (simulated Graph limits, as wave)' : 'off',
      sendSeconds: round(sentS, 2),
      logRecords: records.length,
      timedOut: timedOut ? `after ${timeoutS} s: ${people * copies - records.length} copies without a record` : false,
      peopleSettled: settledPeople.length,
      wallSeconds: round(((lastAt.size ? Math.max(...lastAt.values()) : Date.now()) - sentAt) / 1000, 2),
      settleSecondsPerPerson: {
        p50: round(pct(settle, 50), 2),
        p95: round(pct(settle, 95), 2),
        max: round(settle.at(-1) ?? 0, 2),
      },
      outcomes,
      reasons,
      deferrals,
      deferralsTotal: Object.values(deferrals).reduce((n, d) => n + d, 0),
      graphRequests: stats.graphRequests,
      graphWrites: stats.graphWrites,
      throttled429: stats.throttled,
      graphRequestsPerPerson: round(stats.graphRequests / people, 2),
      loggedGraphRequestsPerPerson: { p50: pct(graphPerPerson, 50), max: graphPerPerson.at(-1) ?? 0 },
      loggedGraphRequestsByResult: graphByResult,
      graphRequestsBySkippedCopies: graphByResult.skipped ?? 0,
      queueMessagesLeft: queueLeft,
      hostPeakRssMb: peakRssMb,
      tableTransactionsPerMessage: stopped ? round(stopped.storageRequests.table / (people * copies), 2) : null,
    };
    console.table(
      Object.fromEntries(Object.entries(result).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : v])),
    );
    return result;
  } finally {
    await env.close();
  }
}
