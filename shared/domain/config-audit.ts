// The audit log of configuration changes: who changed what on a connection (its fields, credentials, settings,
// mapping, consent), when, and the ETag the connection had afterwards. Secret values never enter an entry:
// a secret's change is recorded as `set`, `changed` or `removed` only.
import { changedPaths } from './merge-patch.js';

/**
 * Who made a change. `principal`: a signed-in user (App Service authentication). `function-key`: a caller
 * holding a function key; the Functions host does not tell a Node.js function the key's name, so `keyId` is a
 * fingerprint of the key (`sha256:` and the first 12 hex digits of its SHA-256), never the key.
 * `oauth-callback`: the identity platform's redirect after someone consented in a browser.
 */
export type Actor =
  | { type: 'principal'; name: string; id?: string; identityProvider?: string }
  | { type: 'function-key'; keyId?: string }
  | { type: 'oauth-callback' };

export const auditActions = [
  'connection.created',
  'connection.updated',
  'connection.deleted',
  'settings.replaced',
  'settings.patched',
  'mapping.replaced',
  'mapping.patched',
  'groupMapping.replaced',
  'groupMapping.patched',
  'authorization.completed',
  'admin-consent.granted',
  'scim-token.created',
  'scim-token.revoked',
] as const;
export type AuditAction = (typeof auditActions)[number];

/** One changed field: values before and after (absent: the field was absent), or for a secret only what happened. */
export type AuditChange =
  { path: string; before?: unknown; after?: unknown } | { path: string; secret: 'set' | 'changed' | 'removed' };

export interface AuditEntry {
  connectionId: string;
  /** Unique per entry. */
  id: string;
  at: string;
  actor: Actor;
  action: AuditAction;
  changes: AuditChange[];
  /** The connection's ETag after the change (as stored; none after a deletion). */
  etag?: string;
}

/**
 * The changes between two documents; a path under one of `secretPaths` (or equal to one) is recorded without
 * its values, once per secret.
 */
export function auditChanges(before: unknown, after: unknown, secretPaths: readonly string[] = []): AuditChange[] {
  const out: AuditChange[] = [];
  const secretsSeen = new Set<string>();
  for (const change of changedPaths(before, after)) {
    const secret = secretPaths.find((s) => change.path === s || change.path.startsWith(`${s}.`));
    if (!secret) {
      out.push(change);
      continue;
    }
    if (secretsSeen.has(secret)) continue;
    secretsSeen.add(secret);
    const had = change.path === secret ? 'before' in change : true;
    const has = change.path === secret ? 'after' in change : true;
    out.push({ path: secret, secret: !had ? 'set' : !has ? 'removed' : 'changed' });
  }
  return out;
}
