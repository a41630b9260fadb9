// Transport-neutral request/response shapes, so the same Graph pipeline serves HTTPS requests and the
// sub-requests of a JSON batch.
import type { IncomingMessage } from 'node:http';

export interface SimResponse {
  status: number;
  headers: Record<string, string>;
  /** Serialised as JSON unless `text` is given. */
  body?: unknown;
  text?: string;
  /** Fault injection: destroy the socket instead of answering. */
  drop?: boolean;
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): SimResponse {
  return { status, headers, body };
}

export function emptyResponse(status: number, headers: Record<string, string> = {}): SimResponse {
  return { status, headers };
}

export function redirectResponse(location: string): SimResponse {
  return { status: 302, headers: { location, 'cache-control': 'no-store' } };
}

export function htmlResponse(status: number, text: string): SimResponse {
  return { status, headers: { 'content-type': 'text/html; charset=utf-8' }, text };
}

/** Lower-cased single-valued request headers. */
export function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers))
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
