// Where the local host's and the functions' log records go. Records are structured so tests can capture and
// inspect them (for example to prove no secret is ever logged); the CLI prints them as lines.
import { format } from 'node:util';

export type LogLevel = 'trace' | 'debug' | 'information' | 'warning' | 'error' | 'critical' | 'none';

export interface LogRecord {
  time: string;
  level: LogLevel;
  /** Function name, or `host` for the host's own records. */
  category: string;
  invocationId?: string;
  message: string;
}

export interface HostLogger {
  log(level: LogLevel, category: string, invocationId: string | undefined, ...args: unknown[]): void;
  info(category: string, invocationId: string | undefined, ...args: unknown[]): void;
  warn(category: string, invocationId: string | undefined, ...args: unknown[]): void;
  error(category: string, invocationId: string | undefined, ...args: unknown[]): void;
}

export function createHostLogger(sink: (record: LogRecord) => void): HostLogger {
  const log = (level: LogLevel, category: string, invocationId: string | undefined, ...args: unknown[]) =>
    sink({
      time: new Date().toISOString(),
      level,
      category,
      ...(invocationId ? { invocationId } : {}),
      message: format(...args),
    });
  return {
    log,
    info: (c, i, ...a) => log('information', c, i, ...a),
    warn: (c, i, ...a) => log('warning', c, i, ...a),
    error: (c, i, ...a) => log('error', c, i, ...a),
  };
}

/** Human-readable line for a console. */
export function formatLogRecord(r: LogRecord): string {
  const id = r.invocationId ? ` (${r.invocationId.slice(0, 8)})` : '';
  return `[${r.time}] ${r.level.padEnd(11)} ${r.category}${id}: ${r.message}`;
}
