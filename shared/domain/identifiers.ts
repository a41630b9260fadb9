// The identifiers that arrive from outside (URLs, request bodies, queue messages) and become Table keys: what
// each may look like, decided once. Checked at the edge so a bad one is a 400/404 at once, never a storage error.
import { z } from 'zod';
import { ValidationError } from './errors.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Run ids: inverted milliseconds, a dash, 8 hex digits (see newRunId). */
const RUN_ID = /^\d{13}-[0-9a-f]{8}$/;

export const isConnectionId = (value: string) => GUID.test(value);
export const isRunId = (value: string) => RUN_ID.test(value);
export const runIdSchema = z.string().regex(RUN_ID, 'must be a run id (as POST …/reconcile answers it)');

/** A GUID, lower-cased. `what` names it in the error (e.g. "the Directory (tenant) ID"). */
export const guidSchema = (what: string) =>
  z
    .string()
    .regex(GUID, `must be a GUID (${what})`)
    .transform((s) => s.toLowerCase());
export const connectionIdSchema = guidSchema('a connection id');

/**
 * Well-formed Unicode: no lone UTF-16 surrogate. JSON can carry one (`"\ud800"`), but it cannot be stored,
 * encoded into a key or sent to Graph, so it is refused where it arrives instead of failing later.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// String.prototype.isWellFormed, written out: TypeScript's ES2022 lib does not declare it.
export const isWellFormed = (value: string) => !value.match(LONE_SURROGATE);
/** For recording or naming a bad value: each lone surrogate becomes U+FFFD. */
export const printable = (value: string) => value.replace(LONE_SURROGATE, '\uFFFD');
export const wellFormedText = () => z.string().refine(isWellFormed, 'must be well-formed Unicode (no lone surrogate)');

const MAX_EXTERNAL_ID_LENGTH = 256;
/** The person's (or group's) stable id at the source: any text but control characters, well-formed. */
export const externalIdSchema = wellFormedText()
  .min(1, 'is required')
  .max(MAX_EXTERNAL_ID_LENGTH)
  // Control characters cannot be stored in a Table key; everything else is escaped (table-keys.ts).
  .refine((s) => !/\p{Cc}/u.test(s), 'must not contain control characters');

/** Deeper JSON than any contract of ours needs; refused before anything walks it recursively (JSON.stringify, zod). */
export const MAX_JSON_DEPTH = 64;

/**
 * What is wrong with a parsed JSON body as a whole, if anything: a string (key or value) that is not well-formed
 * Unicode, or nesting deeper than MAX_JSON_DEPTH. Walks with its own stack, never recursion, so a body nested
 * 100,000 deep is a 400, not a stack overflow.
 */
export function jsonBodyProblem(value: unknown): { field: string; message: string } | undefined {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: '', depth: 0 }];
  for (let next = stack.pop(); next; next = stack.pop()) {
    if (typeof next.value === 'string') {
      if (!isWellFormed(next.value)) return { field: printable(next.path) || '(body)', message: ILL_FORMED };
      continue;
    }
    if (typeof next.value !== 'object' || next.value === null) continue;
    if (next.depth >= MAX_JSON_DEPTH)
      return {
        field: printable(next.path).slice(0, 200) || '(body)',
        message: `is nested more than ${MAX_JSON_DEPTH} levels deep`,
      };
    const prefix = next.path ? `${next.path}.` : '';
    for (const [key, child] of Object.entries(next.value).reverse()) {
      if (!isWellFormed(key)) return { field: `${printable(prefix)}${printable(key)}`, message: ILL_FORMED };
      stack.push({ value: child, path: `${prefix}${key}`, depth: next.depth + 1 });
    }
  }
  return undefined;
}

const ILL_FORMED = 'must be well-formed Unicode (a lone UTF-16 surrogate such as \\ud800 cannot be stored)';

/** Throws a ValidationError naming what is wrong with a parsed JSON body as a whole (see jsonBodyProblem). */
export function requireSaneJson(value: unknown): void {
  const problem = jsonBodyProblem(value);
  if (problem) throw new ValidationError([problem]);
}
