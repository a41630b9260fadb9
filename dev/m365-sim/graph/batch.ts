// POST /$batch (json-batching): ≤ 20 requests with unique ids; `dependsOn` orders them and a failed
// dependency answers 424 for its dependents; every item goes through the full pipeline, so each is
// authenticated, permission-checked and throttled on its own — a throttled item is a 429 *inside* the 200
// (json-batching; the throttling page's older "424" wording is superseded). A malformed batch is a 400.
import { randomUUID } from 'node:crypto';
import type { SimContext } from '../context.js';
import type { SimResponse } from '../http.js';
import { GraphError, graphErrorResponse } from './errors.js';
import { authenticate, type GraphRequest, handleGraphRequest } from './pipeline.js';

export const MAX_BATCH_REQUESTS = 20;

interface BatchItem {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: unknown;
  dependsOn: string[];
}

function parseBatch(body: unknown): BatchItem[] {
  const requests = (body as { requests?: unknown } | undefined)?.requests;
  if (!Array.isArray(requests) || requests.length === 0)
    throw new GraphError(400, 'BadRequest', 'Invalid batch payload format: a non-empty "requests" array is required.');
  if (requests.length > MAX_BATCH_REQUESTS)
    throw new GraphError(
      400,
      'BadRequest',
      `Invalid batch payload: the number of requests exceeds the limit of ${MAX_BATCH_REQUESTS}.`,
    );
  const items: BatchItem[] = requests.map((r: Record<string, unknown>, i) => {
    const id = r.id;
    if (typeof id !== 'string' && typeof id !== 'number')
      throw new GraphError(400, 'BadRequest', `Invalid batch payload: request ${i} has no id.`);
    if (typeof r.method !== 'string')
      throw new GraphError(400, 'BadRequest', `Invalid batch payload: request '${id}' has no method.`);
    if (typeof r.url !== 'string' || r.url === '')
      throw new GraphError(400, 'BadRequest', `Invalid batch payload: request '${id}' has no url.`);
    if (/^https?:\/\//i.test(r.url))
      throw new GraphError(400, 'BadRequest', `Invalid batch payload: request '${id}' must use a relative url.`);
    const headers = Object.fromEntries(
      Object.entries((r.headers as Record<string, string> | undefined) ?? {}).map(([k, v]) => [
        k.toLowerCase(),
        String(v),
      ]),
    );
    if (r.body !== undefined && !headers['content-type'])
      throw new GraphError(
        400,
        'BadRequest',
        `Invalid batch payload: request '${id}' has a body but no Content-Type header.`,
      );
    const dependsOn = Array.isArray(r.dependsOn) ? r.dependsOn.map(String) : [];
    return { id: String(id), method: r.method.toUpperCase(), url: r.url, headers, body: r.body, dependsOn };
  });
  const ids = new Set(items.map((i) => i.id));
  if (ids.size !== items.length)
    throw new GraphError(400, 'BadRequest', 'Invalid batch payload: request ids must be unique.');
  for (const item of items) {
    for (const dep of item.dependsOn)
      if (!ids.has(dep))
        throw new GraphError(
          400,
          'BadRequest',
          `Invalid batch payload: request '${item.id}' depends on unknown request '${dep}'.`,
        );
  }
  return items;
}

/** Dependency order; a cycle makes the batch malformed. */
function executionOrder(items: BatchItem[]): BatchItem[] {
  const done = new Set<string>();
  const order: BatchItem[] = [];
  while (order.length < items.length) {
    const ready = items.filter((i) => !done.has(i.id) && i.dependsOn.every((d) => done.has(d)));
    if (ready.length === 0) throw new GraphError(400, 'BadRequest', 'Invalid batch payload: dependsOn forms a cycle.');
    for (const r of ready) {
      done.add(r.id);
      order.push(r);
    }
  }
  return order;
}

export async function handleBatch(ctx: SimContext, req: GraphRequest): Promise<SimResponse> {
  const batchRequestId = randomUUID();
  const ids = {
    requestId: batchRequestId,
    clientRequestId: req.headers['client-request-id'] ?? batchRequestId,
    date: new Date(ctx.clock.now()).toISOString().replace(/\.\d+Z$/, ''),
  };
  const headers = { 'request-id': ids.requestId, 'client-request-id': ids.clientRequestId };
  let auth;
  let order: BatchItem[];
  try {
    auth = await authenticate(ctx, req.headers);
    if (req.bodyError)
      throw new GraphError(
        400,
        'BadRequest',
        'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
      );
    order = executionOrder(parseBatch(req.body));
  } catch (e) {
    if (!(e instanceof GraphError)) throw e;
    const response = graphErrorResponse(e, ids);
    response.headers = { ...response.headers, ...headers };
    ctx.log.add({
      at: new Date(ctx.clock.now()).toISOString(),
      surface: 'graph',
      method: 'POST',
      path: '/v1.0/$batch',
      status: response.status,
      requestId: batchRequestId,
    });
    return response;
  }
  const statuses = new Map<string, number>();
  const responses: Array<Record<string, unknown>> = [];
  for (const item of order) {
    const failedDep = item.dependsOn.find((d) => (statuses.get(d) ?? 0) >= 400);
    let res: SimResponse;
    if (failedDep) {
      res = graphErrorResponse(
        new GraphError(424, 'FailedDependency', `Request failed because request '${failedDep}' it depends on failed.`),
        { ...ids, requestId: randomUUID() },
      );
    } else {
      const url = new URL(`https://batch.invalid/v1.0${item.url.startsWith('/') ? '' : '/'}${item.url}`);
      res = await handleGraphRequest(ctx, {
        method: item.method,
        rawPath: url.pathname.slice('/v1.0'.length),
        query: url.searchParams,
        headers: { ...item.headers, authorization: req.headers['authorization'] ?? '' },
        body: item.body,
        surface: 'batch-item',
        batchRequestId,
      });
      if (res.drop)
        res = graphErrorResponse(
          new GraphError(504, 'GatewayTimeout', 'The request timed out (injected dropped connection).'),
          ids,
        );
    }
    statuses.set(item.id, res.status);
    const { 'x-ms-ags-diagnostic': _diag, ...itemHeaders } = res.headers;
    if (res.body !== undefined) itemHeaders['content-type'] = 'application/json';
    responses.push({
      id: item.id,
      status: res.status,
      headers: itemHeaders,
      ...(res.body !== undefined ? { body: res.body } : {}),
    });
  }
  ctx.log.add({
    at: new Date(ctx.clock.now()).toISOString(),
    surface: 'graph',
    method: 'POST',
    path: '/v1.0/$batch',
    tenantId: auth.tid,
    appId: auth.appid,
    status: 200,
    requestId: batchRequestId,
  });
  return { status: 200, headers, body: { responses } };
}
