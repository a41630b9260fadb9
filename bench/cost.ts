// What running the product costs on Azure, from what the other benchmarks measured (issue 19): storage
// transactions, queue messages and Functions executions per 100,000 users provisioned (bench/results/wave.json,
// the direct-licensing wave on one host) and per month of reconciliation every 30 minutes at 100,000 users
// (bench/results/reconcile.json). Counts only come from the measurements; the few quantities the local host cannot
// measure the way Azure bills them are named in `assumptions`. Prices: Azure publishes them on its pricing pages
// (azure.microsoft.com/pricing/details/storage/tables/, …/storage/queues/, …/functions/), which this project cannot
// read offline, so none is built in: `--prices FILE` (JSON, see PriceList) turns the counts into money with the
// prices an admin copies from those pages for their region and redundancy.
//
//   npm run bench -- cost [--prices prices.json]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../dev/paths.js';
import { option, round } from './environment.js';

/** Prices as the pricing pages state them (USD, the admin's region and redundancy), with the page and its date. */
export interface PriceList {
  source: string;
  date: string;
  tableTransactionsPer10k: number;
  queueOperationsPer10k: number;
  functionExecutionsPerMillion: number;
}

interface WaveResult {
  at: string;
  hosts: number;
  licensing: string;
  tableTransactionsPerOperation: number | null;
  tableTransactionsByOperationKind: Record<string, { operations: number; tablePerOperation: number }> | null;
  waves: { wave: string; operations: number; graphRequests: number; graphWrites: number }[];
}

interface RoundResult {
  tableRequests: number;
  graphRequests: number;
  enqueued: number;
  status: string;
}
interface ReconcileResult {
  at: string;
  users: number;
  changes: number;
  full: RoundResult;
  incremental: RoundResult;
  incrementalNoDrift: RoundResult;
}

const USERS = 100_000;
/** Every 30 minutes for 30 days; a full round once a week (rounds.ts), incremental rounds otherwise. */
const ROUNDS_PER_MONTH = 48 * 30;
const FULL_ROUNDS_PER_MONTH = 30 / 7;
/** host.json: the queue trigger takes messages in batches of 16 (one Get Messages request per batch). */
const QUEUE_BATCH = 16;
/** bench/wave.ts submits changes 1,000 per POST …/changes. */
const CHANGES_PER_REQUEST = 1000;

const read = <T>(file: string): T => JSON.parse(readFileSync(join(REPO_ROOT, 'bench', 'results', file), 'utf8')) as T;

/** One operation through the queue: the message put, its share of a Get Messages batch, its delete. */
const queueOperationsPerMessage = 1 + 1 / QUEUE_BATCH + 1;

export async function run(): Promise<Record<string, unknown>> {
  const wave = read<WaveResult>('wave.json');
  const reconcile = read<ReconcileResult>('reconcile.json');
  const kinds = wave.tableTransactionsByOperationKind;
  const create = kinds?.['user upsert: applied/create'];
  const update = kinds?.['user upsert: applied/update'];
  if (!kinds || !create || !update || wave.tableTransactionsPerOperation === null)
    throw new Error('bench/results/wave.json has no per-operation counts: run `npm run bench -- wave` first');
  const createWave = wave.waves[0]!;
  // The API's own Table requests (reading the connection, recording the versions) spread over the operations.
  const apiPerOperation = wave.tableTransactionsPerOperation - kinds['all operations']!.tablePerOperation;

  const provisioning = {
    tableTransactions: Math.round(USERS * (create.tablePerOperation + apiPerOperation)),
    queueOperations: Math.round(USERS * queueOperationsPerMessage),
    functionExecutions: Math.round(USERS + USERS / CHANGES_PER_REQUEST),
    graphRequests: Math.round((USERS * createWave.graphRequests) / createWave.operations),
  };

  // The measured rounds: 1,000 accounts changed among 100,000 (with drift: every change corrected; without).
  const scale = USERS / reconcile.users;
  const month = (incremental: RoundResult) => {
    const incrementalRounds = ROUNDS_PER_MONTH - FULL_ROUNDS_PER_MONTH;
    const corrections =
      FULL_ROUNDS_PER_MONTH * reconcile.full.enqueued * scale + incrementalRounds * incremental.enqueued;
    return {
      tableTransactions: Math.round(
        FULL_ROUNDS_PER_MONTH * reconcile.full.tableRequests * scale +
          incrementalRounds * incremental.tableRequests +
          corrections * update.tablePerOperation,
      ),
      queueOperations: Math.round((ROUNDS_PER_MONTH + corrections) * queueOperationsPerMessage),
      // The timer, one run per round, one execution per correction.
      functionExecutions: Math.round(2 * ROUNDS_PER_MONTH + corrections),
      graphRequests: Math.round(
        FULL_ROUNDS_PER_MONTH * reconcile.full.graphRequests * scale + incrementalRounds * incremental.graphRequests,
      ),
    };
  };
  const reconciliation = {
    [`${reconcile.changes} accounts changed per round, none drifted`]: month(reconcile.incrementalNoDrift),
    [`${reconcile.changes} accounts changed per round, all drifted (each corrected)`]: month(reconcile.incremental),
  };
  const assumptions = [
    `queue operations per message: put + 1/${QUEUE_BATCH} Get Messages (host.json batchSize) + delete`,
    `one HTTP execution per ${CHANGES_PER_REQUEST} changes submitted`,
    `reconciliation: ${ROUNDS_PER_MONTH} rounds a month (every 30 minutes), a full round weekly; a correction costs what an update of the wave costs`,
    `measured: wave ${wave.at} (${wave.hosts} host, ${wave.licensing} licensing), reconcile ${reconcile.at} (${reconcile.users} users)`,
  ];
  console.log('\nPer 100,000 users provisioned (one licensed create each):');
  console.table(provisioning);
  console.log('Per month of reconciliation every 30 minutes at 100,000 users:');
  console.table(reconciliation);
  for (const a of assumptions) console.log(`  assumption: ${a}`);

  const pricesFile = option('prices');
  let cost: Record<string, unknown> | undefined;
  if (pricesFile) {
    const p = JSON.parse(readFileSync(pricesFile, 'utf8')) as PriceList;
    const money = (c: { tableTransactions: number; queueOperations: number; functionExecutions: number }) =>
      round(
        (c.tableTransactions / 10_000) * p.tableTransactionsPer10k +
          (c.queueOperations / 10_000) * p.queueOperationsPer10k +
          (c.functionExecutions / 1_000_000) * p.functionExecutionsPerMillion,
        2,
      );
    cost = {
      prices: `${p.source} (${p.date})`,
      per100kUsersProvisionedUsd: money(provisioning),
      perMonthOfReconciliationUsd: Object.fromEntries(Object.entries(reconciliation).map(([k, c]) => [k, money(c)])),
      notIncluded: 'execution time (GB-s) and data stored: the local host does not measure them',
    };
    console.table(cost);
  } else {
    console.log(
      '  no prices given: --prices FILE with {source, date, tableTransactionsPer10k, queueOperationsPer10k, functionExecutionsPerMillion} from Azure’s pricing pages',
    );
  }
  return { provisioning, reconciliation, assumptions, ...(cost ? { cost } : {}) };
}
