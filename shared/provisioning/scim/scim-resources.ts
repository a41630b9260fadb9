// What SCIM Users and Groups share: how a stored resource is served (schemas, id, meta), lists (filter, paging,
// attributes), and how a write becomes changes. Every write is ordered under the resource row's ETag: read it,
// compute the next resource and the next version (one per change), write it conditionally (a concurrent write
// makes it start again from the newer row), then submit the changes through POST …/changes' own use case
// (submitChanges: the same validation, mapping checks, queue and executor). A submission that is refused puts the
// row back as it was, so the stored resource is always what the pipeline accepted.
import type { ChangeInput } from '../../domain/change.js';
import type { Connection } from '../../domain/connection.js';
import type { AppError } from '../../domain/errors.js';
import { isAppError } from '../../domain/errors.js';
import { ScimError } from '../../domain/scim/scim-error.js';
import { equalityOn, matches, parseFilter } from '../../domain/scim/scim-filter.js';
import { project, type Resource, type ScimKind } from '../../domain/scim/scim-resource.js';
import { isUrn, MAX_RESULTS, SCIM } from '../../domain/scim/scim-schemas.js';
import type { ApplyDeps } from '../apply-operation.js';
import { submitChanges } from '../changes.js';
import { loadConnection } from '../connections.js';
import type { ScimRecord, ScimStore } from '../ports.js';

/** A change as submitted to a connection (the connection comes from the URL). */
export type ScimChange = Omit<ChangeInput, 'connectionId'>;

export interface ScimDeps extends ApplyDeps {
  scim: ScimStore;
}

/** Where a connection's SCIM resources are served, e.g. https://host/api/scim/v2/<connection id>. */
export interface ScimRequest {
  connectionId: string;
  baseUrl: string;
}

export interface ListQuery {
  filter?: string | undefined;
  startIndex?: number | undefined;
  count?: number | undefined;
  attributes?: string | undefined;
  excludedAttributes?: string | undefined;
}

const endpoint = (kind: ScimKind) => (kind === 'user' ? 'Users' : 'Groups');

/** A stored resource as served: its schemas, id, what was received, meta (version: the latest change's). */
export function served(record: ScimRecord, baseUrl: string, resource: Resource = record.resource): Resource {
  const core = record.kind === 'user' ? SCIM.user : SCIM.group;
  return {
    schemas: [core, ...Object.keys(resource).filter(isUrn)],
    id: record.id,
    ...resource,
    meta: {
      resourceType: record.kind === 'user' ? 'User' : 'Group',
      created: record.created,
      lastModified: record.lastModified,
      location: `${baseUrl}/${endpoint(record.kind)}/${record.id}`,
      version: `W/"${record.version}"`,
    },
  };
}

/** The connection of the SCIM endpoint (a SCIM 404 when it is gone), handed on to submitOrUndo. */
export async function requireConnection(deps: ScimDeps, connectionId: string): Promise<Connection> {
  try {
    return await loadConnection(deps, connectionId);
  } catch (error) {
    if (isAppError(error) && error.code === 'connection-not-found') throw new ScimError(404, error.message);
    throw error;
  }
}

export async function load(deps: ScimDeps, at: ScimRequest, kind: ScimKind, id: string): Promise<ScimRecord> {
  const record = await deps.scim.get(at.connectionId, kind, id);
  if (!record) throw new ScimError(404, `${kind === 'user' ? 'User' : 'Group'} ${id} not found`);
  return record;
}

/** One resource as served, with `attributes` / `excludedAttributes` applied. */
export async function getOne(
  deps: ScimDeps,
  at: ScimRequest,
  kind: ScimKind,
  id: string,
  query: Pick<ListQuery, 'attributes' | 'excludedAttributes'>,
  show: (record: ScimRecord) => Resource = (r) => served(r, at.baseUrl),
): Promise<Resource> {
  await requireConnection(deps, at.connectionId);
  return project(show(await load(deps, at, kind, id)), query.attributes, query.excludedAttributes);
}

/** A ListResponse (RFC 7644 §3.4.2): filtered, in id order (stable across pages), `startIndex` 1-based. */
export async function list(
  deps: ScimDeps,
  at: ScimRequest,
  kind: ScimKind,
  query: ListQuery,
  show: (record: ScimRecord) => Resource = (r) => served(r, at.baseUrl),
): Promise<Resource> {
  await requireConnection(deps, at.connectionId);
  const filter = query.filter === undefined || query.filter.trim() === '' ? undefined : parseFilter(query.filter);
  const userName = kind === 'user' && filter ? equalityOn(filter, 'userName') : undefined;
  let records: ScimRecord[];
  if (userName !== undefined) {
    // The clients' most frequent question ("does this user exist?"): one index read, not a scan.
    const id = await deps.scim.idByUserName(at.connectionId, userName);
    const record = id ? await deps.scim.get(at.connectionId, kind, id) : undefined;
    records = record ? [record] : [];
  } else records = await deps.scim.list(at.connectionId, kind);
  const matching = records.map(show).filter((r) => !filter || matches(filter, r));
  const startIndex = Math.max(1, query.startIndex ?? 1);
  const count = Math.min(MAX_RESULTS, Math.max(0, query.count ?? MAX_RESULTS));
  const page = matching.slice(startIndex - 1, startIndex - 1 + count);
  return {
    schemas: [SCIM.listResponse],
    totalResults: matching.length,
    startIndex,
    itemsPerPage: page.length,
    Resources: page.map((r) => project(r, query.attributes, query.excludedAttributes)),
  };
}

/** Attempts at a write that loses to concurrent ones before the request is answered 409. */
const ATTEMPTS = 8;

/**
 * Writes the next version of a resource: `next(current)` answers the record to store and the changes it makes
 * (versions after current's), or undefined when nothing changes. Retried on a concurrent write.
 */
export async function write(
  deps: ScimDeps,
  at: ScimRequest,
  kind: ScimKind,
  id: string,
  next: (current: ScimRecord) => Promise<{ record: ScimRecord; changes: ScimChange[] } | undefined>,
): Promise<ScimRecord> {
  const connection = await requireConnection(deps, at.connectionId);
  for (let attempt = 1; ; attempt++) {
    const current = await load(deps, at, kind, id);
    const planned = await next(current);
    if (!planned) return current;
    let stored: ScimRecord;
    try {
      stored = await deps.scim.replace(current, planned.record);
    } catch (error) {
      if (isAppError(error) && error.code === 'concurrent-update' && attempt < ATTEMPTS) continue;
      throw error;
    }
    await submitOrUndo(deps, connection, planned.changes, () =>
      // Version numbers are never reused: a change enqueued before a storage failure stays the older one.
      deps.scim.replace(stored, { ...current, version: stored.version }),
    );
    return stored;
  }
}

/** Deletes a resource and submits its removal (retried on a concurrent write). */
export async function remove(
  deps: ScimDeps,
  at: ScimRequest,
  kind: ScimKind,
  id: string,
  removal: (current: ScimRecord) => ScimChange,
): Promise<void> {
  const connection = await requireConnection(deps, at.connectionId);
  for (let attempt = 1; ; attempt++) {
    const current = await load(deps, at, kind, id);
    try {
      await deps.scim.delete(current);
    } catch (error) {
      if (isAppError(error) && error.code === 'concurrent-update' && attempt < ATTEMPTS) continue;
      throw error;
    }
    await submitOrUndo(deps, connection, [removal(current)], () =>
      deps.scim.create({ ...withoutEtag(current), version: current.version + 1 }),
    );
    return;
  }
}

const withoutEtag = ({ etag: _e, ...record }: ScimRecord): ScimRecord => record;

/** Submits the changes through the pipeline's front door; if they are refused, undoes the write and rethrows. */
export async function submitOrUndo(
  deps: ScimDeps,
  connection: Connection,
  changes: ScimChange[],
  undo: () => Promise<unknown>,
): Promise<void> {
  if (changes.length === 0) return;
  try {
    await submitChanges(deps, connection, { changes });
  } catch (error) {
    await undo().catch(() => undefined);
    throw error;
  }
}

/** A SCIM write refused by the pipeline's checks, as the SCIM error the client should see. */
export function scimErrorOf(error: AppError): ScimError {
  const fields = (error.details.errors as { field: string; message: string }[] | undefined) ?? [];
  const detail = fields.length
    ? `${error.message}: ${fields.map((f) => `${f.field.replace(/^changes\.\d+\./, '')}: ${f.message}`).join('; ')}`
    : error.message;
  if (error.code === 'payload-too-large') return new ScimError(413, detail);
  if (error.code === 'scim-uniqueness') return new ScimError(409, detail, 'uniqueness');
  if (error.code === 'concurrent-update') return new ScimError(409, `${detail}: send the request again`);
  if (error.kind === 'invalid') return new ScimError(400, detail, 'invalidValue');
  if (error.kind === 'not-found') return new ScimError(404, detail);
  if (error.kind === 'conflict') return new ScimError(409, detail);
  if (error.kind === 'throttled') return new ScimError(429, detail);
  return new ScimError(503, detail);
}
