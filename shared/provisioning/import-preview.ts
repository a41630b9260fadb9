// Import from Microsoft 365 (Zoho Directory's step 14), the preview: which accounts match which directory users, by
// the linked object id or else the connection's matching attribute, in four lists:
//   new        – an account no directory user matches   → a directory record, linked, from the account's values
//   update     – both exist, mapped values differ        → overwrite from the chosen source
//   activate   – inactive in the directory, enabled here → the directory record becomes active
//   deactivate – active in the directory, disabled here  → the directory record becomes inactive
// The directory is this connection's user records (the desired state). Applying a selection: import-apply.ts.
// Groups (objectType group) have their own lists: import-group-preview.ts.
import { z } from 'zod';
import { objectTypes } from '../domain/change.js';
import type { Connection } from '../domain/connection.js';
import type { DesiredState } from '../domain/desired-state.js';
import {
  attributesFromAccount,
  compareAccount,
  type DriftContext,
  type ExpectedAccount,
  expectedAccount,
  type PropertyDifference,
} from '../domain/drift.js';
import { AppError, invalidContinuation } from '../domain/errors.js';
import { applyMapping, DEFAULT_MAPPING } from '../domain/mapping/mapping.js';
import {
  effectiveSettings,
  type MatchingAttribute,
  primaryMatchingRule,
  type SyncSettings,
} from '../domain/sync-settings.js';
import type { ApplyDeps } from './apply-operation.js';
import { loadConnection } from './connections.js';
import { classifyGroups, type GroupImportEntry, groupImportLists } from './import-group-preview.js';
import type { GraphUser } from './ports.js';
import { reconcileSelect } from './reconcile/rounds.js';
import { tenantGateway } from './tenant.js';

export const importLists = ['new', 'update', 'activate', 'deactivate'] as const;
export type ImportList = (typeof importLists)[number];

const listsOf = { user: importLists, group: groupImportLists } as const;

export const importQuerySchema = z
  .strictObject({
    objectType: z
      .enum(objectTypes)
      .default('user')
      .describe(
        'user (default): accounts, in the lists new / update / activate / deactivate; group: groups, in the lists new / update / readOnly',
      ),
    list: z
      .enum([...importLists, 'readOnly'])
      .optional()
      .describe("Page through one of the object type's lists (default: the first page of each)"),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    continuation: z.string().max(2048).optional().describe('The token a previous page answered'),
  })
  .superRefine((q, issues) => {
    const lists: readonly string[] = listsOf[q.objectType];
    if (q.list !== undefined && !lists.includes(q.list))
      issues.addIssue({
        code: 'custom',
        path: ['list'],
        message: `the ${q.objectType} lists are ${lists.join(', ')}`,
      });
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

export const settingsOf = (c: Connection): SyncSettings => effectiveSettings(c.settings);
export const normal = (attribute: string, v: unknown) =>
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

/**
 * What classifying an account needs of a directory user, and no more: the import reads the directory once, a page
 * at a time, and keeps one of these per user instead of the row (at 100,000 users the rows — desired state, last
 * change, last applied values — are most of the memory; `npm run bench -- import`). Applying a selection reads
 * the rows it edits again, and saves them with this ETag: a change received since the lists were built wins.
 */
export interface DirectoryUser {
  externalId: string;
  etag?: string;
  /** The lifecycle state the directory asks for. */
  state: string;
  /** The account the directory user's desired state maps to (drift.ts), compared with the account's values. */
  expected: ExpectedAccount;
}

interface DirectoryIndex {
  byObjectId: Map<string, DirectoryUser>;
  byMatch: Map<string, DirectoryUser>;
}

const matchKey = (rule: MatchingAttribute, value: unknown) => {
  const v = normal(rule, value);
  return v ? `${rule}:${v}` : undefined;
};

/**
 * Directory users by link and by each matching rule's mapped value (removed users are left out), from one scan of
 * the connection's users: a compact entry per user, each page of rows dropped once read.
 */
async function directoryIndex(deps: ApplyDeps, connection: Connection, ctx: DriftContext): Promise<DirectoryIndex> {
  const rules = ctx.settings.matchingRules;
  const index: DirectoryIndex = { byObjectId: new Map(), byMatch: new Map() };
  for await (const page of deps.users.scan(connection.id)) {
    for (const user of page) {
      if (!user.desired || user.desired.lifecycle?.state === 'removed') continue;
      const entry: DirectoryUser = {
        externalId: user.externalId,
        ...(user.etag ? { etag: user.etag } : {}),
        state: user.desired.lifecycle?.state ?? 'active',
        expected: expectedAccount(user.desired, ctx, user.generated),
      };
      if (user.objectId) index.byObjectId.set(user.objectId, entry);
      const attributes = user.desired.profile?.attributes;
      if (!attributes) continue;
      const values = applyMapping(ctx.mapping, attributes, { domain: connection.domain }, 'create').values;
      for (const rule of rules) {
        const key = matchKey(rule, values[rule]);
        if (key) index.byMatch.set(key, entry);
      }
    }
  }
  return index;
}

/** The directory user an account belongs to: its link, else the matching rules in order. */
const directoryUserOf = (index: DirectoryIndex, rules: MatchingAttribute[], account: GraphUser) =>
  index.byObjectId.get(account.id) ??
  rules.map((rule) => index.byMatch.get(matchKey(rule, account[rule]) ?? '')).find((u) => u !== undefined);

export interface Classified {
  list: ImportList;
  entry: ImportEntry;
  account: GraphUser;
  user?: DirectoryUser;
}

/**
 * Every account of the tenant against the directory: the directory read once into compact entries, then the
 * tenant one page of accounts at a time (a page is dropped once classified).
 */
export async function* classify(deps: ApplyDeps, connection: Connection): AsyncIterable<Classified> {
  const settings = settingsOf(connection);
  const ctx: DriftContext = {
    mapping: connection.mapping ?? DEFAULT_MAPPING,
    settings: { ...settings, allowUpdate: true },
    domain: connection.domain,
  };
  const index = await directoryIndex(deps, connection, ctx);
  const gateway = tenantGateway(deps, connection, {});
  const select = [...new Set([...reconcileSelect(connection), 'displayName'])];
  let next: string | undefined;
  do {
    const page = await gateway.users.usersPage(select, next);
    for (const account of page.users) {
      const summary = accountOf(account, primaryMatchingRule(settings));
      const user = directoryUserOf(index, settings.matchingRules, account);
      if (!user) {
        const wouldChange = differencesAfterImport(ctx, account).map((d) => d.property);
        yield { list: 'new', entry: { account: summary, ...(wouldChange.length ? { wouldChange } : {}) }, account };
        continue;
      }
      const differences = compareAccount(user.expected, account, { complete: true, owned: [] }).profile;
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
      if (user.state === 'inactive' && account.accountEnabled === true)
        yield { list: 'activate', entry: { account: summary, externalId: user.externalId }, account, user };
      if (user.state === 'active' && account.accountEnabled === false)
        yield { list: 'deactivate', entry: { account: summary, externalId: user.externalId }, account, user };
    }
    next = page.nextLink;
  } while (next);
}

/** What the mapping would change on an account if its values became the directory's (see attributesFromAccount). */
export function differencesAfterImport(ctx: DriftContext, account: GraphUser): PropertyDifference[] {
  const desired: DesiredState = { profile: { version: 0, attributes: attributesFromAccount(ctx.mapping, account) } };
  return compareAccount(expectedAccount(desired, ctx), account, { complete: true, owned: [] }).profile;
}

type ImportQuery = z.infer<typeof importQuerySchema>;

/**
 * GET …/import: each list's count, and a page of one list (or the first page of each). Users by default (the four
 * lists); `objectType=group`: groups (new / update / readOnly).
 */
export async function previewImport(deps: ApplyDeps, connectionId: string, q: ImportQuery) {
  const connection = await readyConnection(deps, connectionId);
  if (q.continuation !== undefined && !/^\d{1,9}$/.test(q.continuation)) throw invalidContinuation();
  if (q.objectType === 'group') {
    const settings = settingsOf(connection);
    const classified = classifyGroups(deps, connection, settings, tenantGateway(deps, connection, {}));
    return {
      objectType: 'group' as const,
      matchingRules: settings.groupMatchingRules,
      ...(await pages<GroupImportEntry>(classified, groupImportLists, q)),
    };
  }
  return {
    matchingRules: settingsOf(connection).matchingRules,
    ...(await pages<ImportEntry>(classify(deps, connection), importLists, q)),
  };
}

/** Counts every entry of every list, keeping the page asked for (one list from `continuation`, or each list's first). */
async function pages<E>(classified: AsyncIterable<{ list: string; entry: E }>, all: readonly string[], q: ImportQuery) {
  const offset = Number(q.continuation ?? 0);
  const counts = Object.fromEntries(all.map((l) => [l, 0]));
  const lists: Record<string, E[]> = {};
  for (const l of q.list ? [q.list] : all) lists[l] = [];
  for await (const c of classified) {
    const position = counts[c.list]!++;
    const page = lists[c.list];
    if (page && position >= (q.list ? offset : 0) && page.length < q.limit) page.push(c.entry);
  }
  const continuation = q.list && offset + q.limit < counts[q.list]! ? String(offset + q.limit) : null;
  return { counts, lists, ...(q.list ? { list: q.list, continuation } : {}) };
}

export async function readyConnection(deps: ApplyDeps, connectionId: string): Promise<Connection> {
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
