// Import from Microsoft 365 (Zoho Directory's step 14): which accounts match which directory users, by the linked
// object id or else the connection's matching attribute, in four lists, and applying an admin's selection:
//   new        – an account no directory user matches   → a directory record, linked, from the account's values
//   update     – both exist, mapped values differ        → overwrite from the chosen source
//   activate   – inactive in the directory, enabled here → the directory record becomes active
//   deactivate – active in the directory, disabled here  → the directory record becomes inactive
// The directory is this connection's user records (the desired state). Import never writes to Graph itself;
// "update from the directory" puts a re-apply on the provisioning queue like any correction.
import { z } from 'zod';
import { reapplyStoredState } from '../domain/change.js';
import type { Connection } from '../domain/connection.js';
import type { DesiredState } from '../domain/desired-state.js';
import {
  attributesFromAccount,
  compareAccount,
  type DriftContext,
  expectedAccount,
  type PropertyDifference,
} from '../domain/drift.js';
import { AppError, invalidContinuation, isAppError } from '../domain/errors.js';
import { applyMapping, DEFAULT_MAPPING } from '../domain/mapping/mapping.js';
import { DEFAULT_SYNC_SETTINGS, type SyncSettings } from '../domain/sync-settings.js';
import type { UserState } from '../domain/user-state.js';
import type { ApplyDeps } from './apply-operation.js';
import { loadConnection } from './connections.js';
import type { GraphUser } from './ports.js';
import { reconcileSelect } from './reconcile/rounds.js';
import { tenantGateway } from './tenant.js';

export const importLists = ['new', 'update', 'activate', 'deactivate'] as const;
export type ImportList = (typeof importLists)[number];

export const importQuerySchema = z.strictObject({
  list: z.enum(importLists).optional().describe('Page through one list (default: the first page of each)'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  continuation: z.string().max(2048).optional().describe('The token a previous page answered'),
});

export interface ImportAccount {
  objectId: string;
  userPrincipalName?: string;
  displayName?: string;
  accountEnabled?: boolean;
  /** The matching attribute's value in Microsoft 365. */
  matchingValue?: string;
}

export interface ImportEntry {
  account: ImportAccount;
  /** The directory user (absent for `new`). */
  externalId?: string;
  /** update: each mapped property as the directory has it and as Microsoft 365 has it. */
  differences?: { property: string; directory: unknown; microsoft365: unknown }[];
  /** new: properties the mapping would still change after import (expressions that do not round-trip). */
  wouldChange?: string[];
}

const settingsOf = (c: Connection): SyncSettings => ({ ...DEFAULT_SYNC_SETTINGS, ...c.settings });
const normal = (attribute: string, v: unknown) =>
  typeof v !== 'string' || v === ''
    ? undefined
    : attribute === 'userPrincipalName' || attribute === 'mail'
      ? v.toLowerCase()
      : v;
const accountOf = (u: GraphUser, matching: string): ImportAccount => ({
  objectId: u.id,
  ...(typeof u.userPrincipalName === 'string' ? { userPrincipalName: u.userPrincipalName } : {}),
  ...(typeof u.displayName === 'string' ? { displayName: u.displayName } : {}),
  ...(typeof u.accountEnabled === 'boolean' ? { accountEnabled: u.accountEnabled } : {}),
  ...(typeof u[matching] === 'string' ? { matchingValue: u[matching] } : {}),
});

interface DirectoryIndex {
  byObjectId: Map<string, UserState>;
  byMatch: Map<string, UserState>;
}

/** Directory users by link and by the matching attribute's mapped value (removed users are left out). */
async function directoryIndex(deps: ApplyDeps, connection: Connection): Promise<DirectoryIndex> {
  const mapping = connection.mapping ?? DEFAULT_MAPPING;
  const matching = settingsOf(connection).matchingAttribute;
  const index: DirectoryIndex = { byObjectId: new Map(), byMatch: new Map() };
  for await (const page of deps.users.scan(connection.id)) {
    for (const user of page) {
      if (!user.desired || user.desired.lifecycle?.state === 'removed') continue;
      if (user.objectId) index.byObjectId.set(user.objectId, user);
      const attributes = user.desired.profile?.attributes;
      const value = attributes
        ? normal(matching, applyMapping(mapping, attributes, { domain: connection.domain }, 'create').values[matching])
        : undefined;
      if (value) index.byMatch.set(value, user);
    }
  }
  return index;
}

interface Classified {
  list: ImportList;
  entry: ImportEntry;
  account: GraphUser;
  user?: UserState;
}

/** Every account of the tenant against the directory, one page of accounts at a time. */
async function* classify(deps: ApplyDeps, connection: Connection): AsyncIterable<Classified> {
  const settings = settingsOf(connection);
  const ctx: DriftContext = {
    mapping: connection.mapping ?? DEFAULT_MAPPING,
    settings: { ...settings, allowUpdate: true },
    domain: connection.domain,
  };
  const index = await directoryIndex(deps, connection);
  const gateway = tenantGateway(deps, connection, {});
  const select = [...new Set([...reconcileSelect(connection), 'displayName'])];
  let next: string | undefined;
  do {
    const page = await gateway.users.usersPage(select, next);
    for (const account of page.users) {
      const summary = accountOf(account, settings.matchingAttribute);
      const key = normal(settings.matchingAttribute, account[settings.matchingAttribute]);
      const user = index.byObjectId.get(account.id) ?? (key ? index.byMatch.get(key) : undefined);
      if (!user) {
        const wouldChange = differencesAfterImport(ctx, account).map((d) => d.property);
        yield { list: 'new', entry: { account: summary, ...(wouldChange.length ? { wouldChange } : {}) }, account };
        continue;
      }
      const desired = user.desired!;
      const differences = compareAccount(expectedAccount(desired, ctx), account, { complete: true, owned: [] }).profile;
      if (differences.length > 0) {
        yield {
          list: 'update',
          entry: {
            account: summary,
            externalId: user.externalId,
            differences: differences.map((d) => ({
              property: d.property,
              directory: d.expected,
              microsoft365: d.actual,
            })),
          },
          account,
          user,
        };
      }
      const state = desired.lifecycle?.state ?? 'active';
      if (state === 'inactive' && account.accountEnabled === true)
        yield { list: 'activate', entry: { account: summary, externalId: user.externalId }, account, user };
      if (state === 'active' && account.accountEnabled === false)
        yield { list: 'deactivate', entry: { account: summary, externalId: user.externalId }, account, user };
    }
    next = page.nextLink;
  } while (next);
}

/** What the mapping would change on an account if its values became the directory's (see attributesFromAccount). */
function differencesAfterImport(ctx: DriftContext, account: GraphUser): PropertyDifference[] {
  const desired: DesiredState = { profile: { version: 0, attributes: attributesFromAccount(ctx.mapping, account) } };
  return compareAccount(expectedAccount(desired, ctx), account, { complete: true, owned: [] }).profile;
}

/** GET …/import: the four lists' counts, and a page of one list (or the first page of each). */
export async function previewImport(deps: ApplyDeps, connectionId: string, q: z.infer<typeof importQuerySchema>) {
  const connection = await readyConnection(deps, connectionId);
  const counts: Record<ImportList, number> = { new: 0, update: 0, activate: 0, deactivate: 0 };
  const lists: Partial<Record<ImportList, ImportEntry[]>> = {};
  if (q.continuation !== undefined && !/^\d{1,9}$/.test(q.continuation)) throw invalidContinuation();
  const offset = Number(q.continuation ?? 0);
  for (const l of q.list ? [q.list] : importLists) lists[l] = [];
  for await (const c of classify(deps, connection)) {
    const position = counts[c.list]++;
    const page = lists[c.list];
    if (page && position >= (q.list ? offset : 0) && page.length < q.limit) page.push(c.entry);
  }
  const continuation = q.list && offset + q.limit < counts[q.list] ? String(offset + q.limit) : null;
  return {
    matchingAttribute: settingsOf(connection).matchingAttribute,
    counts,
    lists,
    ...(q.list ? { list: q.list, continuation } : {}),
  };
}

export const importSelectionSchema = z
  .strictObject({
    new: z
      .array(
        z.strictObject({
          objectId: z.string().min(1),
          externalId: z
            .string()
            .min(1)
            .max(256)
            .optional()
            .describe("Default: the matching attribute's value (lower-case for UPN/mail)"),
        }),
      )
      .max(10_000)
      .default([]),
    update: z
      .array(
        z.strictObject({
          externalId: z.string().min(1).max(256),
          source: z.enum(['directory', 'microsoft365']).describe('Whose values win'),
        }),
      )
      .max(10_000)
      .default([]),
    activate: z.array(z.string().min(1).max(256)).max(10_000).default([]).describe('externalIds'),
    deactivate: z.array(z.string().min(1).max(256)).max(10_000).default([]).describe('externalIds'),
  })
  .refine(
    (s) => s.new.length + s.update.length + s.activate.length + s.deactivate.length > 0,
    'select at least one user',
  );

export type ImportResult =
  | 'imported' // new: directory record created and linked
  | 'enqueued' // update from the directory: Microsoft 365 will be updated
  | 'directory-updated' // update from Microsoft 365
  | 'directory-activated'
  | 'directory-deactivated'
  | 'skipped'
  | 'failed';

/** POST …/import: applies exactly the selection, each user checked against the lists as they are now. */
export async function applyImport(
  deps: ApplyDeps,
  connectionId: string,
  selection: z.infer<typeof importSelectionSchema>,
) {
  const connection = await readyConnection(deps, connectionId);
  const wantNew = new Map(selection.new.map((n) => [n.objectId, n]));
  const wantUpdate = new Map(selection.update.map((u) => [u.externalId, u.source]));
  const wanted: Record<'activate' | 'deactivate', Set<string>> = {
    activate: new Set(selection.activate),
    deactivate: new Set(selection.deactivate),
  };
  const results: {
    list: ImportList;
    objectId?: string;
    externalId?: string;
    result: ImportResult;
    detail: string;
    operationId?: string;
    wouldChange?: string[];
  }[] = [];
  const done = {
    new: new Set<string>(),
    update: new Set<string>(),
    activate: new Set<string>(),
    deactivate: new Set<string>(),
  };
  const mapping = connection.mapping ?? DEFAULT_MAPPING;
  const matching = settingsOf(connection).matchingAttribute;

  for await (const c of classify(deps, connection)) {
    const ext = c.user?.externalId;
    try {
      if (c.list === 'new' && wantNew.has(c.account.id)) {
        done.new.add(c.account.id);
        const externalId =
          wantNew.get(c.account.id)!.externalId ?? normal(matching, c.account[matching]) ?? c.account.id;
        results.push({
          list: 'new',
          objectId: c.account.id,
          externalId,
          ...(await importAccount(deps, connection, c.account, externalId)),
        });
      } else if (c.list === 'update' && ext && wantUpdate.has(ext)) {
        done.update.add(ext);
        if (wantUpdate.get(ext) === 'directory') {
          const message = reapplyStoredState(connectionId, ext, 'import: update Microsoft 365 from the directory');
          await deps.queue.enqueue(message);
          results.push({
            list: 'update',
            externalId: ext,
            objectId: c.account.id,
            result: 'enqueued',
            detail: `Microsoft 365 will be updated: ${c.entry.differences!.map((d) => d.property).join(', ')}`,
            operationId: message.operationId,
          });
        } else {
          await editDirectory(deps, c.user!, c.account, (d) => ({
            ...d,
            profile: {
              ...d.profile!,
              attributes: { ...d.profile!.attributes, ...attributesFromAccount(mapping, c.account) },
            },
          }));
          results.push({
            list: 'update',
            externalId: ext,
            objectId: c.account.id,
            result: 'directory-updated',
            detail: `The directory now has Microsoft 365's ${c.entry.differences!.map((d) => d.property).join(', ')}`,
          });
        }
      } else if ((c.list === 'activate' || c.list === 'deactivate') && ext && wanted[c.list].has(ext)) {
        done[c.list].add(ext);
        const state = c.list === 'activate' ? 'active' : 'inactive';
        await editDirectory(deps, c.user!, c.account, (d) => ({
          ...d,
          lifecycle: { version: d.lifecycle?.version ?? 0, state, explicit: true },
        }));
        results.push({
          list: c.list,
          externalId: ext,
          objectId: c.account.id,
          result: c.list === 'activate' ? 'directory-activated' : 'directory-deactivated',
          detail: `The directory record is ${state} now, as the account is in Microsoft 365 (no Graph write)`,
        });
      }
    } catch (error) {
      if (!isAppError(error) || error.kind === 'transient' || error.kind === 'throttled') throw error;
      results.push({
        list: c.list,
        objectId: c.account.id,
        ...(ext ? { externalId: ext } : {}),
        result: 'failed',
        detail: error.message,
      });
    }
  }
  // Selected, but not (or no longer) in that list: say so instead of silently doing nothing.
  const notListed = (list: ImportList, ids: Iterable<string>, key: 'objectId' | 'externalId') => {
    for (const id of ids)
      if (!done[list].has(id))
        results.push({
          list,
          [key]: id,
          result: 'skipped',
          detail: `Not in the ${list} list (any more): nothing done`,
        });
  };
  notListed('new', wantNew.keys(), 'objectId');
  notListed('update', wantUpdate.keys(), 'externalId');
  notListed('activate', wanted.activate, 'externalId');
  notListed('deactivate', wanted.deactivate, 'externalId');
  const summary = Object.fromEntries(
    [
      'imported',
      'enqueued',
      'directory-updated',
      'directory-activated',
      'directory-deactivated',
      'skipped',
      'failed',
    ].map((r) => [r, results.filter((x) => x.result === r).length]),
  );
  return { summary, results };
}

/** A directory record for an account nobody had: linked, in sync, with attributes read back from the account. */
async function importAccount(
  deps: ApplyDeps,
  connection: Connection,
  account: GraphUser,
  externalId: string,
): Promise<{ result: ImportResult; detail: string; wouldChange?: string[] }> {
  const existing = await deps.users.get(connection.id, externalId);
  if (existing)
    return { result: 'failed', detail: `The directory already has a user ${externalId}: choose another externalId` };
  const now = deps.clock.now().toISOString();
  const mapping = connection.mapping ?? DEFAULT_MAPPING;
  // Version 0: whatever the source later sends (version ≥ 1) supersedes what was imported.
  const desired: DesiredState = {
    profile: { version: 0, attributes: attributesFromAccount(mapping, account) },
    lifecycle: { version: 0, state: account.accountEnabled === false ? 'inactive' : 'active', explicit: true },
  };
  await deps.users.save({
    connectionId: connection.id,
    externalId,
    desired,
    appliedVersion: 0,
    appliedDesired: { profile: 0, lifecycle: 0 },
    objectId: account.id,
    ...(typeof account.userPrincipalName === 'string' ? { userPrincipalName: account.userPrincipalName } : {}),
    status: 'applied',
    statusReason: 'Imported from Microsoft 365',
    // Licenses the account holds were not assigned by this connection: never removed by it.
    ownedLicenses: [],
    createdAt: now,
    updatedAt: now,
  });
  const ctx: DriftContext = {
    mapping,
    settings: { ...settingsOf(connection), allowUpdate: true },
    domain: connection.domain,
  };
  const wouldChange = differencesAfterImport(ctx, account).map((d) => d.property);
  return {
    result: 'imported',
    detail: wouldChange.length
      ? `Imported and linked; the mapping computes ${wouldChange.join(', ')} differently, so reconciliation would change them unless the mapping or the directory is adjusted`
      : 'Imported and linked',
    ...(wouldChange.length ? { wouldChange } : {}),
  };
}

/** Changes a directory record's desired state in place (versions kept: the source's next change still wins). */
async function editDirectory(
  deps: ApplyDeps,
  user: UserState,
  account: GraphUser,
  edit: (d: DesiredState) => DesiredState,
): Promise<void> {
  // The ETag of the read the lists were built from: a change received meanwhile is not overwritten.
  await deps.users.save({
    ...user,
    desired: edit(user.desired ?? {}),
    objectId: account.id,
    updatedAt: deps.clock.now().toISOString(),
    ...(typeof account.userPrincipalName === 'string' ? { userPrincipalName: account.userPrincipalName } : {}),
  });
}

async function readyConnection(deps: ApplyDeps, connectionId: string): Promise<Connection> {
  const connection = await loadConnection(deps, connectionId);
  if (connection.status !== 'ready')
    throw new AppError(
      'conflict',
      'connection-not-ready',
      `The connection is ${connection.status}: test it successfully before importing`,
      { connectionStatus: connection.status },
    );
  return connection;
}
