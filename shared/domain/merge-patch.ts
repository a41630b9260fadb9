// JSON Merge Patch (RFC 7396) and the field-by-field difference of two JSON documents. Pure.

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * RFC 7396 §2: an object patch merges member by member (null removes the member, an object merges recursively,
 * anything else replaces); any other patch replaces the target whole. Neither argument is modified.
 */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const result: Record<string, Json> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/** One difference: a member that was added (`after` only), removed (`before` only) or changed (both). */
export interface FieldChange {
  /** Dotted path, e.g. `removeAction` or `properties.jobTitle.source`. */
  path: string;
  before?: Json;
  after?: Json;
}

/**
 * What differs between two documents, as dotted paths: objects are compared member by member, anything else
 * (arrays, scalars, null) as a whole value. Members are listed in the order they first appear.
 */
export function changedPaths(before: Json, after: Json, prefix = ''): FieldChange[] {
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((key) => {
      const path = prefix ? `${prefix}.${key}` : key;
      if (!(key in after)) return [{ path, before: before[key] }];
      if (!(key in before)) return [{ path, after: after[key] }];
      return changedPaths(before[key], after[key], path);
    });
  }
  return sameJson(before, after) ? [] : [{ path: prefix || '(document)', before, after }];
}

function sameJson(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => sameJson(v, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => k in b && sameJson(a[k], b[k]));
  }
  return false;
}
