// SCIM filters (RFC 7644 §3.4.2.2): parsed by scim2-parse-filter, evaluated here against a resource as this
// service provider shows it. Attribute names are case-insensitive; string comparisons too, except for the
// attributes the schemas mark caseExact (id, externalId, a member's or manager's value).
import { type Filter, parse } from 'scim2-parse-filter';
import { ScimError } from './scim-error.js';

/** Longest filter accepted: a filter is a query parameter, not a document. */
const MAX_FILTER_LENGTH = 4096;

const invalidFilter = (message: string) => new ScimError(400, message, 'invalidFilter');

export function parseFilter(text: string): Filter {
  if (text.length > MAX_FILTER_LENGTH) throw invalidFilter(`The filter is longer than ${MAX_FILTER_LENGTH} characters`);
  let parsed: Filter;
  try {
    parsed = parse(text);
  } catch (error) {
    throw invalidFilter(`The filter is not valid: ${(error as Error).message}`);
  }
  checkOperators(parsed);
  return parsed;
}

const COMPARE = new Set(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'lt', 'ge', 'le']);

function checkOperators(f: Filter): void {
  switch (f.op) {
    case 'and':
    case 'or':
      if (!('filters' in f)) break;
      return f.filters.forEach(checkOperators);
    case 'not':
      if (!('filter' in f)) break;
      return checkOperators(f.filter);
    case '[]':
      if (!('valFilter' in f)) break;
      return checkOperators(f.valFilter);
    case 'pr':
      return;
    default:
      if (COMPARE.has(f.op)) return;
  }
  throw invalidFilter(`The filter uses an operator this service provider does not know: ${f.op}`);
}

const CASE_EXACT = new Set(['id', 'externalid', 'members.value', 'manager.value', 'meta.version']);
const URN_PATH = /^(urn:[^ ]*):([^:]+)$/i;

/** The values at `path` (a.b, or urn:…:a.b) in `resource`, multi-valued attributes flattened. */
function valuesAt(resource: unknown, path: string): unknown[] {
  const urn = URN_PATH.exec(path);
  const [root, steps] = urn ? [lookup(resource, urn[1]!), urn[2]!.split('.')] : [resource, path.split('.')];
  let current: unknown[] = root === undefined ? [] : [root];
  for (const step of steps) {
    current = current
      .flatMap((v): unknown[] => (Array.isArray(v) ? (v as unknown[]) : [v]))
      .map((v) => lookup(v, step))
      .filter((v) => v !== undefined && v !== null);
  }
  return current.flatMap((v): unknown[] => (Array.isArray(v) ? (v as unknown[]) : [v]));
}

/** A member of an object by case-insensitive name. */
function lookup(value: unknown, name: string): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  if (name in record) return record[name];
  const lower = name.toLowerCase();
  const key = Object.keys(record).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : record[key];
}

const isDate = (s: string) => /^\d{4}-\d{2}-\d{2}T/.test(s) && !Number.isNaN(Date.parse(s));

function compare(op: string, actual: unknown, expected: unknown, caseExact: boolean): boolean {
  if (typeof actual === 'string' && typeof expected === 'string') {
    if (isDate(actual) && isDate(expected) && !['co', 'sw', 'ew'].includes(op))
      return ordered(op, Date.parse(actual), Date.parse(expected));
    const a = caseExact ? actual : actual.toLowerCase();
    const e = caseExact ? expected : expected.toLowerCase();
    if (op === 'co') return a.includes(e);
    if (op === 'sw') return a.startsWith(e);
    if (op === 'ew') return a.endsWith(e);
    return ordered(op, a, e);
  }
  if (typeof actual === 'number' && typeof expected === 'number') return ordered(op, actual, expected);
  if (op === 'eq') return actual === expected;
  if (op === 'ne') return actual !== expected;
  // gt/lt/co/… on booleans or mixed types: no match (RFC 7644: such a comparison is invalid; we match nothing).
  return false;
}

function ordered<T extends string | number>(op: string, a: T, e: T): boolean {
  switch (op) {
    case 'eq':
      return a === e;
    case 'ne':
      return a !== e;
    case 'gt':
      return a > e;
    case 'ge':
      return a >= e;
    case 'lt':
      return a < e;
    case 'le':
      return a <= e;
    default:
      return false;
  }
}

/** Whether `resource` matches `f`. */
export function matches(f: Filter, resource: unknown): boolean {
  switch (f.op) {
    case 'and': {
      const { filters } = f as { filters: Filter[] };
      // `emails[type eq "work"].value eq "x"` arrives as `emails[type eq "work"] and emails.value eq "x"`: both
      // must hold for the same element.
      const [first, second] = filters;
      if (filters.length === 2 && first?.op === '[]' && second && 'attrPath' in second) {
        const prefix = `${(first as { attrPath: string }).attrPath}.`.toLowerCase();
        if (second.attrPath.toLowerCase().startsWith(prefix))
          return valuesAt(resource, (first as { attrPath: string }).attrPath).some(
            (element) =>
              matches((first as { valFilter: Filter }).valFilter, element) &&
              matches({ ...second, attrPath: second.attrPath.slice(prefix.length) }, element),
          );
      }
      return filters.every((g) => matches(g, resource));
    }
    case 'or':
      return (f as { filters: Filter[] }).filters.some((g) => matches(g, resource));
    case 'not':
      return !matches((f as { filter: Filter }).filter, resource);
    case '[]': {
      const { attrPath, valFilter } = f as { attrPath: string; valFilter: Filter };
      return valuesAt(resource, attrPath).some((element) => matches(valFilter, element));
    }
    case 'pr':
      return valuesAt(resource, (f as { attrPath: string }).attrPath).some((v) => v !== '' && !isEmptyObject(v));
    default: {
      const { op, attrPath, compValue } = f as { op: string; attrPath: string; compValue: unknown };
      const caseExact = CASE_EXACT.has(attrPath.replace(URN_PATH, '$2').toLowerCase());
      const values = valuesAt(resource, attrPath);
      // `ne` holds when no value equals; `eq null` when there is none.
      if (op === 'ne') return !values.some((v) => compare('eq', v, compValue, caseExact));
      if (compValue === null) return op === 'eq' && values.length === 0;
      return values.some((v) => compare(op, v, compValue, caseExact));
    }
  }
}

const isEmptyObject = (v: unknown) => typeof v === 'object' && v !== null && Object.keys(v).length === 0;

/**
 * The value a filter asks `attribute` to equal, when the filter is exactly `attribute eq "…"` (case-insensitive
 * name): lets a store answer it from an index instead of a scan.
 */
export function equalityOn(f: Filter, attribute: string): string | undefined {
  if (f.op !== 'eq') return undefined;
  const { attrPath, compValue } = f as { attrPath: string; compValue: unknown };
  return attrPath.toLowerCase() === attribute.toLowerCase() && typeof compValue === 'string' ? compValue : undefined;
}
