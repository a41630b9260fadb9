// Table keys may not contain / \ # ? or control characters, and a key that is not well-formed Unicode cannot be
// sent at all. Every PartitionKey and RowKey built from outside input (connection ids, external ids, run ids,
// object ids) goes through encodeKey: reversible, and no input can fail or address another row.
// encodeURIComponent leaves GUIDs, run ids and `_`/`-`/`.` unchanged, so keys written before it was applied
// everywhere read the same.
import { AppError } from '../domain/errors.js';
import { isWellFormed } from '../domain/identifiers.js';

export function encodeKey(value: string): string {
  if (!isWellFormed(value))
    throw new AppError(
      'invalid',
      'invalid-key',
      'An id is not well-formed Unicode (a lone UTF-16 surrogate): it cannot be stored',
    );
  // `'` is left as is by encodeURIComponent; keys are also written into OData filters (odataString doubles it).
  return encodeURIComponent(value);
}
export const decodeKey = (key: string) => decodeURIComponent(key);

/** A JSON column (strings up to 64 KiB) read back, or undefined when absent. */
export function parseJsonColumn<T>(value: unknown): T | undefined {
  return typeof value === 'string' && value !== '' ? (JSON.parse(value) as T) : undefined;
}

/**
 * A Table string holds 32 Ki UTF-16 code units (64 KiB). Text longer than PART_CHARS is written over `name`,
 * `name__1`, `name__2`, … (never splitting a surrogate pair) and read back joined; the entity's 1 MiB limit still
 * bounds the whole row. Rows must be written with Replace, so a shorter value leaves no stale part.
 */
const PART_CHARS = 30_000;
const PART_SUFFIX = /__\d+$/;
export const isJsonColumnPart = (column: string) => PART_SUFFIX.test(column);

export function writeLongText(entity: Record<string, unknown>, name: string, text: string): void {
  for (let start = 0, part = 0; start < text.length; part++) {
    let end = Math.min(text.length, start + PART_CHARS);
    // A high surrogate at the cut stays with its low half in the next part.
    if (end < text.length && /[\uD800-\uDBFF]/.test(text.charAt(end - 1))) end--;
    entity[part === 0 ? name : `${name}__${part}`] = text.slice(start, end);
    start = end;
  }
}

export function readLongText(entity: Record<string, unknown>, name: string): string {
  let text = typeof entity[name] === 'string' ? entity[name] : '';
  for (let part = 1; typeof entity[`${name}__${part}`] === 'string'; part++)
    text += entity[`${name}__${part}`] as string;
  return text;
}

/** A JSON value as one column, or as parts when it is longer than one Table string (see writeLongText). */
export const writeJsonColumn = (entity: Record<string, unknown>, name: string, value: unknown) =>
  writeLongText(entity, name, JSON.stringify(value));
export const readJsonColumn = <T>(entity: Record<string, unknown>, name: string): T | undefined =>
  parseJsonColumn<T>(readLongText(entity, name));

/** OData string literal inside a $filter: a single quote is written twice. */
export const odataString = (value: string) => `'${value.replaceAll("'", "''")}'`;
