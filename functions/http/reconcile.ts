import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { AppError } from '../../shared/domain/errors.js';
import { parseOrThrow } from '../../shared/domain/validation.js';
import {
  decideStaged,
  getRun,
  listRuns,
  listStaged,
  pageQuerySchema,
  stagedDecisionSchema,
  startRun,
  startRunQuerySchema,
} from '../../shared/provisioning/reconcile-admin.js';
import { runProgress } from '../../shared/provisioning/run-progress.js';
import { httpFunction } from '../define.js';
import { queryOf, readOptionalJson, withProblems } from '../http-support.js';
import { common, problem } from '../openapi-common.js';
import { queuedRunSchema, runProgressSchema, runsPageSchema, runWithItemsSchema } from '../openapi-responses.js';
import { services } from '../services.js';

const runLocation = (connectionId: string, runId: string) => `/api/connections/${connectionId}/runs/${runId}`;

/** POST /api/connections/{id}/reconcile[?dryRun=true][&full=true]: queues a run now; 202 with its record. */
export async function startReconcileHttp(request: HttpRequest): Promise<HttpResponseInit> {
  const options = parseOrThrow(startRunQuerySchema, queryOf(request), 'The reconcile options are not valid');
  const run = await startRun(services(), request.params.id!, options);
  const location = runLocation(run.connectionId, run.runId);
  return { status: 202, headers: { location }, jsonBody: { ...run, location } };
}

/** GET /api/connections/{id}/runs?limit=&continuation= (newest first). */
export async function listRunsHttp(request: HttpRequest): Promise<HttpResponseInit> {
  const query = parseOrThrow(pageQuerySchema, queryOf(request), 'The query is not valid');
  return { jsonBody: await listRuns(services(), request.params.id!, query) };
}

/** GET /api/connections/{id}/runs/{runId}?limit=&continuation=: the run and a page of its items. */
export async function getRunHttp(request: HttpRequest): Promise<HttpResponseInit> {
  const query = parseOrThrow(pageQuerySchema, queryOf(request), 'The query is not valid');
  return { jsonBody: await getRun(services(), request.params.id!, request.params.runId!, query) };
}

/** GET /api/connections/{id}/staged: disables, deletes and group member removals the accidental-deletion threshold held back. */
export async function listStagedHttp(request: HttpRequest): Promise<HttpResponseInit> {
  return { jsonBody: await listStaged(services(), request.params.id!) };
}

/** POST /api/connections/{id}/staged/approve|reject, optionally {externalIds:[…]}. */
export async function decideStagedHttp(request: HttpRequest): Promise<HttpResponseInit> {
  const body = parseOrThrow(stagedDecisionSchema, await readOptionalJson(request), 'The selection is not valid');
  const decision = request.params.decision!.toLowerCase();
  if (decision !== 'approve' && decision !== 'reject')
    throw new AppError('not-found', 'no-such-decision', `POST …/staged/approve or …/staged/reject (not ${decision})`);
  return { jsonBody: await decideStaged(services(), request.params.id!, decision, body) };
}

export const startReconcileFunction = httpFunction({
  name: 'reconcile-start',
  route: 'connections/{id}/reconcile',
  methods: ['POST'],
  authLevel: 'function',
  handler: withProblems(startReconcileHttp),
  openapi: {
    summary:
      'Reconcile now: queue a run (?dryRun=true: plan only; ?full=true: full round). Follow Location for its record',
    query: startRunQuerySchema,
    responses: {
      202: { description: 'Queued; the run record (status queued)', schema: queuedRunSchema },
      404: common[404],
      409: problem('The connection is not ready, or a run is in progress'),
    },
  },
});

export const listRunsFunction = httpFunction({
  name: 'runs-list',
  route: 'connections/{id}/runs',
  methods: ['GET'],
  authLevel: 'function',
  handler: withProblems(listRunsHttp),
  openapi: {
    summary:
      'Reconciliation runs, newest first: examined, drift by kind, enqueued, staged, unmatched, errors, delta round; groups apart',
    query: pageQuerySchema,
    responses: { 200: { description: 'Runs and a continuation token', schema: runsPageSchema }, ...common },
  },
});

export const getRunFunction = httpFunction({
  name: 'runs-get',
  route: 'connections/{id}/runs/{runId}',
  methods: ['GET'],
  authLevel: 'function',
  handler: withProblems(getRunHttp),
  openapi: {
    summary: 'One run with a page of its items (a dry run: the plan; a real run: corrections and unmatched accounts)',
    query: pageQuerySchema,
    responses: {
      200: { description: 'The run and itemsPage', schema: runWithItemsSchema },
      404: problem('No such connection or run'),
    },
  },
});

export const listStagedFunction = httpFunction({
  name: 'staged-list',
  route: 'connections/{id}/staged',
  methods: ['GET'],
  authLevel: 'function',
  handler: withProblems(listStagedHttp),
  openapi: {
    summary: 'Disable/delete operations (and group member removals) held back by the accidental-deletion threshold',
    responses: { 200: { description: 'Staged operations' }, 404: common[404] },
  },
});

export const decideStagedFunction = httpFunction({
  name: 'staged-decide',
  route: 'connections/{id}/staged/{decision:alpha}',
  methods: ['POST'],
  authLevel: 'function',
  handler: withProblems(decideStagedHttp),
  openapi: {
    summary: 'Approve (enqueue) or reject (drop) staged operations of users and groups: all, or {externalIds:[…]}',
    request: stagedDecisionSchema,
    responses: { 200: { description: 'What was done per user' }, ...common },
  },
});

/** GET /api/connections/{id}/runs/{runId}/progress: phase, percent and ETA (the console's progress bar). */
export async function runProgressHttp(request: HttpRequest): Promise<HttpResponseInit> {
  return { jsonBody: await runProgress(services(), request.params.id!, request.params.runId!) };
}

export const runProgressFunction = httpFunction({
  name: 'runs-progress',
  route: 'connections/{id}/runs/{runId}/progress',
  methods: ['GET'],
  authLevel: 'function',
  handler: withProblems(runProgressHttp),
  openapi: {
    summary:
      "A run's progress: examining (directory users compared) then applying (its corrections done), with an ETA from the remaining corrections and Graph's write pace",
    responses: {
      200: { description: 'Phase, counts, percent, ETA', schema: runProgressSchema },
      404: problem('No such connection or run'),
    },
  },
});
