// Import from Microsoft 365, applying an admin's selection of the four lists (import-preview.ts classifies them).
// Import never writes to Graph itself: "update from the directory" puts a re-apply on the provisioning queue like
// any correction; everything else edits the directory records. Groups (objectType group): import-group-apply.ts.
import { z } from 'zod';
import { objectTypes, reapplyStoredState } from '../domain/change.js';
import type { Connection } from '../domain/connection.js';
import type { DesiredState } from '../domain/desired-state.js';
import { attributesFromAccount, type DriftContext } from '../domain/drift.js';
import { AppError, isAppError } from '../domain/errors.js';
import { DEFAULT_MAPPING } from '../domain/mapping/mapping.js';
import { primaryMatchingRule } from '../domain/sync-settings.js';
import type { UserState } from '../domain/user-state.js';
import type { ApplyDeps } from './apply-operation.js';
import { applyGroupImport } from './import-group-apply.js';
import {
  type Classified,
  classify,
  differencesAfterImport,
  type DirectoryUser,
  type ImportList,
  normal,
  readyConnection,
  settingsOf,
} from './import-preview.js';
import { claimAccountLink } from './link-claims.js';
import type { GraphUser } from './ports.js';
import { tenantGateway } from './tenant.js';

export const importSelectionSchema = z
  .strictObject({
    objectType: z
      .enum(objectTypes)
      .default('user')
      .describe('user (default): accounts; group: groups (the lists new and update; objectIds are group ids)'),
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
    'select at least one user (or group)',
  )
  .superRefine((s, issues) => {
    if (s.objectType !== 'group') return;
    for (const list of ['activate', 'deactivate'] as const)
      if (s[list].length > 0)
        issues.addIssue({ code: 'custom', path: [list], message: 'groups have the lists new and update only' });
  });
export type ImportSelection = z.infer<typeof importSelectionSchema>;

export type ImportResult =
  | 'imported' // new: directory record created and linked
  | 'enqueued' // update from the directory: Microsoft 365 will be updated
  | 'directory-updated' // update from Microsoft 365
  | 'directory-activated'
  | 'directory-deactivated'
  | 'skipped'
  | 'failed';

/** POST …/import: applies exactly the selection, each user (or group) checked against the lists as they are now. */
export async function applyImport(deps: ApplyDeps, connectionId: string, selection: ImportSelection) {
  const connection = await readyConnection(deps, connectionId);
  if (selection.objectType === 'group') {
    const { objectType, results } = await applyGroupImport(deps, connection, selection);
    return { objectType, summary: summaryOf(results, groupResults), results };
  }
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
  const matching = primaryMatchingRule(settingsOf(connection));

  // Rows this selection edited, with their ETag since: one user can be selected in two lists (update and deactivate).
  const edited = new Map<string, string | undefined>();
  const edit = async (c: Classified, change: (d: DesiredState) => DesiredState) => {
    const listed = c.user!;
    const etag = edited.has(listed.externalId) ? edited.get(listed.externalId) : listed.etag;
    const saved = await editDirectory(deps, connection, { ...listed, ...(etag ? { etag } : {}) }, c.account, change);
    edited.set(listed.externalId, saved.etag);
  };

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
          await edit(c, (d) => ({
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
        await edit(c, (d) => ({
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
  return { summary: summaryOf(results, importResults), results };
}

const importResults = [
  'imported',
  'enqueued',
  'directory-updated',
  'directory-activated',
  'directory-deactivated',
  'skipped',
  'failed',
] as const satisfies readonly ImportResult[];
const groupResults = ['imported', 'enqueued', 'directory-updated', 'skipped', 'failed'] as const;

/** How many of the results ended each way. */
const summaryOf = (results: { result: ImportResult }[], kinds: readonly ImportResult[]) =>
  Object.fromEntries(kinds.map((r) => [r, results.filter((x) => x.result === r).length]));

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
  // Importing links the account: the same rules as adopting it (account-matching.ts).
  const roles = await tenantGateway(deps, connection, {}).users.directoryRolesOf(account.id);
  if (roles.length > 0)
    return { result: 'failed', detail: `Not imported: it holds a directory role (${roles.join(', ')})` };
  const owner = { tenantId: connection.tenantId, connectionId: connection.id, externalId };
  const refusal = await claimAccountLink(deps, owner, account.id);
  if (refusal) return { result: 'failed', detail: `Not imported: ${refusal}` };
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
    claimedObjectId: account.id,
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

/**
 * Changes a directory record's desired state in place (versions kept: the source's next change still wins), linking
 * the account — claimed first when it was only matched, as adopting it would (one account, one directory user).
 */
async function editDirectory(
  deps: ApplyDeps,
  connection: Connection,
  listed: DirectoryUser,
  account: GraphUser,
  edit: (d: DesiredState) => DesiredState,
): Promise<UserState> {
  // The lists hold a compact entry per directory user: the row itself is read now. Changed since the lists were
  // built from it (another ETag): the change received meanwhile wins, nothing is claimed or overwritten.
  const user = await deps.users.get(connection.id, listed.externalId);
  if (!user || (listed.etag !== undefined && user.etag !== listed.etag))
    throw new AppError(
      'conflict',
      'concurrent-update',
      `User ${listed.externalId} was changed since the import lists were built: preview again`,
      { externalId: listed.externalId },
    );
  if (user.claimedObjectId !== account.id) {
    const owner = { tenantId: connection.tenantId, connectionId: connection.id, externalId: user.externalId };
    const refusal = await claimAccountLink(deps, owner, account.id);
    if (refusal)
      throw new AppError('conflict', 'adoption-refused', `Account ${account.id} is not linked: ${refusal}`, {
        objectId: account.id,
      });
  }
  // With the ETag of that read: a change received meanwhile is not overwritten.
  return deps.users.save({
    ...user,
    desired: edit(user.desired ?? {}),
    objectId: account.id,
    claimedObjectId: account.id,
    updatedAt: deps.clock.now().toISOString(),
    ...(typeof account.userPrincipalName === 'string' ? { userPrincipalName: account.userPrincipalName } : {}),
  });
}
