// HTTP side of the local host: routes /<prefix>/<route> to the declared HTTP functions and runs them with the
// real HttpRequest / InvocationContext / HttpResponse classes of @azure/functions, as the worker does.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { serialize as serializeCookie } from 'cookie';
import type { HttpFunctionDefinition } from '../../functions/define.js';
import { routeNotFound } from '../../functions/http/not-found.js';
import { type Problem, problemResponse } from '../../functions/problem.js';
import { HttpRequest, HttpResponse, InvocationContext } from './azure-functions-classes.js';
import type { HostLogger } from './host-logger.js';
import { bySpecificity, type CompiledRoute, compileRoute } from './route-template.js';

export interface HttpListenerOptions {
  functions: readonly HttpFunctionDefinition[];
  routePrefix: string;
  /** Key accepted for authLevel `function` and `admin` (header x-functions-key or ?code=). */
  functionKey: string;
  logger: HostLogger;
  onInvocation?: (done: Promise<unknown>) => void;
}

interface Route {
  compiled: CompiledRoute;
  fn: HttpFunctionDefinition;
}

export function createHttpListener(options: HttpListenerOptions): Server {
  const routes: Route[] = options.functions
    .map((fn) => ({ compiled: compileRoute(fn.route), fn }))
    .sort((a, b) => bySpecificity(a.compiled, b.compiled));
  const prefix = options.routePrefix ? `/${options.routePrefix.toLowerCase()}` : '';

  return createServer((req, res) => {
    const done = handle(req, res).catch((error: unknown) => {
      options.logger.error('host', undefined, `HTTP dispatch failed: ${(error as Error)?.stack ?? String(error)}`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
    options.onInvocation?.(done);
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
    const method = (req.method ?? 'GET').toUpperCase();
    const pathname = url.pathname;
    if (prefix && !(pathname.toLowerCase() === prefix || pathname.toLowerCase().startsWith(`${prefix}/`))) {
      return writeProblem(res, routeNotFound(method));
    }
    const path = pathname.slice(prefix.length);

    const matches = routes.flatMap((r) => {
      const params = r.compiled.match(path);
      return params ? [{ ...r, params }] : [];
    });
    if (matches.length === 0) return writeProblem(res, routeNotFound(method));
    const match = matches.find((m) => m.fn.methods.some((fm) => fm === method));
    if (!match) {
      const allow = [...new Set(matches.flatMap((m) => m.fn.methods))].join(', ');
      return writeProblem(
        res,
        {
          status: 405,
          code: 'method-not-allowed',
          title: 'Method not allowed',
          detail: `${method} is not served on this path (Allow: ${allow})`,
        },
        { allow },
      );
    }
    if (match.fn.authLevel !== 'anonymous') {
      const presented = header(req, 'x-functions-key') ?? url.searchParams.get('code');
      if (!keyMatches(presented, options.functionKey))
        return writeProblem(res, {
          status: 401,
          code: 'function-key-required',
          title: 'Unauthorized',
          // The same answer for a missing and a wrong key: it says nothing about the key.
          detail: 'This operation needs a function key: header x-functions-key or query parameter code',
        });
    }

    const body = await readBody(req);
    const request = new HttpRequest({
      method,
      url: url.toString(),
      headers: flattenHeaders(req),
      query: Object.fromEntries(url.searchParams),
      params: match.params,
      ...(body.length > 0 ? { body: { bytes: body } } : {}),
    });
    const invocationId = randomUUID();
    const context = new InvocationContext({
      invocationId,
      functionName: match.fn.name,
      logHandler: (level, ...args) => options.logger.log(level, match.fn.name, invocationId, ...args),
      options: {
        trigger: {
          type: 'httpTrigger',
          name: 'request',
          route: match.fn.route,
          methods: match.fn.methods,
          authLevel: match.fn.authLevel,
        },
        extraInputs: [],
        extraOutputs: [],
      },
    });

    let result: unknown;
    try {
      result = await match.fn.handler(request, context);
    } catch (error) {
      // The real host answers 500 with no body and logs the exception.
      context.error(`Executed '${match.fn.name}' (Failed): ${(error as Error)?.stack ?? String(error)}`);
      return void res.writeHead(500).end();
    }
    await writeResult(res, result);
  }
}

async function writeResult(res: ServerResponse, result: unknown): Promise<void> {
  // The worker turns a missing result into an empty response; the host then answers 204.
  if (result === undefined || result === null) return void res.writeHead(204).end();
  if (typeof result !== 'object')
    throw new Error(
      'The HTTP response must be an object with optional properties "body", "status", "headers", and "cookies".',
    );
  const response = result instanceof HttpResponse ? result : new HttpResponse(result);
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of response.headers.entries()) headers[name] = value;
  const cookies = response.cookies.map((c) =>
    serializeCookie(c.name, c.value, {
      ...(c.domain ? { domain: c.domain } : {}),
      ...(c.path ? { path: c.path } : {}),
      ...(c.expires !== undefined ? { expires: new Date(c.expires) } : {}),
      ...(c.maxAge !== undefined ? { maxAge: c.maxAge } : {}),
      ...(c.secure ? { secure: true } : {}),
      ...(c.httpOnly ? { httpOnly: true } : {}),
      ...(c.sameSite ? { sameSite: c.sameSite.toLowerCase() as 'strict' | 'lax' | 'none' } : {}),
    }),
  );
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  const body = Buffer.from(await response.arrayBuffer());
  res.writeHead(response.status, headers).end(body);
}

/**
 * The host's own refusals (no route, wrong method, no or wrong key) as problem+json, like the app's errors. On Azure
 * the Functions host answers 401 itself, with no body, before the app runs (see README: "Errors").
 */
function writeProblem(res: ServerResponse, problem: Problem, headers: Record<string, string> = {}): void {
  const response = problemResponse(problem, headers);
  res.writeHead(response.status!, response.headers as Record<string, string>).end(response.body as string);
}

/** Compares in constant time (over the SHA-256 of each, so the length of the key leaks nothing either). */
function keyMatches(presented: string | null | undefined, key: string): boolean {
  if (presented === null || presented === undefined) return false;
  const digest = (v: string) => createHash('sha256').update(v, 'utf8').digest();
  return timingSafeEqual(digest(presented), digest(key));
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(name === 'cookie' ? '; ' : ', ') : value;
  }
  return out;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
