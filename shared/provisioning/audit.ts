// Use cases: record a configuration change in the audit log, and read a connection's log (newest first).
import type { Actor, AuditAction, AuditChange, AuditEntry } from '../domain/config-audit.js';
import { AppError } from '../domain/errors.js';
import type { AuditLog, Clock, ConnectionRepository } from './ports.js';

export interface AuditDeps {
  audit: AuditLog;
  clock: Clock;
}

export async function recordChange(
  deps: AuditDeps,
  change: {
    connectionId: string;
    actor: Actor;
    action: AuditAction;
    changes: AuditChange[];
    etag?: string | undefined;
  },
): Promise<void> {
  const { etag, ...rest } = change;
  await deps.audit.append({
    ...rest,
    id: crypto.randomUUID(),
    at: deps.clock.now().toISOString(),
    ...(etag ? { etag } : {}),
  });
}

/**
 * One page of a connection's audit log, newest first. It outlives the connection (its deletion is its newest
 * entry); a connection that never existed is a 404.
 */
export async function listAudit(
  deps: Pick<AuditDeps, 'audit'> & { connections: ConnectionRepository },
  connectionId: string,
  page: { limit: number; continuation?: string | undefined },
): Promise<{ value: AuditEntry[]; continuation: string | null }> {
  const { entries, continuation } = await deps.audit.list(connectionId, page.limit, page.continuation);
  if (entries.length === 0 && !page.continuation && !(await deps.connections.get(connectionId)))
    throw new AppError('not-found', 'connection-not-found', `No connection with id ${connectionId}`, {
      connectionId,
    });
  return { value: entries, continuation: continuation ?? null };
}
