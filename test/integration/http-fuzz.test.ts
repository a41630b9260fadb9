// Hostile input over HTTP (issue 13): every route of the OpenAPI document the running app serves, fuzzed with
// fast-check (seeded, bounded), must answer in time, never 5xx, and every 4xx is problem+json. A rejected batch
// enqueues nothing, the host keeps serving and still applies a valid change afterwards. Then one plain test per
// finding of the issue with its exact input. Real local Functions host, Azurite and simulated tenant.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { useAppWithTenant } from '../support/app-host.js';
import {
  type Body,
  body,
  encodeSegment,
  hostilePathValue,
  hostileQueryValue,
  hostileString,
  type JsonSchema,
  loneSurrogateString,
  MINTED_EXTERNAL_ID,
  mintedExternalId,
  mutatedOne,
  oneHostileQuery,
  type OpenApiDocument,
  type Operation,
  operationsOf,
  oversized,
  oversizedString,
  pathValue,
  plausible,
  queryString,
  requestHeaders,
  validQuery,
} from '../support/fuzz-arbitraries.js';
import { person, provisioningApi } from '../support/provisioning-api.js';
import { DEFAULT_SEED } from '../support/simulated-tenant.js';
import { uniqueName } from '../support/unique.js';

const contoso = DEFAULT_SEED.contoso;
const ctx = useAppWithTenant();

/** FUZZ_SEED overrides it to explore further; a failure names the seed to replay. */
const SEED = Number(process.env.FUZZ_SEED ?? 1_301_913);
/** Cases per (method, path): more where there is a body, most for the change contract; ≈ 430 requests in all. */
const runsFor = (op: Operation) => (op.operationId === 'changes-submit' ? 60 : op.method === 'GET' ? 10 : 20);
/** A request that gets no answer in this time fails its case (a hang must not stall the whole file). */
const REQUEST_TIMEOUT_MS = 4000;
/** FUZZ_KEEP_GOING=1: record every violation instead of stopping each operation at its first (for triage). */
const KEEP_GOING = process.env.FUZZ_KEEP_GOING === '1';

interface Fixture {
  /** The fuzzed requests' connection (they may legitimately change or delete it). */
  connectionId: string;
  externalIds: string[];
  runId: string;
  /** An authorization_code connection: the source of real OAuth states for the callback. */
  oauthConnectionId: string;
  /** A ready connection and one of its runs that only the plain regression tests use. */
  stable: { connectionId: string; runId: string };
  /** The fixture connection's SCIM token and one SCIM user of it (the SCIM routes' credential and id). */
  scim: { token: string; userId: string };
}
let fx: Fixture;

interface Sent {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
  ms: number;
}

/** One request with the function key, a time limit and no redirect following; a timeout or reset throws. */
async function send(
  method: string,
  pathAndQuery: string,
  init: { body?: Body | undefined; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Sent> {
  const started = performance.now();
  const res = await fetch(`${ctx.app.url}${pathAndQuery}`, {
    method,
    redirect: 'manual',
    headers: { 'x-functions-key': ctx.app.host.functionKey, ...init.headers },
    // fetch cannot send a body with GET or HEAD (nor can most clients): those go without one.
    ...(init.body === undefined || method === 'GET' || method === 'HEAD' ? {} : { body: init.body }),
    signal: AbortSignal.timeout(init.timeoutMs ?? REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (HTML page, empty, plain text): the checks below say whether that is allowed.
  }
  return { status: res.status, headers: res.headers, text, json, ms: Math.round(performance.now() - started) };
}

const excerpt = (s: string, n = 240) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);
/** A body for a report: JSON with long strings and arrays shortened (so every field shows), else an excerpt. */
function describeBody(b: Body | undefined): string {
  if (b === undefined) return '(none)';
  if (typeof b !== 'string') return `bytes[${b.length}]`;
  try {
    const shortened = JSON.stringify(
      JSON.parse(b, (_key, value: unknown) =>
        typeof value === 'string' && value.length > 48
          ? `${value.slice(0, 16)}…(${value.length} chars)`
          : Array.isArray(value) && value.length > 8
            ? [...(value as unknown[]).slice(0, 8), `…(${value.length} items)`]
            : value,
      ),
    );
    return `${excerpt(shortened, 700)}${shortened.length < b.length ? ` (${b.length} chars sent)` : ''}`;
  } catch {
    return JSON.stringify(excerpt(b, 160));
  }
}

/** For a 5xx: the first line of the error the host logged for that invocation (named in the problem's detail). */
function loggedCause(res: Sent): string {
  const invocation = /invocation ([0-9a-f-]{36})/.exec(res.text)?.[1];
  const record = invocation
    ? ctx.app.logs.find((l) => l.invocationId === invocation && l.level === 'error')
    : undefined;
  return record ? ` [logged: ${excerpt(record.message.split('\n')[0]!, 200)}]` : '';
}

const isScim = (path: string) => path.toLowerCase().startsWith('/api/scim/');

/** What is wrong with one answer of a SCIM route: a 4xx is a SCIM error (RFC 7644 §3.12), application/scim+json. */
function scimErrorViolations(res: Sent): string[] {
  const type = res.headers.get('content-type');
  if (!type?.startsWith('application/scim+json'))
    return [`answered ${res.status} with content-type ${type ?? '(none)'}, body ${JSON.stringify(excerpt(res.text))}`];
  const error = res.json as { schemas?: unknown; status?: unknown } | undefined;
  const out: string[] = [];
  if (!JSON.stringify(error?.schemas ?? '').includes('urn:ietf:params:scim:api:messages:2.0:Error'))
    out.push(`a SCIM error without the Error schema: ${excerpt(res.text)}`);
  if (error?.status !== String(res.status)) out.push(`SCIM error status ${String(error?.status)} ≠ "${res.status}"`);
  return out;
}

/** What is wrong with one answer of a JSON route (empty when nothing). */
function problemViolations(res: Sent, method = 'GET', path = ''): string[] {
  if (res.status >= 500) return [`answered ${res.status}: ${excerpt(res.text) || '(empty body)'}${loggedCause(res)}`];
  if (res.status < 400) return [];
  // A SCIM route's own answers; a path the SCIM routes do not match is the API's problem+json 404.
  if (isScim(path) && res.headers.get('content-type')?.startsWith('application/scim+json'))
    return scimErrorViolations(res);
  const type = res.headers.get('content-type');
  if (!type?.startsWith('application/problem+json')) {
    const hostLevel =
      !type && res.text === '' ? " — an empty answer: the local host's own (route did not match, or wrong method)" : '';
    return [
      `answered ${res.status} with content-type ${type ?? '(none)'}, body ${JSON.stringify(excerpt(res.text)) || '(empty)'}${hostLevel}`,
    ];
  }
  // A HEAD answer carries headers only (RFC 9110): its content type is all there is to check.
  if (method === 'HEAD') return [];
  const problem = res.json as { status?: unknown; code?: unknown } | undefined;
  const out: string[] = [];
  if (problem?.status !== res.status) out.push(`problem+json status ${String(problem?.status)} ≠ HTTP ${res.status}`);
  if (typeof problem?.code !== 'string') out.push(`problem+json without a string code: ${excerpt(res.text)}`);
  return out;
}

// ------------------------------------------------------------------------------------------------ fixture

const { createConnection, readyConnection, submit, logOf } = provisioningApi(ctx, 'fuzz');

/** A SCIM token and user of the fixture connection. */
async function scimFixture(connectionId: string): Promise<Fixture['scim']> {
  const token = await ctx.app.api<{ token: string }>('POST', `/api/connections/${connectionId}/scim-token`, {});
  expect(token.status, token.text).toBe(201);
  const user = await send('POST', `/api/scim/v2/${connectionId}/Users`, {
    body: JSON.stringify({
      userName: `${uniqueName('scimfx')}@contoso.example`,
      displayName: 'SCIM fixture',
      password: 'Initial-Pa55word!',
    }),
    headers: { authorization: `Bearer ${token.body.token}`, 'content-type': 'application/scim+json' },
    timeoutMs: 10_000,
  });
  expect(user.status, user.text).toBe(201);
  return { token: token.body.token, userId: (user.json as { id: string }).id };
}

const userStatus = async (connectionId: string, externalId: string) =>
  (await send('GET', `/api/connections/${connectionId}/users/${encodeURIComponent(externalId)}`, { timeoutMs: 10_000 }))
    .status;

/** Asserts the user never appears (stays 404) for `ms`: nothing of a rejected request was enqueued and applied. */
async function expectNeverStored(connectionId: string, externalIds: string[], ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  do {
    for (const ext of externalIds)
      expect(await userStatus(connectionId, ext), `user ${ext} of a rejected request`).toBe(404);
    await new Promise((r) => setTimeout(r, 250));
  } while (Date.now() < deadline);
}

const OAUTH_FIXTURE_NAME = '<img src=x onerror=alert("fixture")>';

async function dryRun(connectionId: string): Promise<string> {
  const run = await ctx.app.api<{ runId: string }>('POST', `/api/connections/${connectionId}/reconcile?dryRun=true`);
  expect(run.status, run.text).toBe(202);
  return run.body.runId;
}

beforeAll(async () => {
  const [connectionId, stableConnectionId] = await Promise.all([readyConnection(), readyConnection()]);
  const externalIds = [0, 1, 2].map(() => uniqueName('fx'));
  await Promise.all(
    externalIds.map(async (ext) =>
      logOf(
        connectionId,
        ext,
        await submit(connectionId, {
          type: 'upsert',
          externalId: ext,
          version: 1,
          attributes: person(ext.replace('-', '.')),
        }),
        'applied',
      ),
    ),
  );
  fx = {
    connectionId,
    externalIds,
    runId: await dryRun(connectionId),
    // Named with markup: the callback pages that name the connection must escape it.
    oauthConnectionId: await createConnection({ authMode: 'authorization_code', name: OAUTH_FIXTURE_NAME }),
    stable: { connectionId: stableConnectionId, runId: await dryRun(stableConnectionId) },
    scim: await scimFixture(connectionId),
  };
});

// ------------------------------------------------------------------------------------------------ fuzzing

interface Case {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Body | undefined;
}

/** Shown by fast-check as the counterexample: a short, replayable description instead of a 100 KB dump. */
const withDescription = (c: Case): Case =>
  Object.assign(c, {
    [fc.toStringMethod]: () =>
      `${c.method} ${excerpt(c.path, 300)} headers=${JSON.stringify(c.headers)} body=${describeBody(c.body)}`,
  });

/** The fixture's values a path parameter may take (besides random and hostile ones). */
const realValues = (param: string): string[] =>
  ({
    id: [fx.connectionId],
    connectionId: [fx.connectionId],
    externalId: fx.externalIds,
    scimId: [fx.scim.userId],
    itemId: ['User', 'Group', 'urn:ietf:params:scim:schemas:core:2.0:User'],
    runId: [fx.runId],
    decision: ['approve', 'reject'],
  })[param] ?? [];

/** A valid upsert of a minted user: inside a batch with a bad sibling it must never be applied. */
const validChange = () =>
  fc.tuple(mintedExternalId(), fc.integer({ min: 1, max: 1000 })).map(([externalId, version]) => ({
    type: 'upsert',
    externalId,
    version,
    attributes: person(`fz${externalId.slice(3, 11)}`),
  }));

/** Bodies aimed at the change contract: a batch of a valid change and a hostile one, or one hostile change. */
function changeBodies(op: Operation): fc.Arbitrary<unknown>[] {
  if (op.operationId !== 'changes-submit' && op.operationId !== 'users-provision') return [];
  const single = changeSchemaOf(doc);
  if (!single) return [];
  const batch = (bad: fc.Arbitrary<unknown>) =>
    fc
      .tuple(validChange(), bad, fc.boolean())
      .map(([good, b, badFirst]) => ({ changes: badFirst ? [b, good] : [good, b] }));
  const withAttribute = fc
    .tuple(
      validChange(),
      fc.constantFrom('jobTitle', 'password', 'displayName', 'department', 'x'),
      fc.oneof(
        { weight: 2, arbitrary: oversizedString() },
        { weight: 1, arbitrary: loneSurrogateString() },
        { weight: 1, arbitrary: hostileString(300) },
      ),
    )
    .map(([c, name, value]) => ({ ...c, attributes: { ...c.attributes, [name]: value } }));
  return [batch(mutatedOne(single)), batch(oversized(single)), batch(withAttribute), withAttribute, mutatedOne(single)];
}

let doc: OpenApiDocument;
const changeSchemaOf = (d: OpenApiDocument): JsonSchema | undefined =>
  d.paths['/api/connections/{id}/changes']?.post?.requestBody?.content['application/json']?.schema.anyOf?.find(
    (s) => s.properties?.externalId,
  );

/**
 * A request to `op`, hostile in one place at a time (so a validator's first refusal does not hide the rest) or
 * everywhere at once: a path parameter (the others the fixture's), a query parameter, the body (with
 * content-type variations), or all of them.
 */
function caseOf(op: Operation): fc.Arbitrary<Case> {
  const realPath = (p: string) =>
    realValues(p).length ? fc.constantFrom(...realValues(p)).map(encodeSegment) : hostilePathValue();
  const valid = fc.tuple(...op.pathParams.map(realPath));
  const hasBody = op.method !== 'GET';
  const validBody =
    hasBody && op.bodySchema
      ? fc.option(
          plausible(op.bodySchema).map((v) => JSON.stringify(v)),
          { nil: undefined },
        )
      : fc.constant(undefined);
  const jsonHeaders = fc.constant({ 'content-type': 'application/json' });
  type Parts = [string[], string, Record<string, string>, Body | undefined];
  const focuses: { weight: number; arbitrary: fc.Arbitrary<Parts> }[] = [];
  if (op.pathParams.length) {
    const onePathHostile = fc
      .tuple(valid, fc.nat(), hostilePathValue())
      .map(([values, at, bad]) => values.map((v, i) => (i === at % values.length ? bad : v)));
    focuses.push({
      weight: 3,
      arbitrary: fc.tuple(onePathHostile, validQuery(op.queryParams), jsonHeaders, validBody),
    });
  }
  focuses.push({
    weight: op.queryParams.length ? 4 : 1,
    arbitrary: fc.tuple(valid, oneHostileQuery(op.queryParams), jsonHeaders, validBody),
  });
  if (hasBody)
    focuses.push({
      weight: 6,
      arbitrary: fc.tuple(valid, validQuery(op.queryParams), requestHeaders(), body(op.bodySchema, changeBodies(op))),
    });
  const anyBody = hasBody
    ? fc.option(body(op.bodySchema, changeBodies(op)), { nil: undefined, freq: 6 })
    : fc.constant(undefined);
  focuses.push({
    weight: 2,
    arbitrary: fc.tuple(
      fc.tuple(...op.pathParams.map((p) => pathValue(realValues(p)))),
      queryString(op.queryParams),
      requestHeaders(),
      anyBody,
    ),
  });
  return fc.oneof(...focuses).map(([values, query, headers, b]) => {
    let i = 0;
    const path = op.template.replace(/\{[^}]+\}/g, () => values[i++]!);
    const sent = b === undefined ? { accept: headers.accept ?? '*/*' } : headers;
    return withDescription({
      method: op.method,
      path: `${path}${query}`,
      // SCIM routes: the fixture's bearer token, so the fuzzing reaches past authentication.
      headers: isScim(op.template) ? { ...sent, authorization: `Bearer ${fx.scim.token}` } : sent,
      body: b,
    });
  });
}

/** XSS payloads for the callback's query values; each is unique, so finding it verbatim in the page is proof. */
const xss = fc
  .tuple(
    fc.constantFrom(
      '<img src=x onerror=alert(#)>',
      '<script>alert(#)</script>',
      '"><svg onload=alert(#)>',
      "'><b>#</b>",
      '</p><iframe src=javascript:alert(#)>',
    ),
    fc.nat(),
  )
  .map(([t, n]) => t.replace('#', String(n)));

interface CallbackCase {
  state: 'none' | 'authorize' | 'admin-consent';
  query: Record<string, string | undefined>;
}

const callbackCase = fc
  .record({
    state: fc.constantFrom<CallbackCase['state']>('none', 'authorize', 'admin-consent'),
    query: fc.record({
      state: fc.option(hostileQueryValue(), { nil: undefined }),
      code: fc.option(fc.oneof(fc.constant('some-code'), hostileQueryValue()), { nil: undefined }),
      error: fc.option(
        fc.oneof(
          fc.constantFrom('access_denied', 'invalid_request', 'server_error', 'consent_required'),
          xss,
          hostileQueryValue(),
        ),
        { nil: undefined },
      ),
      error_description: fc.option(
        fc.oneof({ weight: 3, arbitrary: xss }, { weight: 1, arbitrary: hostileString(1500) }),
        { nil: undefined },
      ),
      admin_consent: fc.option(fc.constantFrom('True', 'true', 'False', '<b>x</b>'), { nil: undefined }),
    }),
  })
  .map((c) => Object.assign(c, { [fc.toStringMethod]: () => describeCallback(c) }));
const describeCallback = (c: CallbackCase) =>
  `GET /api/oauth/callback state=${c.state} query=${excerpt(JSON.stringify(c.query), 400)}`;

/** A real, unused state of the OAuth connection (from its authorize or admin-consent redirect). */
async function realState(kind: 'authorize' | 'admin-consent'): Promise<string> {
  const res = await send('GET', `/api/connections/${fx.oauthConnectionId}/${kind}`);
  expect(res.status, res.text).toBe(302);
  return new URL(res.headers.get('location')!).searchParams.get('state')!;
}

async function callbackViolations(c: CallbackCase): Promise<string[]> {
  const query = { ...c.query, ...(c.state === 'none' ? {} : { state: await realState(c.state) }) };
  const q = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined));
  const res = await send('GET', `/api/oauth/callback?${q.toString()}`);
  const out: string[] = [];
  // With a real state, an error from the identity platform or a code it refuses is the documented 502 page.
  const documented502 = c.state !== 'none' && res.status === 502;
  if (res.status >= 500 && !documented502) out.push(`answered ${res.status}: ${excerpt(res.text)}`);
  if (!res.headers.get('content-type')?.startsWith('text/html'))
    out.push(
      `answered ${res.status} with content-type ${res.headers.get('content-type') ?? '(none)'} instead of an HTML page`,
    );
  for (const [name, value] of Object.entries({ ...query, 'connection name': OAUTH_FIXTURE_NAME })) {
    if (value && value.includes('<') && value.length >= 8 && res.text.includes(value))
      out.push(`${name} appears unescaped in the page: ${excerpt(value, 80)}`);
  }
  return out;
}

// Filled by the fuzz test, checked by the one after it.
const rejectedExternalIds = new Set<string>();
const acceptedExternalIds = new Set<string>();
let requestCount = 0;

function noteMintedIds(c: Case, res: Sent): void {
  const text = `${c.path} ${typeof c.body === 'string' ? c.body : ''}`;
  const minted = text.match(MINTED_EXTERNAL_ID) ?? [];
  if (res.status < 400) for (const id of minted) acceptedExternalIds.add(id);
  else if (c.path.startsWith(`/api/connections/${fx.connectionId}/changes`))
    for (const id of minted) rejectedExternalIds.add(id); // 4xx or 5xx
}

/**
 * Nothing of a rejected /changes request reached the queue: once a change sent after them has been processed
 * (the queue got that far), no minted user of a rejected request exists on the fixture's connection.
 */
async function rejectedChangesNeverApplied(): Promise<string[]> {
  const sentinel = uniqueName('sentinel');
  await logOf(
    fx.connectionId,
    sentinel,
    await submit(fx.connectionId, {
      type: 'upsert',
      externalId: sentinel,
      version: 1,
      attributes: person(sentinel.replace('-', '.')),
    }),
  );
  const out: string[] = [];
  for (const ext of [...rejectedExternalIds].filter((id) => !acceptedExternalIds.has(id))) {
    const status = await userStatus(fx.connectionId, ext);
    if (status !== 404)
      out.push(
        `user ${ext} of a rejected POST …/changes exists (GET …/users/${ext} → ${status}): a change of a rejected request was enqueued`,
      );
  }
  return out;
}

/** Destructive-by-design operations on the fixture's connection go last, so earlier ones still meet it. */
const lastOrder = (op: Operation) =>
  op.method === 'DELETE' ? 2 : op.method === 'PATCH' && op.pathParams.length === 1 ? 1 : 0;

describe('hostile HTTP input (issue 13)', () => {
  it(
    'every route of the OpenAPI document: answers in time, no 5xx, every 4xx problem+json',
    { timeout: 300_000 },
    async () => {
      const openapi = await send('GET', '/api/openapi.json');
      expect(openapi.status).toBe(200);
      doc = openapi.json as OpenApiDocument;
      const operations = operationsOf(doc).sort((a, b) => lastOrder(a) - lastOrder(b));
      expect(operations.length).toBeGreaterThan(20);

      const failures: string[] = [];
      const started = performance.now();
      let checkedRejected = false;
      for (const [index, op] of operations.entries()) {
        const label = `${op.method} ${op.template}`;
        if (lastOrder(op) > 0 && !checkedRejected) {
          checkedRejected = true;
          failures.push(
            ...(await rejectedChangesNeverApplied().catch((e: Error) => [
              `checking that rejected changes were never applied: ${e.message}`,
            ])),
          );
        }
        const violations: string[] = [];
        const record = (what: string, found: string[]) => {
          if (found.length === 0) return true;
          violations.push(`${label}: ${what}\n    → ${found.join('\n    → ')}`);
          if (!KEEP_GOING) throw new Error(found.join('; '));
          return true;
        };
        const params = { seed: SEED + index, numRuns: runsFor(op), endOnFailure: true, includeErrorInReport: true };
        const check = () =>
          op.operationId === 'oauth-callback'
            ? fc.assert(
                fc.asyncProperty(callbackCase, async (c) => {
                  requestCount += c.state === 'none' ? 1 : 2;
                  return record(
                    describeCallback(c),
                    await callbackViolations(c).catch((e: Error) => [`no answer: ${e.name} ${e.message}`]),
                  );
                }),
                params,
              )
            : fc.assert(
                fc.asyncProperty(caseOf(op), async (c) => {
                  requestCount++;
                  let res: Sent;
                  try {
                    res = await send(c.method, c.path, { body: c.body, headers: c.headers });
                  } catch (error) {
                    const e = error as Error;
                    return record(describeCase(c), [
                      e.name === 'TimeoutError'
                        ? `no answer within ${REQUEST_TIMEOUT_MS} ms`
                        : `no answer: ${e.name} ${e.message} ${String((e.cause as Error | undefined)?.message ?? '')}`,
                    ]);
                  }
                  noteMintedIds(c, res);
                  const found = problemViolations(res, c.method, c.path);
                  if (res.status < 300) found.push(...acceptedWhatItMustRefuse(op, c, res));
                  return record(`${describeCase(c)} → ${res.status} in ${res.ms} ms`, found);
                }),
                params,
              );
        try {
          // Each operation its own seed (derived from one), so adding a route does not reshuffle the others.
          await check();
        } catch (error) {
          failures.push(`${label}\n  ${violations.at(-1) ?? (error as Error).message}\n  replay: seed ${SEED + index}`);
        }
        if (KEEP_GOING) failures.push(...violations);
      }
      console.log(
        `http-fuzz: ${requestCount} requests over ${operations.length} operations in ${Math.round(performance.now() - started)} ms (seed ${SEED})`,
      );
      expect(failures, `${failures.length} failing case(s):\n\n${[...new Set(failures)].join('\n\n')}`).toEqual([]);
    },
  );

  it('keeps serving after the fuzzing and applies a valid change', { timeout: 60_000 }, async () => {
    const health = await send('GET', '/api/health', { timeoutMs: 10_000 });
    expect(health.status, health.text).toBe(200);
    // On a new connection: the fuzzed requests may legitimately have changed the fixture's settings (a dry run,
    // allowCreate off), credentials or deleted it.
    const connectionId = await readyConnection();
    const ext = uniqueName('after');
    const operationId = await submit(connectionId, {
      type: 'upsert',
      externalId: ext,
      version: 1,
      attributes: person(ext.replace('-', '.')),
    });
    expect(await logOf(connectionId, ext, operationId, 'applied')).toMatchObject({
      result: 'applied',
      action: 'create',
    });
  });
});

/**
 * Oracles beyond "no 5xx": a change holding a lone surrogate is refused (it cannot be stored or sent to Graph),
 * and a paged route (GET) refuses a continuation token it never issued (every one sent here is made up; import's
 * are plain offsets, so digits pass there).
 */
function acceptedWhatItMustRefuse(op: Operation, c: Case, res: Sent): string[] {
  const out: string[] = [];
  if (op.operationId === 'changes-submit' && typeof c.body === 'string' && hasIllFormedString(c.body)) {
    out.push(`accepted (${res.status}) a change with a lone UTF-16 surrogate in a string: ${excerpt(res.text)}`);
  }
  const token = new URL(c.path, 'http://x').searchParams.getAll('continuation').at(-1);
  if (
    op.method === 'GET' &&
    op.queryParams.some((p) => p.name === 'continuation') &&
    token &&
    !(op.operationId === 'connections-import-get' && /^\d+$/.test(token))
  ) {
    out.push(
      `accepted (${res.status}) a continuation token it never issued (${JSON.stringify(excerpt(token, 80))}) instead of 400 invalid-continuation`,
    );
  }
  return out;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Whether parsed JSON text holds a string (key or value) that is not well-formed Unicode (a lone surrogate). */
function hasIllFormedString(text: string): boolean {
  let found = false;
  try {
    JSON.parse(text, (key, value: unknown) => {
      if (LONE_SURROGATE.test(key) || (typeof value === 'string' && LONE_SURROGATE.test(value))) found = true;
      return value;
    });
  } catch {
    return false;
  }
  return found;
}

function describeCase(c: Case): string {
  return `${c.method} ${excerpt(c.path, 300)} content-type=${c.headers['content-type'] ?? '(none)'} body=${describeBody(c.body)}`;
}

// ------------------------------------------------------------------------------------------------ regressions

function expectProblem(
  res: Sent,
  statuses: number | number[],
  code?: string,
): { errors?: { field: string; message: string }[]; code: string } {
  const allowed = Array.isArray(statuses) ? statuses : [statuses];
  expect(allowed, `status ${res.status}: ${excerpt(res.text, 600)}`).toContain(res.status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const problem = res.json as { status: number; code: string; errors?: { field: string; message: string }[] };
  expect(problem.status).toBe(res.status);
  expect(typeof problem.code).toBe('string');
  if (code) expect(problem.code, excerpt(res.text, 600)).toBe(code);
  return problem;
}

const connectionBody = (extra: Record<string, unknown>) =>
  JSON.stringify({
    name: uniqueName('fz'),
    tenantId: contoso.tenantId,
    domain: contoso.domain,
    clientId: contoso.fullApp.clientId,
    clientSecret: contoso.fullApp.secret,
    ...extra,
  });
const json = { 'content-type': 'application/json' };

describe('issue 13 findings', () => {
  it.each(['123', 'true', 'null', '"str"', '', '   ', '\n\t'])(
    '1. POST …/changes with body %j answers 400 problem+json',
    async (raw) => {
      expectProblem(
        await send('POST', `/api/connections/${fx.stable.connectionId}/changes`, { body: raw, headers: json }),
        400,
      );
    },
  );

  it.each([
    ['authorityHost', ''],
    ['authorityHost', 'x'],
    ['graphEndpoint', ''],
    ['graphEndpoint', 'x'],
  ])('2. POST /api/connections with %s %j answers 400 naming the field', async (field, value) => {
    const problem = expectProblem(
      await send('POST', '/api/connections', { body: connectionBody({ [field]: value }), headers: json }),
      400,
    );
    expect(problem.errors?.map((e) => e.field)).toContain(field);
  });

  it.each(['logs', 'runs', 'runs/{runId}', 'import'])(
    '3. GET …/%s?continuation=abc answers 400 invalid-continuation',
    async (route) => {
      const path = `/api/connections/${fx.stable.connectionId}/${route.replace('{runId}', fx.stable.runId)}?continuation=abc`;
      expectProblem(await send('GET', path, { timeoutMs: 10_000 }), 400, 'invalid-continuation');
    },
  );

  it.each(['a%2Fb', '%2e%2e%2f', '..%2F..%2Fhealth'])(
    '4. a connection id %s answers 404 connection-not-found at once',
    async (raw) => {
      for (const path of [
        `/api/connections/${raw}`,
        `/api/connections/${raw}/logs`,
        `/api/connections/${raw}/changes`,
      ]) {
        const change = { type: 'upsert', externalId: uniqueName('nf'), version: 1, attributes: person('not.found') };
        const res = await send(path.endsWith('changes') ? 'POST' : 'GET', path, {
          timeoutMs: 10_000,
          ...(path.endsWith('changes') ? { body: JSON.stringify(change), headers: json } : {}),
        });
        expectProblem(res, 404, 'connection-not-found');
        expect(res.ms, path).toBeLessThan(1500);
      }
    },
  );

  it.each(['a%2Fb', '%2e%2e%2f', '..%2F..%2Fhealth'])('4. a run id %s answers 404 or 400 at once', async (raw) => {
    const res = await send('GET', `/api/connections/${fx.stable.connectionId}/runs/${raw}`, { timeoutMs: 10_000 });
    expectProblem(res, [400, 404]);
    expect(res.ms).toBeLessThan(1500);
  });

  it('5. a change with a 1 MB password answers 400/413 naming attributes.password, and is not enqueued', async () => {
    const ext = uniqueName('big');
    const change = {
      type: 'upsert',
      externalId: ext,
      version: 1,
      attributes: { ...person(ext.replace('-', '.')), password: 'P'.repeat(1_000_000) },
    };
    const problem = expectProblem(
      await send('POST', `/api/connections/${fx.stable.connectionId}/changes`, {
        body: JSON.stringify(change),
        headers: json,
        timeoutMs: 10_000,
      }),
      [400, 413],
    );
    expect(problem.errors?.map((e) => e.field)).toContain('attributes.password');
    await expectNeverStored(fx.stable.connectionId, [ext], 3000);
  });

  it('5. a batch of a valid change and one with a 70,000-character jobTitle answers 400/413 naming changes.1.attributes.jobTitle; the valid one is never applied', async () => {
    const [good, bad] = [uniqueName('ok'), uniqueName('big')];
    const changes = [
      { type: 'upsert', externalId: good, version: 1, attributes: person(good.replace('-', '.')) },
      {
        type: 'upsert',
        externalId: bad,
        version: 1,
        attributes: { ...person(bad.replace('-', '.')), jobTitle: 'J'.repeat(70_000) },
      },
    ];
    const problem = expectProblem(
      await send('POST', `/api/connections/${fx.stable.connectionId}/changes`, {
        body: JSON.stringify({ changes }),
        headers: json,
        timeoutMs: 10_000,
      }),
      [400, 413],
    );
    expect(problem.errors?.map((e) => e.field)).toContain('changes.1.attributes.jobTitle');
    await expectNeverStored(fx.stable.connectionId, [good, bad], 3000);
  });

  it('6. an externalId with a lone surrogate ("\\ud800") answers 400 naming externalId', async () => {
    const raw = `{"type":"upsert","externalId":"\\ud800","version":1,"attributes":${JSON.stringify(person('lone.surrogate'))}}`;
    const problem = expectProblem(
      await send('POST', `/api/connections/${fx.stable.connectionId}/changes`, { body: raw, headers: json }),
      400,
    );
    expect(problem.errors?.map((e) => e.field)).toContain('externalId');
  });

  it('7. a connection name with HTML is escaped on the OAuth callback page', async () => {
    const name = '<img src=x onerror=alert(1)>';
    const id = await createConnection({ name, authMode: 'authorization_code' });
    const start = await send('GET', `/api/connections/${id}/authorize`);
    expect(start.status, start.text).toBe(302);
    // The simulated tenant consents (auto-approve) and sends the browser back with a code.
    const atTenant = await fetch(start.headers.get('location')!, {
      redirect: 'manual',
      signal: AbortSignal.timeout(10_000),
    });
    expect(atTenant.status).toBe(302);
    const callback = new URL(atTenant.headers.get('location')!);
    const page = await send('GET', `${callback.pathname}${callback.search}`, { timeoutMs: 10_000 });
    expect(page.status, page.text).toBe(200);
    expect(page.text).toContain('Connected to Microsoft 365');
    expect(page.text).not.toContain('<img src=x');
    // Escaped as an entity: &lt; or a numeric &#60; / &#x3c;.
    expect(page.text).toMatch(/(&lt;|&#0*60;|&#x0*3c;)img src=x onerror=alert\(1\)/i);
  });
});
