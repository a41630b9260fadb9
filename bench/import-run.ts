// One import preview, paged through every list, in a process of its own (started by bench/import.ts), so that its
// CPU time and peak RSS are the preview's alone: the deps are the app's composition root (functions/services.ts), as
// the import HTTP function uses them (GET …/import calls previewImport with them and nothing else).
// Input: BENCH_CONNECTION_ID, BENCH_IMPORT_LIMIT plus the app's settings in the environment.
// Output: one JSON line {"event":"done",…} on stdout.
import { services } from '../functions/services.js';
import { importLists, importQuerySchema, previewImport } from '../shared/provisioning/import-preview.js';
import { storageRequestCounts } from '../shared/storage/storage-clients.js';

const connectionId = process.env.BENCH_CONNECTION_ID ?? '';
const limit = Number(process.env.BENCH_IMPORT_LIMIT ?? 1000);
const app = services();

// Everything before this line (module loading) is not the preview's.
const rssBeforeKb = Math.round(process.memoryUsage().rss / 1024);
const tableBefore = storageRequestCounts.table;
let peakHeapUsed = 0;
const sampler = setInterval(() => (peakHeapUsed = Math.max(peakHeapUsed, process.memoryUsage().heapUsed)), 50);
const cpu = process.cpuUsage();
const started = performance.now();

const calls: { query: string; ms: number }[] = [];
const preview = async (query: Record<string, string | number>) => {
  const t = performance.now();
  const page = await previewImport(app, connectionId, importQuerySchema.parse({ ...query, limit }));
  const ms = Math.round(performance.now() - t);
  calls.push({
    query: new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString(),
    ms,
  });
  return page;
};
// GET …/import: each list's count and first page; then every list with more than one page, page by page.
const first = await preview({});
const counts = first.counts;
const listed: Record<string, number> = {};
for (const list of importLists) {
  if (counts[list]! <= limit) {
    listed[list] = first.lists[list]!.length;
    continue;
  }
  listed[list] = 0;
  let continuation: string | null = null;
  do {
    const page = await preview({ list, ...(continuation ? { continuation } : {}) });
    listed[list] += page.lists[list]!.length;
    continuation = page.continuation ?? null;
  } while (continuation);
}

const wallMs = performance.now() - started;
const used = process.cpuUsage(cpu);
clearInterval(sampler);
process.stdout.write(
  `${JSON.stringify({
    event: 'done',
    counts,
    listed,
    calls,
    wallMs: Math.round(wallMs),
    cpuMs: { user: Math.round(used.user / 1000), system: Math.round(used.system / 1000) },
    // maxRSS is the peak resident set of this process (KB on Linux), start-up included.
    peakRssKb: process.resourceUsage().maxRSS,
    rssBeforeKb,
    peakHeapUsedKb: Math.round(peakHeapUsed / 1024),
    tableRequests: storageRequestCounts.table - tableBefore,
  })}\n`,
);
// Lingering keep-alive sockets must not hold the process open.
process.exit(0);
