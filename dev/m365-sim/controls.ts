// /_sim/… — the test and developer controls. Not part of Microsoft's surface; never reachable through
// the Graph or login paths. JSON in, JSON out.
import { z } from 'zod';
import { DAY_MS, HOUR_MS, MINUTE_MS } from './clock.js';
import type { SimContext } from './context.js';
import { findUser, userData } from './graph/user-view.js';
import { jsonResponse, type SimResponse } from './http.js';
import { parseSeed } from './seed.js';
import { generateUsers, type UserRecord } from './state.js';

export interface ControlHooks {
  reset(seed?: unknown): void;
  readyInfo(): unknown;
}

const advanceSchema = z.object({
  ms: z.number().min(0).default(0),
  seconds: z.number().min(0).default(0),
  minutes: z.number().min(0).default(0),
  hours: z.number().min(0).default(0),
  days: z.number().min(0).default(0),
});
const settingsSchema = z.object({
  throttling: z.boolean().optional(),
  timeScale: z.number().positive().optional(),
  replicationDelayMs: z.number().min(0).optional(),
  groupLicenseDelayMs: z.number().min(0).optional(),
  apiTokenBackdateSeconds: z.number().int().min(0).optional(),
});
const interactiveSchema = z.object({ decision: z.enum(['approve', 'deny']), userPrincipalName: z.string().optional() });
const roleGrantSchema = z.object({ role: z.string().min(1) });
const generateSchema = z.object({
  count: z.number().int().min(1).max(1_000_000),
  prefix: z
    .string()
    .regex(/^[a-z0-9.]+$/i)
    .optional(),
});

const notFound = (what: string) => jsonResponse(404, { error: { code: 'NotFound', message: what } });

export function handleControl(
  ctx: SimContext,
  hooks: ControlHooks,
  method: string,
  path: string,
  query: URLSearchParams,
  body: unknown,
): SimResponse {
  try {
    return route(ctx, hooks, method, path, query, body) ?? notFound(`no control ${method} ${path}`);
  } catch (e) {
    if (e instanceof z.ZodError)
      return jsonResponse(400, { error: { code: 'InvalidControlRequest', message: z.prettifyError(e) } });
    if (e instanceof Error && e.name === 'SeedError')
      return jsonResponse(400, { error: { code: 'InvalidSeed', message: e.message } });
    throw e;
  }
}

function route(
  ctx: SimContext,
  hooks: ControlHooks,
  method: string,
  path: string,
  query: URLSearchParams,
  body: unknown,
): SimResponse | undefined {
  const key = `${method} ${path}`;
  switch (key) {
    case 'GET /_sim/health':
      return jsonResponse(200, { ok: true });
    case 'GET /_sim/info':
      return jsonResponse(200, hooks.readyInfo());
    case 'POST /_sim/reset':
      if (body && typeof body === 'object' && 'seed' in body) parseSeed(body.seed, 'seed in /_sim/reset');
      hooks.reset(body && typeof body === 'object' && 'seed' in body ? body.seed : undefined);
      return jsonResponse(200, { reset: true });
    case 'GET /_sim/requests': {
      const since = query.get('since');
      return jsonResponse(200, {
        value: ctx.log.list({
          sinceSeq: since ? Number(since) : undefined,
          tenantId: query.get('tenantId') ?? undefined,
          surface: query.get('surface') ?? undefined,
        }),
      });
    }
    case 'DELETE /_sim/requests':
      ctx.log.clear();
      return jsonResponse(200, { cleared: true });
    case 'GET /_sim/clock':
      return jsonResponse(200, { now: new Date(ctx.clock.now()).toISOString() });
    case 'POST /_sim/clock/advance': {
      const a = advanceSchema.parse(body ?? {});
      ctx.clock.advance(a.ms + a.seconds * 1000 + a.minutes * MINUTE_MS + a.hours * HOUR_MS + a.days * DAY_MS);
      return jsonResponse(200, { now: new Date(ctx.clock.now()).toISOString() });
    }
    case 'GET /_sim/faults':
      return jsonResponse(200, { value: ctx.faults.list() });
    case 'POST /_sim/faults':
      return jsonResponse(201, ctx.faults.add(body));
    case 'DELETE /_sim/faults':
      ctx.faults.clear();
      return jsonResponse(200, { cleared: true });
    case 'GET /_sim/stats':
      return jsonResponse(200, ctx.log.stats);
    case 'GET /_sim/settings':
      return jsonResponse(200, ctx.settings);
    case 'PATCH /_sim/settings':
    case 'PUT /_sim/settings': {
      const s = settingsSchema.parse(body ?? {});
      Object.assign(ctx.settings, Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)));
      if (s.throttling !== undefined || s.timeScale !== undefined) ctx.throttle.reset();
      return jsonResponse(200, ctx.settings);
    }
    case 'PUT /_sim/interactive':
      ctx.interactive = interactiveSchema.parse(body ?? {});
      return jsonResponse(200, ctx.interactive);
    case 'GET /_sim/tenants':
      return jsonResponse(200, {
        value: [...ctx.directory.tenants.values()].map((t) => ({
          id: t.id,
          displayName: t.displayName,
          sizeClass: t.sizeClass,
          users: t.users.size,
          groups: t.groups.size,
          deletedItems: t.deletedItems.size,
        })),
      });
  }
  const tenantMatch = /^\/_sim\/tenants\/([^/]+)(\/.*)$/.exec(path);
  if (!tenantMatch) return undefined;
  const tenant = ctx.directory.tenant(decodeURIComponent(tenantMatch[1]!));
  if (!tenant) return notFound(`tenant ${tenantMatch[1]}`);
  const rest = tenantMatch[2]!;
  // What the controls show is the directory as it is now, background licensing work included.
  tenant.processLicenseWork(ctx.clock.now());
  if (method === 'POST' && rest === '/generate-users') {
    const g = generateSchema.parse(body ?? {});
    const created = generateUsers(tenant, g.count, ctx.clock.now(), g.prefix);
    return jsonResponse(200, { created, total: tenant.users.size });
  }
  if (method === 'POST' && rest === '/delta-reset') {
    tenant.deltaResetAt = ctx.clock.now() + 1;
    return jsonResponse(200, { deltaResetAt: new Date(tenant.deltaResetAt).toISOString() });
  }
  if (method === 'GET' && rest === '/skus') {
    return jsonResponse(200, {
      value: [...tenant.skus.values()].map((s) => ({
        skuId: s.skuId,
        skuPartNumber: s.skuPartNumber,
        enabled: s.prepaidUnits.enabled,
        consumed: s.assigned + s.externalConsumed,
        free: tenant.freeSeats(s.skuId),
      })),
    });
  }
  const roleMatch = /^\/users\/([^/]+)\/directory-roles$/.exec(rest);
  if (method === 'POST' && roleMatch) {
    // Grants a directory role (by display name or template id), as an admin would in the Entra admin center.
    const { role } = roleGrantSchema.parse(body ?? {});
    const user = findUser(tenant, decodeURIComponent(roleMatch[1]!));
    if (!user) return notFound(`user ${roleMatch[1]}`);
    let granted;
    try {
      granted = tenant.activateRole(role);
    } catch {
      return jsonResponse(400, { error: { code: 'InvalidControlRequest', message: `unknown directory role ${role}` } });
    }
    tenant.addRoleMember(granted, user);
    tenant.recordChange('users', user.id);
    return jsonResponse(200, { roleId: granted.id, displayName: granted.displayName });
  }
  const userMatch = /^\/users\/([^/]+)$/.exec(rest);
  if (method === 'GET' && userMatch) {
    // The stored user (including soft-deleted ones and memberships) for assertions that Graph cannot make.
    const ref = decodeURIComponent(userMatch[1]!);
    const live = findUser(tenant, ref);
    const deleted = live ? undefined : tenant.deletedItems.get(ref.toLowerCase());
    const user = live ?? (deleted?.kind === 'user' ? (deleted.record as UserRecord) : undefined);
    if (!user) return notFound(`user ${ref}`);
    return jsonResponse(200, {
      ...userData(tenant, user),
      deleted: !live,
      memberOf: [...user.memberOf],
      isPrivileged: user.isPrivileged,
      directoryRoles: tenant.rolesOf(user.id).map((r) => r.displayName),
    });
  }
  return undefined;
}
