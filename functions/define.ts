// One declaration per function feeds both the Azure Functions runtime (through @azure/functions'
// app.http / app.storageQueue / app.timer) and the local host under dev/. Nothing else registers functions.
import type { HttpHandler, HttpMethod, StorageQueueHandler, TimerHandler } from '@azure/functions';
import type { z } from 'zod';
import { signInConfigured } from '../shared/config.js';
import { guarded, type RouteAccess } from './http-auth.js';

export type AuthLevel = 'anonymous' | 'function' | 'admin';

/** One response of an operation: a JSON (or problem+json from 400 on) body schema, an HTML page or a redirect. */
export interface OpenApiResponse {
  description: string;
  schema?: z.ZodType;
  html?: true;
  redirect?: true;
}

/**
 * How an HTTP function is described in the OpenAPI document (functions/openapi-document.ts), declared beside the
 * function so the schemas that validate requests and shape responses are the ones documented.
 */
export interface OpenApiOperation {
  summary: string;
  /** Longer prose (Markdown) where the summary cannot say all, e.g. replace vs merge semantics. */
  description?: string;
  /** The JSON request body (documented for every method but GET). */
  request?: z.ZodType;
  /** Media types the request body is accepted in (default application/json). */
  requestTypes?: string[];
  /**
   * The resource is versioned: 2xx answers carry an `ETag`, and (for a write) an `If-Match` naming a stale one
   * answers 412.
   */
  conditional?: true;
  /**
   * A SCIM route (functions/scim-support.ts): the connection's SCIM bearer token instead of the function key, bodies
   * and answers application/scim+json, errors in SCIM's format.
   */
  scim?: true;
  /** Query parameters, from the schema that validates them. */
  query?: z.ZodObject;
  responses: Record<number, OpenApiResponse>;
}

export interface HttpFunctionDefinition {
  kind: 'http';
  name: string;
  /** Route template below the /api prefix, e.g. `connections/{id}`. */
  route: string;
  methods: HttpMethod[];
  /** As registered with the host. */
  authLevel: AuthLevel;
  handler: HttpHandler;
  /**
   * Set on admin routes: who may call them is decided by functions/http-auth.ts (a read needs Provisioning.Reader or
   * Admin, a write Admin; `auto` = by the request's method). Absent on public routes.
   */
  access?: RouteAccess;
  /** Required: every route is described in the OpenAPI document the app serves. */
  openapi: OpenApiOperation;
}

/**
 * An HTTP function as declared: `anonymous` (public) or `function` (an admin route). An admin route is registered
 * `function` (the host checks the key) while Entra ID sign-in is off, and `anonymous` once it is on (the app then
 * authenticates every request itself: functions/http-auth.ts). `access` overrides the read/write decision a route's
 * method implies (e.g. a GET that starts a consent is a write).
 */
export type HttpFunctionDeclaration = Omit<HttpFunctionDefinition, 'kind' | 'authLevel' | 'access'> &
  ({ authLevel: 'anonymous' } | { authLevel: 'function'; access?: Exclude<RouteAccess, 'auto'> });

export interface StorageQueueFunctionDefinition {
  kind: 'storageQueue';
  name: string;
  /** Queue name, or an `%APP_SETTING%` reference resolved from the environment (as the host does). */
  queueName: string;
  /** Name of the app setting (prefix) holding the storage connection. */
  connection: string;
  handler: StorageQueueHandler;
}

export interface TimerFunctionDefinition {
  kind: 'timer';
  name: string;
  /** NCRONTAB (six fields, with seconds, UTC) or an `%APP_SETTING%` reference. */
  schedule: string;
  runOnStartup?: boolean;
  handler: TimerHandler;
}

export type FunctionDefinition = HttpFunctionDefinition | StorageQueueFunctionDefinition | TimerFunctionDefinition;

export function httpFunction(d: HttpFunctionDeclaration): HttpFunctionDefinition {
  if (d.authLevel === 'anonymous') return { kind: 'http', ...d };
  const access = d.access ?? 'auto';
  return {
    kind: 'http',
    ...d,
    authLevel: signInConfigured() ? 'anonymous' : 'function',
    access,
    handler: guarded(access, d.handler),
  };
}
export const storageQueueFunction = (
  d: Omit<StorageQueueFunctionDefinition, 'kind' | 'connection'> & { connection?: string },
): StorageQueueFunctionDefinition => ({ kind: 'storageQueue', connection: 'AzureWebJobsStorage', ...d });
export const timerFunction = (d: Omit<TimerFunctionDefinition, 'kind'>): TimerFunctionDefinition => ({
  kind: 'timer',
  ...d,
});

/** The subset of @azure/functions' `app` that registration uses (the real `app` satisfies it). */
export interface FunctionRegistrar {
  http(
    name: string,
    options: { route: string; methods: HttpMethod[]; authLevel: AuthLevel; handler: HttpHandler },
  ): void;
  storageQueue(name: string, options: { queueName: string; connection: string; handler: StorageQueueHandler }): void;
  timer(name: string, options: { schedule: string; runOnStartup?: boolean; handler: TimerHandler }): void;
}

export function registerFunctions(definitions: readonly FunctionDefinition[], app: FunctionRegistrar): void {
  for (const d of definitions) {
    switch (d.kind) {
      case 'http':
        app.http(d.name, { route: d.route, methods: d.methods, authLevel: d.authLevel, handler: d.handler });
        break;
      case 'storageQueue':
        app.storageQueue(d.name, { queueName: d.queueName, connection: d.connection, handler: d.handler });
        break;
      case 'timer':
        app.timer(d.name, {
          schedule: d.schedule,
          ...(d.runOnStartup === undefined ? {} : { runOnStartup: d.runOnStartup }),
          handler: d.handler,
        });
        break;
    }
  }
}
