// What the source wants for one user, merged from changes that may arrive duplicated and in any order.
// Two parts, each versioned on its own:
//   profile   – attributes and licenses from the newest upsert;
//   lifecycle – active / inactive / removed from the newest change of any type.
// A change that advances neither part is stale. Every operation reconciles Microsoft 365 with the merged
// state, so the end state depends on the changes received, not on the order they arrived in.
import { isDeepStrictEqual } from 'node:util';
import type { LicenseRef, OperationMessage } from './change.js';
import { isInSync, type UserState } from './user-state.js';

export type LifecycleState = 'active' | 'inactive' | 'removed';

export interface DesiredState {
  profile?: { version: number; attributes: Record<string, unknown>; licenses?: LicenseRef[] };
  /** `explicit` is false when it only follows from being assigned (an upsert without `active`). */
  lifecycle?: { version: number; state: LifecycleState; explicit: boolean };
}

const falsy = (v: unknown) => v === false || (typeof v === 'string' && v.toLowerCase() === 'false') || v === 0;

function lifecycleOf(m: OperationMessage): LifecycleState {
  switch (m.type) {
    case 'upsert':
      // Being assigned means active, unless the source says the person is inactive.
      return falsy(m.attributes?.active) ? 'inactive' : 'active';
    case 'activate':
      return 'active';
    case 'deactivate':
      return 'inactive';
    case 'remove':
      return 'removed';
  }
}

/** The state after `m`, and whether `m` changed it (false: stale or a duplicate). */
export function mergeChange(state: DesiredState, m: OperationMessage): { next: DesiredState; changed: boolean } {
  const next: DesiredState = { ...state };
  let changed = false;
  if (m.type === 'upsert' && m.version > (state.profile?.version ?? 0)) {
    next.profile = {
      version: m.version,
      attributes: m.attributes ?? {},
      ...(m.licenses ? { licenses: m.licenses } : {}),
    };
    changed = true;
  }
  if (m.version > (state.lifecycle?.version ?? 0)) {
    next.lifecycle = {
      version: m.version,
      state: lifecycleOf(m),
      // Only an activate/deactivate/remove change states the lifecycle on its own; an upsert's `active` is part of
      // being assigned, so activateOnAssign decides whether it enables an existing disabled account.
      explicit: m.type !== 'upsert',
    };
    changed = true;
  }
  return { next, changed };
}

/** Highest version either part has seen. */
export const desiredVersion = (s: DesiredState | undefined) =>
  Math.max(s?.profile?.version ?? 0, s?.lifecycle?.version ?? 0);

export interface EffectiveChange {
  /** What to do: remove; make the account match the profile; or, with no profile yet, only (de)activate. */
  type: 'remove' | 'upsert' | 'activate' | 'deactivate';
  attributes: Record<string, unknown>;
  licenses?: LicenseRef[];
  /** The account's enabled state the lifecycle asks for (undefined when unknown). */
  enabled?: boolean;
  /** False when `enabled` comes from an upsert (being assigned, `active` included): activateOnAssign decides then. */
  explicit?: boolean;
  hasProfile: boolean;
}

export function effectiveChange(s: DesiredState): EffectiveChange {
  const enabled = s.lifecycle ? s.lifecycle.state === 'active' : undefined;
  const explicit = s.lifecycle ? { explicit: s.lifecycle.explicit } : {};
  if (s.lifecycle?.state === 'removed')
    return { type: 'remove', attributes: s.profile?.attributes ?? {}, hasProfile: Boolean(s.profile) };
  if (s.profile) {
    return {
      type: 'upsert',
      attributes: s.profile.attributes,
      ...(s.profile.licenses ? { licenses: s.profile.licenses } : {}),
      ...(enabled === undefined ? {} : { enabled }),
      ...explicit,
      hasProfile: true,
    };
  }
  return {
    type: enabled === false ? 'deactivate' : 'activate',
    attributes: {},
    ...(enabled === undefined ? {} : { enabled }),
    ...explicit,
    hasProfile: false,
  };
}

/**
 * Whether a source change can end without a Graph request: the object was in sync after a successful operation
 * (applied, or already so, nothing pending) that read the connection as it is now (`connectionEtag`: same mapping and
 * settings), and the merged desired state asks for exactly what that operation reconciled — only versions moved.
 * Edits made in Microsoft 365 since are reconciliation's to find, not every change's.
 */
export function asksNothingNew(
  u: UserState,
  before: DesiredState,
  after: DesiredState,
  connectionEtag: string | undefined,
): boolean {
  return (
    isInSync(u) &&
    (u.status === 'applied' || u.status === 'skipped') &&
    connectionEtag !== undefined &&
    u.appliedUnder === connectionEtag &&
    isDeepStrictEqual(effectiveChange(before), effectiveChange(after))
  );
}
