// OData query options as Graph's directory endpoints support them (query-parameters, paging, user-list):
// $top 1–999 (default 100), $select, $filter with eq / in / startswith, paging by @odata.nextLink with an
// opaque $skiptoken, no $skip. Advanced queries ($count, $search, $orderby, ne, endsWith) need
// `ConsistencyLevel: eventual` (aad-advanced-queries); the simulator does not implement them and says so.
import type { DirectoryRecord, IndexedCollection } from '../collection.js';
import { propertyType } from '../graph-schema/validate-body.js';
import { badRequest, GraphError } from './errors.js';
import type { GraphCall } from './types.js';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 999;

export function parseTop(query: URLSearchParams): number {
  const raw = query.get('$top');
  if (raw === null) return DEFAULT_PAGE_SIZE;
  const top = Number(raw);
  if (!Number.isInteger(top) || top < 1 || top > MAX_PAGE_SIZE) {
    // The paging docs allow a service to cap or reject; the directory rejects (user-list, "$top").
    throw badRequest(`Invalid page size specified: '${raw}'. Must be between 1 and ${MAX_PAGE_SIZE} inclusive.`);
  }
  return top;
}

export function rejectUnsupportedOptions(call: GraphCall): void {
  for (const option of ['$skip']) {
    if (call.query.has(option))
      throw new GraphError(400, 'Request_UnsupportedQuery', `'${option}' is not supported by the service.`);
  }
  const advanced = ['$count', '$search', '$orderby'].filter((o) => call.query.has(o));
  if (advanced.length === 0) return;
  if ((call.headers['consistencylevel'] ?? '').toLowerCase() !== 'eventual') {
    throw new GraphError(
      400,
      'Request_UnsupportedQuery',
      `${advanced[0]} is only supported with the 'ConsistencyLevel:eventual' header (advanced query).`,
    );
  }
  throw new GraphError(
    400,
    'Request_UnsupportedQuery',
    `Advanced query ${advanced.join(', ')} is not implemented by the simulated tenant.`,
  );
}

function entityShortName(typeName: string): string {
  const n = typeName.replace('microsoft.graph.', '');
  return n.charAt(0).toUpperCase() + n.slice(1);
}

/**
 * The $select list, each property checked against the type. A collection of directory objects (members, owners)
 * holds users and groups: give both types, and a property of either is accepted.
 */
export function parseSelect(query: URLSearchParams, typeName: string | readonly string[]): string[] | undefined {
  const raw = query.get('$select');
  if (raw === null) return undefined;
  const types = typeof typeName === 'string' ? [typeName] : typeName;
  const props = raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  for (const p of props) {
    if (!types.some((t) => propertyType(t, p))) {
      const named = types.length === 1 ? types[0]! : 'microsoft.graph.directoryObject';
      throw new GraphError(
        400,
        'BadRequest',
        `Parsing OData Select and Expand failed: Could not find a property named '${p}' on type '${named}'.`,
      );
    }
  }
  return props;
}

/** The selected properties; unset ones come back as null (or [] for collections), as Graph does. */
export function project(
  typeName: string,
  data: Record<string, unknown>,
  props: readonly string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of props) out[p] = data[p] ?? (propertyType(typeName, p)?.collection ? [] : null);
  out.id = data.id;
  return out;
}

// ---- $filter -------------------------------------------------------------------------------------

export type FilterClause =
  | { op: 'eq'; property: string; value: string | number | boolean | null }
  | { op: 'in'; property: string; values: Array<string | number | boolean | null> }
  | { op: 'startswith'; property: string; value: string }
  /** `collection/any(x:x eq v)` or `collection/any(x:x/member eq v)` (filter-query-parameter, lambda operators). */
  | { op: 'any'; property: string; member?: string; value: string | number | boolean | null };

const LITERAL = String.raw`'(?:[^']|'')*'|true|false|null|-?\d+(?:\.\d+)?|[0-9a-fA-F-]{36}`;

function parseLiteral(raw: string): string | number | boolean | null {
  if (raw.startsWith("'")) return raw.slice(1, -1).replace(/''/g, "'");
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (raw === 'null') return null;
  if (/^-?\d/.test(raw) && !raw.includes('-', 1)) return Number(raw);
  return raw;
}

/**
 * Parses `a eq 'x' and b in ('y','z') and startswith(c,'w') and d/any(x:x/e eq 'v')`. `filterable` lists the properties the
 * entity documents as supporting $filter (per its resource page); anything else is unsupported.
 */
export function parseFilter(query: URLSearchParams, typeName: string, filterable: ReadonlySet<string>): FilterClause[] {
  const raw = query.get('$filter');
  if (raw === null) return [];
  const clauses: FilterClause[] = [];
  for (const part of raw.split(/\s+and\s+/i)) {
    const text = part.trim().replace(/^\((.*)\)$/, '$1');
    let m: RegExpExecArray | null;
    let clause: FilterClause | undefined;
    if ((m = new RegExp(`^(\\w+)\\s+eq\\s+(${LITERAL})$`, 'i').exec(text))) {
      clause = { op: 'eq', property: m[1]!, value: parseLiteral(m[2]!) };
    } else if (
      (m = new RegExp(`^(\\w+)\\s+in\\s+\\(\\s*((?:${LITERAL})(?:\\s*,\\s*(?:${LITERAL}))*)\\s*\\)$`, 'i').exec(text))
    ) {
      const values = [...m[2]!.matchAll(new RegExp(LITERAL, 'g'))].map((x) => parseLiteral(x[0]));
      clause = { op: 'in', property: m[1]!, values };
    } else if ((m = /^startswith\(\s*(\w+)\s*,\s*'((?:[^']|'')*)'\s*\)$/i.exec(text))) {
      clause = { op: 'startswith', property: m[1]!, value: m[2]!.replace(/''/g, "'") };
    } else if (
      (m = new RegExp(`^(\\w+)/any\\(\\s*(\\w+)\\s*:\\s*\\2(?:/(\\w+))?\\s+eq\\s+(${LITERAL})\\s*\\)$`, 'i').exec(text))
    ) {
      clause = { op: 'any', property: m[1]!, member: m[3], value: parseLiteral(m[4]!) };
    }
    if (!clause)
      throw new GraphError(
        400,
        'Request_UnsupportedQuery',
        `Unsupported or invalid query filter clause specified: '${text}'.`,
      );
    if (!propertyType(typeName, clause.property)) {
      throw new GraphError(
        400,
        'BadRequest',
        `Could not find a property named '${clause.property}' on type '${typeName}'.`,
      );
    }
    if (clause.op === 'any' && !propertyType(typeName, clause.property)!.collection) {
      throw new GraphError(
        400,
        'BadRequest',
        `The 'any' operator applies to collections; '${clause.property}' is not a collection.`,
      );
    }
    if (!filterable.has(clause.property)) {
      throw new GraphError(
        400,
        'Request_UnsupportedQuery',
        `Unsupported or invalid query filter clause specified for property '${clause.property}' of resource '${entityShortName(typeName)}'.`,
      );
    }
    clauses.push(clause);
  }
  return clauses;
}

function clauseMatches(clause: FilterClause, data: Record<string, unknown>): boolean {
  const actual = data[clause.property];
  const eq = (v: unknown) => {
    if (Array.isArray(actual))
      return actual.some((a) => typeof a === 'string' && typeof v === 'string' && a.toLowerCase() === v.toLowerCase());
    if (typeof actual === 'string' && typeof v === 'string') return actual.toLowerCase() === v.toLowerCase();
    return (actual ?? null) === v;
  };
  switch (clause.op) {
    case 'eq':
      return eq(clause.value);
    case 'in':
      return clause.values.some(eq);
    case 'startswith':
      return typeof actual === 'string' && actual.toLowerCase().startsWith(clause.value.toLowerCase());
    case 'any': {
      if (!Array.isArray(actual)) return false;
      const want = clause.value;
      return actual.some((element: unknown) => {
        const v = clause.member ? (element as Record<string, unknown> | null)?.[clause.member] : element;
        if (typeof v === 'string' && typeof want === 'string') return v.toLowerCase() === want.toLowerCase();
        return (v ?? null) === want;
      });
    }
  }
}

export function matchesAll(clauses: FilterClause[], data: Record<string, unknown>): boolean {
  return clauses.every((c) => clauseMatches(c, data));
}

/**
 * Candidates for a filter from an index (eq / in on an indexed property), so lookups by
 * userPrincipalName, mail, employeeId, onPremisesImmutableId or id never scan the tenant.
 * Undefined = no indexed clause; the caller pages over the collection instead.
 */
export function indexedCandidates<R extends DirectoryRecord>(
  collection: IndexedCollection<R>,
  clauses: FilterClause[],
): R[] | undefined {
  const clause = clauses.find((c) => (c.op === 'eq' || c.op === 'in') && collection.isIndexed(c.property));
  if (!clause || (clause.op !== 'eq' && clause.op !== 'in')) return undefined;
  const values = clause.op === 'eq' ? [clause.value] : clause.values;
  const seen = new Map<string, R>();
  for (const v of values) for (const rec of collection.findBy(clause.property, v)) seen.set(rec.id, rec);
  return [...seen.values()].sort((a, b) => a.seq - b.seq);
}

// ---- paging --------------------------------------------------------------------------------------

export function decodeSkipToken(query: URLSearchParams): number {
  const raw = query.get('$skiptoken');
  if (raw === null) return 0;
  const m = /^seq:(\d+)$/.exec(Buffer.from(raw, 'base64url').toString('utf8'));
  if (!m) throw badRequest('The specified page token value has expired or is invalid.');
  return Number(m[1]);
}

export function encodeSkipToken(seq: number): string {
  return Buffer.from(`seq:${seq}`).toString('base64url');
}

/** The same request with a new $skiptoken (the query options are carried in the link, as Graph does). */
export function nextLink(call: GraphCall, token: string, param = '$skiptoken'): string {
  const q = new URLSearchParams(call.query);
  q.delete('$skiptoken');
  q.delete('$deltatoken');
  q.set(param, token);
  return `${call.ctx.baseUrl}/v1.0${encodePath(call.path)}?${q.toString().replace(/%24/g, '$')}`;
}

export function encodePath(path: string): string {
  return path
    .split('/')
    .map((s) =>
      encodeURIComponent(s)
        .replace(/%40/g, '@')
        .replace(/%24/g, '$')
        .replace(/%3D/g, '=')
        .replace(/%27/g, "'")
        .replace(/%28/g, '(')
        .replace(/%29/g, ')'),
    )
    .join('/');
}

export function contextUrl(call: GraphCall, fragment: string): string {
  return `${call.ctx.baseUrl}/v1.0/$metadata#${fragment}`;
}

/**
 * Generic paged list over a collection with an optional filter. `dataOf` gives the properties a filter sees when
 * some are computed rather than stored (a user's or group's assignedLicenses).
 */
export function listPage<R extends DirectoryRecord>(
  call: GraphCall,
  collection: IndexedCollection<R>,
  clauses: FilterClause[],
  top: number,
  dataOf: (rec: R) => Record<string, unknown> = (rec) => rec.data,
): { items: R[]; next?: string } {
  const afterSeq = decodeSkipToken(call.query);
  const visible = (rec: R) => rec.visibleAt <= call.now && matchesAll(clauses, dataOf(rec));
  const candidates = indexedCandidates(collection, clauses);
  if (candidates) {
    // Lists lag fresh writes (eventual consistency); a filter is a list.
    const rest = candidates.filter((r) => r.seq > afterSeq && visible(r));
    const items = rest.slice(0, top);
    return {
      items,
      next: rest.length > top ? nextLink(call, encodeSkipToken(items[items.length - 1]!.seq)) : undefined,
    };
  }
  const { items, more } = collection.page(afterSeq, top, visible);
  return { items, next: more ? nextLink(call, encodeSkipToken(items[items.length - 1]!.seq)) : undefined };
}
