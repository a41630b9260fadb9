// What a queue message's raw text holds, read as the Functions host reads it (host.json messageEncoding base64:
// base64 → UTF-8 → JSON when it parses, else the string). Used where a message failed and must still be recorded,
// whatever its bytes: this never throws.
import { printable } from './identifiers.js';

export type DecodedQueueText =
  /** `text`: the decoded UTF-8; `item`: its JSON, or the text itself when it is not JSON. */
  { ok: true; item: unknown; text: string } | { ok: false; reason: string };

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function decodeQueueText(text: string): DecodedQueueText {
  const compact = text.replace(/\s+/g, '');
  if (!BASE64.test(compact) || compact.length % 4 !== 0)
    return {
      ok: false,
      reason:
        'The message is not base64 (the queue trigger expects base64-encoded JSON), so the host could not read it',
    };
  let utf8: string;
  try {
    utf8 = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(compact, 'base64'));
  } catch {
    return { ok: false, reason: 'The message is base64, but not of UTF-8 text' };
  }
  try {
    return { ok: true, item: JSON.parse(utf8), text: utf8 };
  } catch {
    return { ok: true, item: utf8, text: utf8 };
  }
}

/** Longest raw message text kept in a failure record. */
export const RAW_MESSAGE_KEPT_CHARS = 2_000;
// A secret's value in JSON-ish or form-ish text: "password": "…", clientSecret=…, and the like.
const SECRET_VALUE =
  /("?(?:password|passwd|pwd|secret|clientSecret|client_secret|refresh_token|access_token|token)"?\s*[:=]\s*)("(?:[^"\\]|\\.)*"?|[^,}&\s]*)/gi;

/** The raw text of a message as a failure record keeps it: secrets redacted, well-formed, truncated. */
export function rawForRecord(text: string): string {
  const kept = printable(text.replace(SECRET_VALUE, '$1"[redacted]"'));
  return kept.length > RAW_MESSAGE_KEPT_CHARS
    ? `${kept.slice(0, RAW_MESSAGE_KEPT_CHARS)}… (${kept.length} characters)`
    : kept;
}
