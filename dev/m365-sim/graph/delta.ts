// Delta query for users and groups (delta-query-overview, user-delta, group-delta): the first round pages
// through every object and ends with an @odata.deltaLink; later rounds return what changed since, with
// removed objects as {"id", "@removed": {"reason": "changed" (soft-deleted, restorable) | "deleted"}}.
// `$deltatoken=latest` starts from now. Delta links for identity resources live 7 days; after that (or for
// a token the service does not know) the answer is 400 `syncStateNotFound` (Microsoft 365 dev blog,
// "Duration of change tracking tokens for identity and education resources"). A "synchronization reset"
// (delta-query-overview) is 410 Gone with a Location header; /_sim/tenants/{id}/delta-reset triggers it.
import { randomBytes } from 'node:crypto';
import { DAY_MS } from '../clock.js';
import type { DeltaState, DirectoryKind, TenantState } from '../state.js';
import { GraphError } from './errors.js';
import { contextUrl, nextLink, parseSelect } from './odata.js';
import type { GraphCall, GraphResult } from './types.js';

export const DELTA_LINK_LIFETIME_MS = 7 * DAY_MS;
const DEFAULT_DELTA_PAGE = 100;

export interface DeltaResource {
  kind: DirectoryKind;
  typeName: string;
  view(tenant: TenantState, id: string, select: string[] | undefined): Record<string, unknown> | undefined;
}

function newToken(tenant: TenantState, state: DeltaState): string {
  const token = randomBytes(24).toString('base64url');
  tenant.deltaStates.set(token, state);
  return token;
}

const syncStateNotFound = () =>
  new GraphError(
    400,
    'syncStateNotFound',
    'The sync state generation is not found. The delta token is expired and data must be synchronized again.',
  );

/** `Prefer: odata.maxpagesize=N` sets the page size of delta rounds (delta-query-overview, "Use $top / Prefer"). */
function pageSize(call: GraphCall): number {
  const m = /odata\.maxpagesize=(\d+)/i.exec(call.headers['prefer'] ?? '');
  const n = m ? Number(m[1]) : DEFAULT_DELTA_PAGE;
  return Math.min(Math.max(n, 1), 999);
}

export function deltaHandler(resource: DeltaResource) {
  return (call: GraphCall): GraphResult => {
    const { tenant, now } = call;
    tenant.purgeExpired(now);
    const deltaToken = call.query.get('$deltatoken') ?? call.query.get('$deltaToken');
    const skipToken = call.query.get('$skiptoken');
    let state: DeltaState;
    if (deltaToken === 'latest') {
      const select = parseSelect(call.query, resource.typeName);
      return finish(call, resource, tenant, [], undefined, {
        kind: 'link',
        resource: resource.kind,
        changeIndex: tenant.changes[resource.kind].length,
        select,
        issuedAt: now,
      });
    } else if (deltaToken) {
      const link = tenant.deltaStates.get(deltaToken);
      if (
        !link ||
        link.kind !== 'link' ||
        link.resource !== resource.kind ||
        now - link.issuedAt > DELTA_LINK_LIFETIME_MS
      )
        throw syncStateNotFound();
      if (link.issuedAt < tenant.deltaResetAt) {
        const restart = `${call.ctx.baseUrl}/v1.0/${resource.kind}/delta${link.select ? `?$select=${link.select.join(',')}` : ''}`;
        throw new GraphError(
          410,
          'resyncRequired',
          'The delta token is no longer valid: the application must restart with a full synchronization.',
          undefined,
          { location: restart },
        );
      }
      const log = tenant.changes[resource.kind];
      // Latest change per object, in the order of those latest changes.
      const latest = new Map<string, number>();
      for (let i = link.changeIndex; i < log.length; i++) latest.set(log[i]!, i);
      const ids = [...latest.entries()].sort((a, b) => a[1] - b[1]).map(([id]) => id);
      state = {
        kind: 'changes',
        resource: resource.kind,
        ids,
        offset: 0,
        endChange: log.length,
        select: link.select,
        issuedAt: now,
      };
    } else if (skipToken) {
      const page = tenant.deltaStates.get(skipToken);
      if (
        !page ||
        page.kind === 'link' ||
        page.resource !== resource.kind ||
        now - page.issuedAt > DELTA_LINK_LIFETIME_MS
      )
        throw syncStateNotFound();
      state = page;
    } else {
      const select = parseSelect(call.query, resource.typeName);
      state = {
        kind: 'initial',
        resource: resource.kind,
        afterSeq: 0,
        endChange: tenant.changes[resource.kind].length,
        select,
        issuedAt: now,
      };
    }
    return servePage(call, resource, tenant, state);
  };
}

function servePage(call: GraphCall, resource: DeltaResource, tenant: TenantState, state: DeltaState): GraphResult {
  const size = pageSize(call);
  const items: Record<string, unknown>[] = [];
  let more = false;
  let next: DeltaState | undefined;
  if (state.kind === 'initial') {
    const collection = resource.kind === 'users' ? tenant.users : tenant.groups;
    // Delta reads its own change log, so it is not subject to the list replication delay.
    const page = (collection as typeof tenant.users).page(state.afterSeq, size, () => true);
    for (const rec of page.items) items.push(resource.view(tenant, rec.id, state.select)!);
    more = page.more;
    if (more) next = { ...state, afterSeq: page.items[page.items.length - 1]!.seq };
  } else if (state.kind === 'changes') {
    const slice = state.ids.slice(state.offset, state.offset + size);
    for (const id of slice) {
      const live = resource.view(tenant, id, state.select);
      if (live) items.push(live);
      else items.push({ id, '@removed': { reason: tenant.deletedItems.has(id) ? 'changed' : 'deleted' } });
    }
    more = state.offset + size < state.ids.length;
    if (more) next = { ...state, offset: state.offset + size };
  }
  const link: DeltaState = {
    kind: 'link',
    resource: resource.kind,
    changeIndex: state.kind === 'link' ? state.changeIndex : state.endChange,
    select: state.select,
    issuedAt: call.now,
  };
  return finish(call, resource, tenant, items, more ? next : undefined, link);
}

function finish(
  call: GraphCall,
  resource: DeltaResource,
  tenant: TenantState,
  items: Record<string, unknown>[],
  next: DeltaState | undefined,
  link: DeltaState,
): GraphResult {
  const body: Record<string, unknown> = { '@odata.context': contextUrl(call, resource.kind) };
  const query = new URLSearchParams();
  const base = { ...call, path: `/${resource.kind}/delta`, query };
  if (next) body['@odata.nextLink'] = nextLink(base, newToken(tenant, { ...next, issuedAt: call.now }), '$skiptoken');
  else body['@odata.deltaLink'] = nextLink(base, newToken(tenant, link), '$deltatoken');
  body.value = items;
  return { status: 200, body };
}
