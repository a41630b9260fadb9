// Delta query for users and groups (delta-query-overview, user-delta, group-delta): the first round pages
// through every object and ends with an @odata.deltaLink; later rounds return what changed since, with
// removed objects as {"id", "@removed": {"reason": "changed" (soft-deleted, restorable) | "deleted"}}.
// `$deltatoken=latest` starts from now. Delta links for identity resources live 7 days; after that (or for
// a token the service does not know) the answer is 400 `syncStateNotFound` (Microsoft 365 dev blog,
// "Duration of change tracking tokens for identity and education resources"). A "synchronization reset"
// (delta-query-overview) is 410 Gone with a Location header; /_sim/tenants/{id}/delta-reset triggers it.
// Groups carry `members@delta` (group-delta, delta-query-groups): by default or with `$select=members` (or
// `$expand=members`); the first round lists every member as {"@odata.type", "id"}, later rounds the members added
// and removed ({…, "@removed": {"reason": "deleted"}}); a large group's list is split across pages, the group
// repeated with the next part. Owners are tracked the same way with `$select=owners`.
import { randomBytes } from 'node:crypto';
import { DAY_MS } from '../clock.js';
import type { DeltaCarry, DeltaState, DirectoryKind, TenantState } from '../state.js';
import { GraphError } from './errors.js';
import { contextUrl, nextLink, parseSelect } from './odata.js';
import type { GraphCall, GraphResult } from './types.js';

export const DELTA_LINK_LIFETIME_MS = 7 * DAY_MS;
const DEFAULT_DELTA_PAGE = 100;

export interface DeltaResource {
  kind: DirectoryKind;
  typeName: string;
  view(tenant: TenantState, id: string, select: string[] | undefined): Record<string, unknown> | undefined;
  /**
   * Relationships a round can track, answered as `<name>@delta` (group-delta: `$select=members`, or by default
   * when there is no $select; any other directoryObject collection such as owners when selected).
   */
  links?: { tracked: readonly string[]; byDefault: readonly string[] };
  /**
   * The `<link>@delta` entries of one object: every current one (initial round), or the changes made in
   * `changes[window.from, window.to)`, a removed one with `"@removed": {"reason": "deleted"}`.
   */
  linkEntries?(
    tenant: TenantState,
    id: string,
    link: string,
    window: { from: number; to: number } | undefined,
  ): Array<Record<string, unknown>>;
}

/**
 * How many `<link>@delta` entries a page holds: a large group's members are split across pages, the group repeated
 * with the next part (delta-query-groups, "Paging through members in a large group"). Graph does not document the
 * size; here it is ten entries per object the page may hold.
 */
export const LINK_ENTRIES_PER_OBJECT = 10;

type Entries = Record<string, Array<Record<string, unknown>>>;

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

/** $select split into structural properties (checked against the type) and tracked relationships. */
function tracking(call: GraphCall, resource: DeltaResource): { select?: string[]; links?: string[] } {
  const raw = call.query.get('$select');
  const tracked = resource.links?.tracked ?? [];
  const expand = (call.query.get('$expand') ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => tracked.includes(p));
  if (raw === null) {
    const links = [...new Set([...(resource.links?.byDefault ?? []), ...expand])];
    return links.length > 0 ? { links } : {};
  }
  const names = raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const structural = new URLSearchParams({ $select: names.filter((n) => !tracked.includes(n)).join(',') });
  const links = [...new Set([...names.filter((n) => tracked.includes(n)), ...expand])];
  return { select: parseSelect(structural, resource.typeName) ?? [], ...(links.length > 0 ? { links } : {}) };
}

export function deltaHandler(resource: DeltaResource) {
  return (call: GraphCall): GraphResult => {
    const { tenant, now } = call;
    tenant.purgeExpired(now);
    const deltaToken = call.query.get('$deltatoken') ?? call.query.get('$deltaToken');
    const skipToken = call.query.get('$skiptoken');
    let state: DeltaState;
    if (deltaToken === 'latest') {
      return finish(call, resource, tenant, [], undefined, {
        kind: 'link',
        resource: resource.kind,
        changeIndex: tenant.changes[resource.kind].length,
        ...tracking(call, resource),
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
        const selected = [...(link.select ?? []), ...(link.links ?? [])];
        const restart = `${call.ctx.baseUrl}/v1.0/${resource.kind}/delta${link.select ? `?$select=${selected.join(',')}` : ''}`;
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
        startChange: link.changeIndex,
        endChange: log.length,
        select: link.select,
        links: link.links,
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
      state = {
        kind: 'initial',
        resource: resource.kind,
        afterSeq: 0,
        endChange: tenant.changes[resource.kind].length,
        ...tracking(call, resource),
        issuedAt: now,
      };
    }
    return servePage(call, resource, tenant, state);
  };
}

/** Up to `budget` entries off the front of `entries` (link by link); the rest, if any, for the next page. */
function take(entries: Entries, budget: number): { chunk: Entries; rest?: Entries; used: number } {
  const chunk: Entries = {};
  const rest: Entries = {};
  let used = 0;
  for (const [link, list] of Object.entries(entries)) {
    const n = Math.max(0, Math.min(list.length, budget - used));
    if (n > 0) chunk[link] = list.slice(0, n);
    if (n < list.length) rest[link] = list.slice(n);
    used += n;
  }
  return { chunk, used, ...(Object.keys(rest).length > 0 ? { rest } : {}) };
}

function servePage(call: GraphCall, resource: DeltaResource, tenant: TenantState, state: DeltaState): GraphResult {
  if (state.kind === 'link') return finish(call, resource, tenant, [], undefined, state);
  const size = pageSize(call);
  let budget = size * LINK_ENTRIES_PER_OBJECT;
  const items: Record<string, unknown>[] = [];
  const window =
    state.kind === 'changes' ? { from: state.startChange ?? state.endChange, to: state.endChange } : undefined;
  const entriesOf = (id: string): Entries => {
    const out: Entries = {};
    for (const link of state.links ?? []) {
      const list = resource.linkEntries?.(tenant, id, link, window) ?? [];
      if (list.length > 0) out[link] = list;
    }
    return out;
  };
  /** Serves one live object with as many of its entries as fit; answers what did not fit. */
  const serve = (id: string, base: Record<string, unknown>, entries: Entries): DeltaCarry | undefined => {
    const { chunk, rest, used } = take(entries, budget);
    budget -= used;
    const item: Record<string, unknown> = { ...base };
    for (const [link, list] of Object.entries(chunk)) item[`${link}@delta`] = list;
    items.push(item);
    return rest ? { id, entries: rest } : undefined;
  };
  let carry: DeltaCarry | undefined;
  if (state.carry) {
    const base = resource.view(tenant, state.carry.id, state.select) ?? { id: state.carry.id };
    carry = serve(state.carry.id, base, state.carry.entries);
  }
  let next: DeltaState | undefined;
  if (state.kind === 'initial') {
    const collection = (resource.kind === 'users' ? tenant.users : tenant.groups) as typeof tenant.users;
    // Delta reads its own change log, so it is not subject to the list replication delay.
    const after = (seq: number) => collection.page(seq, 1, () => true).items[0];
    let afterSeq = state.afterSeq;
    while (!carry && items.length < size && budget > 0) {
      const rec = after(afterSeq);
      if (!rec) break;
      afterSeq = rec.seq;
      carry = serve(rec.id, resource.view(tenant, rec.id, state.select)!, entriesOf(rec.id));
    }
    if (carry || after(afterSeq)) next = { ...state, afterSeq, carry };
  } else {
    let offset = state.offset;
    while (!carry && items.length < size && budget > 0 && offset < state.ids.length) {
      const id = state.ids[offset++]!;
      const live = resource.view(tenant, id, state.select);
      if (live) carry = serve(id, live, entriesOf(id));
      else items.push({ id, '@removed': { reason: tenant.deletedItems.has(id) ? 'changed' : 'deleted' } });
    }
    if (carry || offset < state.ids.length) next = { ...state, offset, carry };
  }
  const link: DeltaState = {
    kind: 'link',
    resource: resource.kind,
    changeIndex: state.endChange,
    select: state.select,
    links: state.links,
    issuedAt: call.now,
  };
  return finish(call, resource, tenant, items, next, link);
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
