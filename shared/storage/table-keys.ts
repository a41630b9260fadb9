// Table keys may not contain / \ # ? or control characters; any other text is allowed. Ids from a source
// directory can contain anything, so they are escaped (reversibly) before use as a key.
export const encodeKey = (value: string) => encodeURIComponent(value);
export const decodeKey = (key: string) => decodeURIComponent(key);

/** A JSON column (strings up to 64 KiB) read back, or undefined when absent. */
export function parseJsonColumn<T>(value: unknown): T | undefined {
  return typeof value === 'string' && value !== '' ? (JSON.parse(value) as T) : undefined;
}

/** OData string literal inside a $filter: a single quote is written twice. */
export const odataString = (value: string) => `'${value.replaceAll("'", "''")}'`;
