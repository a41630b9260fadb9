// Delta rounds: which accounts a run reads, and which directory user each is compared with. A full round (first
// run, asked for, weekly, or after a lost delta token) reads the directory first — its unsettled users, and a
// compact entry per linked user — then every account (complete: a property it lacks is empty), and judges a linked
// user whose account no page returned deleted in Microsoft 365. An incremental round reads only what changed since
// the stored delta link (a property it lacks is unknown), finds the users of each page's accounts at once
// (references.ts linkedRows: point reads through the link index, or one scan for many), then checks the users
// needing attention. Pages are processed as they arrive. The DeltaPager keeps the round's position, the page link
// to read next: a run paused by throttling continues with that very link, and a full round continuing after a
// pause reads the directory again only to rebuild its entries, and gets its seen marks back.
import type { Connection } from '../../domain/connection.js';
import { type DriftContext, type ExpectedAccount, expectedAccount } from '../../domain/drift.js';
import { DEFAULT_MAPPING, mappedProperties } from '../../domain/mapping/mapping.js';
import type { RunProgress } from '../../domain/reconciliation.js';
import type { UserState } from '../../domain/user-state.js';
import type { UserPage, UsersClient } from '../ports.js';
import { linkedRows } from '../references.js';
import { type ReconcileDeps, settingsOf } from './deps.js';
import type { Findings, LinkedUser } from './findings.js';
import { pausable } from './pause.js';
import { packSeen, type SeenMark, unpackSeen } from './seen.js';

/** The properties a run reads from Graph: what it compares, plus what names an account in a report. */
export function reconcileSelect(c: Connection): string[] {
  const s = settingsOf(c);
  return [
    ...new Set([
      'id',
      'userPrincipalName',
      'accountEnabled',
      'assignedLicenses',
      ...s.matchingRules,
      ...mappedProperties(c.mapping ?? DEFAULT_MAPPING, 'update'),
    ]),
  ];
}

export interface RoundPosition {
  round: 'full' | 'incremental';
  /** The page to read next (none: a full round's first page). */
  link?: string;
  /** The round began in an earlier invocation of the run (it paused). */
  continued: boolean;
  /** A continued full round's seen marks (seen.ts). */
  seen?: string;
}

/**
 * Reads a delta round (users, or groups: group-rounds.ts) page by page from its position; a failed read pauses the
 * run there (pause.ts).
 */
export class DeltaPager<P extends { nextLink?: string; deltaLink?: string } = UserPage> {
  /** Packs the seen marks of the full round under way (set by fullRound once it has its entries). */
  packSeen: (() => string) | undefined;

  constructor(
    private readonly read: (link: string | undefined) => Promise<P>,
    private readonly tries: { attempts: number },
    public position: RoundPosition,
  ) {}

  /** A pager over the users delta round. */
  static users(
    graph: Pick<UsersClient, 'usersDeltaPage'>,
    select: string[],
    tries: { attempts: number },
    position: RoundPosition,
  ) {
    return new DeltaPager<UserPage>((link) => graph.usersDeltaPage(select, link), tries, position);
  }

  /** Processes every page from the position on; answers the last page's deltaLink (where the next round starts). */
  async each(process: (page: P) => Promise<void>): Promise<string | undefined> {
    for (;;) {
      const page = await pausable(() => this.read(this.position.link), this.tries);
      this.tries.attempts = 0;
      await process(page);
      if (!page.nextLink) return page.deltaLink;
      this.position.link = page.nextLink;
    }
  }

  /** Starts over with a full round from its first page (the token or page link is no longer valid). */
  restart(): void {
    this.position = { round: 'full', continued: false };
    this.packSeen = undefined;
  }

  /** Where the round is, for the progress a paused run saves. */
  progress(): Pick<RunProgress, 'round' | 'link' | 'seen'> {
    const seen = this.packSeen ? this.packSeen() : this.position.seen;
    return {
      round: this.position.round,
      ...(this.position.link ? { link: this.position.link } : {}),
      ...(seen ? { seen } : {}),
    };
  }
}

interface DirectoryEntry extends SeenMark {
  user: LinkedUser;
  expected: ExpectedAccount;
}

/** Every account against every directory user: drift, linked accounts gone, unmatched accounts. */
export async function fullRound(
  deps: Pick<ReconcileDeps, 'users'>,
  work: Findings,
  pager: DeltaPager,
  ctx: DriftContext,
  connection: Connection,
): Promise<string | undefined> {
  const { continued, seen } = pager.position;
  const linked = new Map<string, DirectoryEntry>();
  for await (const page of deps.users.scan(connection.id)) {
    for (const user of page) {
      // Continuing after a pause: the directory was examined before it; this reading only rebuilds the entries.
      if (!continued) work.run.examined.directory++;
      if (!user.desired) continue;
      if (user.objectId)
        linked.set(user.objectId, {
          user: compact(user, connection.id),
          expected: expectedAccount(user.desired, ctx, user.generated),
          seen: false,
        });
      if (!continued) await work.checkUnsettled(user);
    }
    await work.flush();
  }
  if (continued) unpackSeen(seen ?? '', linked);
  pager.packSeen = () => packSeen(linked);
  const deltaLink = await pager.each(async (page) => {
    for (const account of page.users) {
      if (account['@removed']) continue;
      work.run.examined.microsoft365++;
      const entry = linked.get(account.id);
      if (!entry) {
        work.unmatched(account);
        continue;
      }
      entry.seen = true;
      await work.compare(entry.user, entry.expected, account, true);
    }
    await work.flush();
  });
  // Linked accounts the full round did not return no longer exist in Microsoft 365.
  let unconfirmed = 0;
  for (const entry of linked.values()) {
    if (entry.seen) continue;
    if (entry.unconfirmed) unconfirmed++;
    else await work.accountGone(entry.user, entry.user.objectId!);
  }
  if (unconfirmed > 0)
    work.run.errors.push(
      `${unconfirmed} linked account(s) not checked for deletion in Microsoft 365: their directory links changed while this run was paused (the next full round checks them)`,
    );
  await work.flush();
  return deltaLink;
}

/** Only what changed since the stored delta link, looked up through the link index; plus unsettled users. */
export async function incrementalRound(
  deps: Pick<ReconcileDeps, 'users'>,
  work: Findings,
  pager: DeltaPager,
  ctx: DriftContext,
  connection: Connection,
): Promise<string | undefined> {
  const deltaLink = await pager.each(async (page) => {
    // The same user can appear twice in one round: the last appearance is the current one.
    const latest = new Map(page.users.map((u) => [u.id, u]));
    const accounts = [...latest.values()];
    const users = await linkedRows(deps.users, connection.id, latest.keys());
    for (const account of accounts) {
      const user = users.get(account.id);
      if (!account['@removed']) work.run.examined.microsoft365++;
      if (!user?.desired) {
        if (!account['@removed']) work.unmatched(account);
        continue;
      }
      const expected = expectedAccount(user.desired, ctx, user.generated);
      if (account['@removed']) await work.accountGone(user, account.id);
      else await work.compare(user, expected, account, false);
    }
    await work.flush();
  });
  for (const user of await deps.users.listNeedingAttention(connection.id)) {
    work.run.examined.directory++;
    await work.checkUnsettled(user);
  }
  await work.flush();
  return deltaLink;
}

const NO_ATTRIBUTES: Record<string, unknown> = Object.freeze({});
const NO_LICENSES: string[] = Object.freeze([]) as unknown as string[];

/**
 * Only the fields a run reads after the directory scan (a full round holds every linked user in memory: at
 * 100,000 users each field and object counts). The connection id string and the empty attributes and licenses
 * are shared instead of one copy per user.
 */
function compact(u: UserState, connectionId: string): LinkedUser {
  return {
    connectionId: u.connectionId === connectionId ? connectionId : u.connectionId,
    externalId: u.externalId,
    ...(u.appliedDesired ? { appliedDesired: u.appliedDesired } : {}),
    ...(u.desired
      ? {
          desired: {
            ...(u.desired.lifecycle ? { lifecycle: u.desired.lifecycle } : {}),
            ...(u.desired.profile
              ? { profile: { version: u.desired.profile.version, attributes: NO_ATTRIBUTES } }
              : {}),
          },
        }
      : {}),
    ...(u.objectId ? { objectId: u.objectId } : {}),
    ...(u.userPrincipalName ? { userPrincipalName: u.userPrincipalName } : {}),
    status: u.status,
    ownedLicenses: u.ownedLicenses.length > 0 ? u.ownedLicenses : NO_LICENSES,
  };
}
