// Keeping a simulated tenant across restarts (`npm start` remembers; `npm run tenant --state file`): the
// directory (every tenant's apps, SKUs, users, groups, deleted items, directory roles, change log, delta links)
// and the refresh tokens handed out are saved as JSON shortly after each request and when the simulator stops,
// and loaded when it starts. Nothing else is kept: faults, the request log, throttling usage, settings and the
// clock start afresh, as after a restart of the real service's clients.
//
// The codec is generic on purpose: it walks TenantState's own fields, so a collection added to the simulator
// later is saved without touching this file. It knows plain data, Map, Set, IndexedCollection and non-finite
// numbers, and refuses anything else loudly (a class instance would come back as a plain object otherwise).
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type DirectoryRecord, IndexedCollection } from './collection.js';
import type { RefreshGrant, SimContext } from './context.js';
import type { SeedTenant } from './seed.js';
import { TenantState } from './state.js';

export const SIM_STATE_FORMAT = 'm365-sim-state';
/** Bumped when a saved file can no longer be read as is; an older file is then reported and the seed used. */
export const SIM_STATE_VERSION = 2;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Marks encoded values that JSON has no type for. */
const TAG = '$saved';

class SavedRecords {
  constructor(readonly records: DirectoryRecord[]) {}
}

function encode(value: unknown, path: string): Json | undefined {
  switch (typeof value) {
    case 'undefined':
      return undefined;
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : { [TAG]: 'number', value: String(value) };
    case 'object':
      break;
    default:
      throw new Error(`${path}: a ${typeof value} cannot be saved`);
  }
  if (value === null) return null;
  if (Array.isArray(value)) return value.map((v, i) => encode(v, `${path}[${i}]`) ?? null);
  if (value instanceof Map) {
    return {
      [TAG]: 'Map',
      entries: [...(value as Map<unknown, unknown>)].map(([k, v]) => [
        encode(k, `${path} key`) ?? null,
        encode(v, `${path}[${String(k)}]`) ?? null,
      ]),
    };
  }
  if (value instanceof Set) return { [TAG]: 'Set', values: [...value].map((v) => encode(v, `${path} item`) ?? null) };
  if (value instanceof IndexedCollection) {
    return {
      [TAG]: 'IndexedCollection',
      records: value.all().map((r: DirectoryRecord) => encode(r, `${path}[${r.id}]`) ?? null),
    };
  }
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto !== Object.prototype && proto !== null && !(value instanceof TenantState)) {
    const name = (proto as { constructor?: { name?: string } }).constructor?.name ?? 'object';
    throw new Error(`${path}: a ${name} cannot be saved (only plain data, Map, Set and IndexedCollection)`);
  }
  const out: Record<string, Json> = {};
  for (const [key, v] of Object.entries(value)) {
    const encoded = encode(v, `${path}.${key}`);
    if (encoded !== undefined) out[key] = encoded;
  }
  return TAG in out ? { [TAG]: 'Object', value: out } : out;
}

function decodeObject(json: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(json)) out[key] = decode(v);
  return out;
}

function decode(json: unknown): unknown {
  if (json === null || typeof json !== 'object') return json;
  if (Array.isArray(json)) return json.map(decode);
  const obj = json as Record<string, unknown>;
  if (!(TAG in obj)) return decodeObject(obj);
  switch (obj[TAG]) {
    case 'number':
      return Number(obj.value);
    case 'Map':
      return new Map((obj.entries as unknown[][]).map(([k, v]) => [decode(k), decode(v)]));
    case 'Set':
      return new Set((obj.values as unknown[]).map(decode));
    case 'IndexedCollection':
      return new SavedRecords((obj.records as unknown[]).map(decode) as DirectoryRecord[]);
    case 'Object':
      return decodeObject(obj.value as Record<string, unknown>);
    default:
      throw new Error(`unknown saved type ${JSON.stringify(obj[TAG])}`);
  }
}

/** A tenant as it was saved: a fresh TenantState (its indexes and methods) with every saved field put back. */
function restoreTenant(encoded: unknown): TenantState {
  const fields = decode(encoded) as Record<string, unknown>;
  if (typeof fields?.id !== 'string' || !Array.isArray(fields.domains))
    throw new Error('a tenant without id or domains');
  const tenant = new TenantState(
    {
      id: fields.id,
      displayName: fields.displayName,
      sizeClass: fields.declaredSize,
      verifiedDomains: fields.domains as SeedTenant['verifiedDomains'],
      adminUserPrincipalName: fields.adminUserPrincipalName,
    } as SeedTenant,
    Number(fields.createdDateTime),
  );
  const target = tenant as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(fields)) {
    if (value instanceof SavedRecords) {
      const collection = target[key];
      if (!(collection instanceof IndexedCollection))
        throw new Error(`tenant ${fields.id}: ${key} is not a collection`);
      for (const rec of value.records) collection.insert(rec);
    } else {
      target[key] = value;
    }
  }
  return tenant;
}

export function serializeSimState(ctx: Pick<SimContext, 'directory' | 'refreshTokens'>, now = Date.now()): string {
  return JSON.stringify({
    format: SIM_STATE_FORMAT,
    version: SIM_STATE_VERSION,
    savedAt: new Date(now).toISOString(),
    tenants: [...ctx.directory.tenants.values()].map((t) => encode(t, `tenant ${t.id}`)),
    refreshTokens: encode(ctx.refreshTokens, 'refreshTokens'),
  });
}

export interface SavedSimState {
  tenants: TenantState[];
  refreshTokens: Map<string, RefreshGrant>;
}

/** Parses a saved file; throws with what is wrong when it is not one this version can read. */
export function deserializeSimState(text: string): SavedSimState {
  const doc = JSON.parse(text) as { format?: unknown; version?: unknown; tenants?: unknown; refreshTokens?: unknown };
  if (doc?.format !== SIM_STATE_FORMAT) throw new Error(`not a ${SIM_STATE_FORMAT} file`);
  if (doc.version !== SIM_STATE_VERSION) {
    throw new Error(`saved by format version ${String(doc.version)}, this simulator reads ${SIM_STATE_VERSION}`);
  }
  if (!Array.isArray(doc.tenants) || doc.tenants.length === 0) throw new Error('no tenants');
  const refreshTokens = decode(doc.refreshTokens);
  if (!(refreshTokens instanceof Map)) throw new Error('refreshTokens is not a map');
  return { tenants: doc.tenants.map(restoreTenant), refreshTokens: refreshTokens as Map<string, RefreshGrant> };
}

export type RestoreOutcome =
  | { restored: true }
  | { restored: false; reason: 'no-file' }
  | { restored: false; reason: 'unreadable'; problem: string; keptAs?: string };

/**
 * The file a simulator keeps its state in. Saves are atomic (a temporary file renamed over the old one), at most
 * one per `saveDelayMs` while requests keep coming, and at once on `flush()` (when the simulator stops).
 */
export class SimStateFile {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly path: string,
    private readonly snapshot: () => string,
    private readonly report: (message: string) => void,
    private readonly saveDelayMs = 500,
  ) {}

  /** Puts the saved state into `ctx`. An unreadable file is reported and moved aside; the caller keeps the seed. */
  restoreInto(ctx: Pick<SimContext, 'directory' | 'refreshTokens'>): RestoreOutcome {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { restored: false, reason: 'no-file' };
      return this.unreadable(error);
    }
    let saved: SavedSimState;
    try {
      saved = deserializeSimState(text);
    } catch (error) {
      return this.unreadable(error);
    }
    ctx.directory.tenants.clear();
    for (const tenant of saved.tenants) ctx.directory.tenants.set(tenant.id, tenant);
    ctx.refreshTokens.clear();
    for (const [token, grant] of saved.refreshTokens) ctx.refreshTokens.set(token, grant);
    return { restored: true };
  }

  /** Something may have changed: save soon (at most once per delay, however many requests come). */
  changed(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.save();
    }, this.saveDelayMs);
    this.timer.unref();
  }

  /** Saves now if a save is pending. */
  flush(): void {
    if (!this.timer) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.save();
  }

  save(): void {
    const temporary = `${this.path}.${process.pid}.tmp`;
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      writeFileSync(temporary, this.snapshot(), { mode: 0o600 });
      renameSync(temporary, this.path);
    } catch (error) {
      this.report(`could not save the simulated tenant to ${this.path}: ${(error as Error).message}`);
    }
  }

  private unreadable(error: unknown): RestoreOutcome {
    const problem = (error as Error).message;
    let keptAs: string | undefined = `${this.path}.unreadable-${Date.now()}`;
    try {
      renameSync(this.path, keptAs);
    } catch {
      keptAs = undefined;
    }
    this.report(
      `the saved state ${this.path} could not be read (${problem}); starting from the seed` +
        (keptAs ? ` (the unreadable file is kept as ${keptAs})` : ''),
    );
    return { restored: false, reason: 'unreadable', problem, ...(keptAs ? { keptAs } : {}) };
  }
}
