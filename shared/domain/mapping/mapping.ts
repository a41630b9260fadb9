/**
 * A connection's field mapping: which Microsoft Graph user property gets which value, from a source attribute
 * (Zoho's field mapping), a hard-coded constant (Zoho's "Hardcoded Value") or an expression (./expression.ts).
 * Pure: no I/O; `node:crypto` only for generated passwords.
 *
 * Decisions the executor relies on:
 * - **accountEnabled is required in the mapping** (validateMapping). There is no implicit "enabled at create":
 *   map it (the default maps `active`) or hard-code it (`{ constant: true }`). A change without the attribute leaves
 *   it unresolved; whether that blocks a create is the caller's call (Graph refuses POST /users without it).
 * - **userName may be an e-mail-like name** (`jose@source.example`): the default mapping uses the part before the
 *   last `@` for both userPrincipalName (`<part>@<connection domain>`) and mailNickname, each reduced to the
 *   characters Entra / Exchange allow (`upnSafe`, `mailNicknameSafe`, documented in expression.ts).
 * - **Missing vs empty**: an attribute absent from the change → the target is listed in `unresolved` (update: leave
 *   it alone). An attribute that is `null` or `""` → an explicit clear (`null`, or `[]` for a non-nullable
 *   collection such as businessPhones). Properties Graph needs on create (REQUIRED_ON_CREATE) are never cleared:
 *   an empty value for them is reported as unresolved.
 * - **Passwords**: update never emits passwordProfile. Create emits `passwordProfile.password` from its rule, else a
 *   generated one when `generatePassword`, plus `forceChangePasswordNextSignIn` (its own rule, else the mapping's
 *   flag). Values may hold a password: never log `MappedUser.values`. Error messages never echo password values.
 * - Treat a Mapping as immutable once applied: compiled forms are cached per mapping object.
 *
 * Longer than our usual ~300 lines on purpose: schema, validation, compilation and application of one mapping share
 * the compiled rule and its error wording; split apart they would need each other's internals.
 */
import { randomInt } from 'node:crypto';
import { z } from 'zod';
import { closestName, compileExpression, type EvaluationScope, ExpressionError } from './expression.js';
import {
  complexUserPropertyFields,
  type GraphUserPropertyType,
  isNotMappableUserProperty,
  isReadOnlyUserProperty,
  REQUIRED_ON_CREATE,
  USER_PROPERTY_MAX_LENGTH,
  writableUserProperties,
} from './graph-user-properties.js';

// ---------------------------------------------------------------------------------------------
// Schema
// ---------------------------------------------------------------------------------------------

const applyOn = z
  .enum(['always', 'create'])
  .default('always')
  .describe("'always' (create and update) or 'create' (apply on create only, e.g. an initial password)");

export const mappingRuleSchema = z
  .union([
    z.strictObject({
      source: z.string().min(1).max(128).describe("Attribute name from the change, e.g. 'givenName'"),
      applyOn,
    }),
    z.strictObject({
      constant: z
        .union([z.string(), z.number(), z.boolean(), z.array(z.string()), z.null()])
        .describe('Hard-coded value (Zoho: "Hardcoded Value"); must have the target property\'s type; null clears'),
      applyOn,
    }),
    z.strictObject({
      expression: z
        .string()
        .min(1)
        .max(2000)
        .describe('e.g. lower(normalizeDiacritics("{givenName}.{familyName}")) — see expression.ts'),
      applyOn,
    }),
  ])
  .describe('Where a Graph user property gets its value: a source attribute, a constant or an expression');
export type MappingRule = z.infer<typeof mappingRuleSchema>;

export const mappingSchema = z
  .strictObject({
    properties: z
      .record(z.string().min(1).max(128), mappingRuleSchema)
      .describe("Graph user property (dotted for complex fields: 'passwordProfile.password') → rule"),
    generatePassword: z
      .boolean()
      .default(false)
      .describe('On create, generate a strong random password when none is mapped or the attribute is empty'),
    forceChangePasswordNextSignIn: z
      .boolean()
      .default(true)
      .describe('passwordProfile.forceChangePasswordNextSignIn on create, unless mapped'),
  })
  .describe('Field mapping of one connection');
export type Mapping = z.infer<typeof mappingSchema>;

export interface MappingIssue {
  /** Dotted path, e.g. `properties.surnme` (validation) or the target property, e.g. `accountEnabled` (apply). */
  field: string;
  message: string;
  /** The source attribute the value came from, when the rule reads one directly (apply only). */
  attribute?: string;
}

export interface MappingContext {
  /** The connection's verified domain, `{domain}` in expressions. */
  domain: string;
}

export interface MappedUser {
  /** Graph user properties with values coerced to their EDM types; passwordProfile as a nested object. */
  values: Record<string, unknown>;
  /** Target properties whose rule produced no value (attribute missing) — the caller decides what that means. */
  unresolved: string[];
  /** Values that could not be coerced to the target type, e.g. accountEnabled ← "maybe". */
  errors: MappingIssue[];
}

// ---------------------------------------------------------------------------------------------
// Default mapping
// ---------------------------------------------------------------------------------------------

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * SCIM-like source attributes → Graph. userPrincipalName and mailNickname come from the part of `userName` before
 * its last `@` (so `jose.muller@source.example` and `jose.muller` give the same result), cut down to the characters
 * Entra (UPN) and Exchange (alias) accept. accountEnabled ← `active`; the password only on create.
 */
export const DEFAULT_MAPPING: Mapping = deepFreeze(
  mappingSchema.parse({
    properties: {
      userPrincipalName: { expression: 'concat(upnSafe(localPart(userName)), "@{domain}")' },
      mailNickname: { expression: 'mailNicknameSafe(localPart(userName))' },
      displayName: { expression: 'coalesce(displayName, "{givenName} {familyName}")' },
      givenName: { source: 'givenName' },
      surname: { source: 'familyName' },
      accountEnabled: { source: 'active' },
      mail: { source: 'email' },
      jobTitle: { source: 'jobTitle' },
      department: { source: 'department' },
      employeeId: { source: 'employeeId' },
      mobilePhone: { source: 'mobilePhone' },
      businessPhones: { source: 'businessPhone' },
      officeLocation: { source: 'officeLocation' },
      city: { source: 'city' },
      country: { source: 'country' },
      usageLocation: { source: 'usageLocation' },
      companyName: { source: 'companyName' },
      employeeType: { source: 'employeeType' },
      'passwordProfile.password': { source: 'password', applyOn: 'create' },
    },
  }),
);

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

const PASSWORD = 'passwordProfile.password';
const FORCE_CHANGE = 'passwordProfile.forceChangePasswordNextSignIn';
const REQUIRED: ReadonlySet<string> = new Set(REQUIRED_ON_CREATE);

/** Why a read-only target is refused, where there is something better to do. */
const READ_ONLY_HINTS: Readonly<Record<string, string>> = {
  id: 'Graph assigns it',
  assignedLicenses: "licences are assigned through the change's licenses (user: assignLicense), not the field mapping",
  proxyAddresses: 'Exchange maintains it; map mail instead',
};

const isSecret = (target: string): boolean => target === PASSWORD;

function targetProblem(target: string): string | undefined {
  if (writableUserProperties().has(target)) return undefined;
  if (isReadOnlyUserProperty(target)) {
    const hint = READ_ONLY_HINTS[target];
    return `'${target}' is read-only in Microsoft Graph and can't be mapped${hint ? ` (${hint})` : ''}`;
  }
  const fields = complexUserPropertyFields(target);
  if (fields) return `'${target}' is a complex property: map its fields instead (${fields.join(', ')})`;
  if (isNotMappableUserProperty(target)) return `'${target}' holds structured values that a field mapping can't write`;
  const suggestion = closestName(target, writableUserProperties().keys());
  return `'${target}' is not a writable property of a Microsoft Graph user${suggestion ? ` — did you mean '${suggestion}'?` : ''}`;
}

const typeLabel = (p: GraphUserPropertyType): string => (p.collection ? `Collection(${p.type})` : p.type);

/** JSON type a constant must have for the target (constants are typed by the admin, so no lenient coercion). */
function constantProblem(
  target: string,
  c: Extract<MappingRule, { constant: unknown }>['constant'],
  prop: GraphUserPropertyType,
): string | undefined {
  if (c === null || c === '' || (Array.isArray(c) && c.length === 0)) {
    if (REQUIRED.has(target)) return `'${target}' is required to create a user; a constant for it can't be empty`;
    if (!prop.nullable && !prop.collection) return `'${target}' (${typeLabel(prop)}) can't be cleared`;
    return undefined;
  }
  const expected = prop.collection
    ? Array.isArray(c)
    : prop.type === 'Edm.Boolean'
      ? typeof c === 'boolean'
      : prop.type === 'Edm.Int32'
        ? typeof c === 'number'
        : typeof c === 'string';
  if (!expected) {
    const want = prop.collection ? 'a list of text, e.g. ["+1 555 0100"]' : (JSON_TYPE_FOR[prop.type] ?? prop.type);
    return `'${target}' is ${typeLabel(prop)}: the constant must be ${want}, got ${describeValue(c, isSecret(target))}`;
  }
  const coerced = coerce(c, prop);
  return coerced.kind === 'error'
    ? `'${target}' is ${typeLabel(prop)}: ${coerced.message(describeValue(c, isSecret(target)))}`
    : undefined;
}

const JSON_TYPE_FOR: Readonly<Record<string, string>> = {
  'Edm.Boolean': 'true or false',
  'Edm.String': 'text',
  'Edm.Int32': 'a whole number',
  'Edm.DateTimeOffset': 'an ISO 8601 date-time text such as "2025-01-31T00:00:00Z"',
};

/**
 * Everything wrong with a mapping, as issues naming the field: unknown or read-only targets (with a suggestion
 * for typos), expressions that don't parse (with the position), constants of the wrong type, and anything POST
 * /users needs that the mapping can't produce. An empty list means the mapping can be saved and used.
 */
export function validateMapping(mapping: Mapping): MappingIssue[] {
  const issues: MappingIssue[] = [];
  for (const [target, rule] of Object.entries(mapping.properties)) {
    const field = `properties.${target}`;
    const problem = targetProblem(target);
    if (problem) issues.push({ field, message: problem });
    const prop = writableUserProperties().get(target);
    if ('expression' in rule) {
      try {
        compileExpression(rule.expression);
      } catch (e) {
        if (!(e instanceof ExpressionError)) throw e;
        issues.push({ field: `${field}.expression`, message: `expression does not parse: ${e.message}` });
      }
    } else if ('constant' in rule) {
      if (target === PASSWORD && rule.constant !== null) {
        issues.push({
          field: `${field}.constant`,
          message:
            'a constant password would give every user the same password: map passwordProfile.password from an attribute or set generatePassword: true',
        });
      } else if (prop) {
        const p = constantProblem(target, rule.constant, prop);
        if (p) issues.push({ field: `${field}.constant`, message: p });
      }
    }
  }
  for (const name of REQUIRED_ON_CREATE) {
    if (Object.hasOwn(mapping.properties, name)) continue;
    if (name === PASSWORD) {
      if (mapping.generatePassword) continue;
      issues.push({
        field: `properties.${PASSWORD}`,
        message:
          "a password is required to create a user (POST /users): map passwordProfile.password (e.g. from the 'password' attribute) or set generatePassword: true",
      });
      continue;
    }
    const example = DEFAULT_MAPPING.properties[name];
    issues.push({
      field: `properties.${name}`,
      message: `'${name}' is required to create a user (POST /users) but has no rule${example ? `; e.g. ${JSON.stringify(stripDefaults(example))}` : ''}${
        name === 'accountEnabled'
          ? ' (there is no implicit default: use { "constant": true } to create users enabled)'
          : ''
      }`,
    });
  }
  return issues;
}

const stripDefaults = (rule: MappingRule): Partial<MappingRule> => {
  const { applyOn: a, ...rest } = rule;
  return a === 'always' ? rest : rule;
};

// ---------------------------------------------------------------------------------------------
// Coercion to EDM types
// ---------------------------------------------------------------------------------------------

type Coerced =
  | { kind: 'value'; value: unknown }
  /** Explicit "no value": null (or [] for non-nullable collections). */
  | { kind: 'clear'; value: null | [] }
  /** `message(got)` — the caller supplies a description of the value (redacted for secrets). */
  | { kind: 'error'; message: (got: string) => string };

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
// ISO 8601 date, or date-time with an explicit offset (OData JSON §7.1 needs one for Edm.DateTimeOffset).
const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,7})?)?([Zz]|[+-](\d{2}):(\d{2}))?)?$/;

function coerceDateTime(v: string): Coerced {
  const m = ISO_DATE_TIME.exec(v.trim());
  if (!m)
    return {
      kind: 'error',
      message: (got) => `expected an ISO 8601 date or date-time (e.g. "2025-01-31T08:00:00Z"), got ${got}`,
    };
  const [, y, mo, d, h, mi, s, zone, zh, zm] = m;
  const date = new Date(
    Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0)),
  );
  const valid =
    date.getUTCFullYear() === Number(y) &&
    date.getUTCMonth() === Number(mo) - 1 &&
    date.getUTCDate() === Number(d) &&
    Number(h ?? 0) <= 23 &&
    Number(mi ?? 0) <= 59 &&
    Number(s ?? 0) <= 59 &&
    (zh === undefined || (Number(zh) <= 14 && Number(zm) <= 59));
  if (!valid) return { kind: 'error', message: (got) => `expected a real calendar date and time, got ${got}` };
  if (h === undefined) return { kind: 'value', value: `${y}-${mo}-${d}T00:00:00Z` };
  if (zone === undefined)
    return { kind: 'error', message: (got) => `the date-time needs a time zone ("Z" or ±hh:mm), got ${got}` };
  return { kind: 'value', value: v.trim() };
}

function coerceScalar(v: unknown, type: string): Coerced {
  switch (type) {
    case 'Edm.String':
      if (typeof v === 'string') return { kind: 'value', value: v };
      if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean')
        return { kind: 'value', value: String(v) };
      return { kind: 'error', message: (got) => `expected text, got ${got}` };
    case 'Edm.Boolean': {
      if (typeof v === 'boolean') return { kind: 'value', value: v };
      if (v === 1 || v === 0) return { kind: 'value', value: v === 1 };
      if (typeof v === 'string') {
        const s = v.trim().toLowerCase();
        if (s === 'true' || s === '1') return { kind: 'value', value: true };
        if (s === 'false' || s === '0') return { kind: 'value', value: false };
      }
      return { kind: 'error', message: (got) => `expected true/false ("true"/"false", 1/0), got ${got}` };
    }
    case 'Edm.Int32': {
      const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v) ? Number(v) : NaN;
      if (Number.isInteger(n) && n >= INT32_MIN && n <= INT32_MAX) return { kind: 'value', value: n };
      return { kind: 'error', message: (got) => `expected a whole number (32-bit), got ${got}` };
    }
    case 'Edm.DateTimeOffset':
      if (typeof v === 'string') return coerceDateTime(v);
      if (v instanceof Date && !Number.isNaN(v.getTime())) return { kind: 'value', value: v.toISOString() };
      return { kind: 'error', message: (got) => `expected an ISO 8601 date-time text, got ${got}` };
    default:
      return { kind: 'error', message: () => `values of type ${type} can't be mapped` };
  }
}

/** Converts a resolved (non-undefined) value to the target's EDM type. */
function coerce(v: unknown, prop: GraphUserPropertyType): Coerced {
  const clear: Coerced = { kind: 'clear', value: prop.collection && !prop.nullable ? [] : null };
  if (v === null || v === '') {
    return prop.nullable || prop.collection
      ? clear
      : { kind: 'error', message: () => `${typeLabel(prop)} here can't be cleared (not nullable)` };
  }
  if (prop.collection) {
    const items = Array.isArray(v) ? v : [v];
    const out: unknown[] = [];
    for (const item of items) {
      if (item === null || item === '') continue;
      if (Array.isArray(item))
        return { kind: 'error', message: (got) => `expected a list of single values, got ${got}` };
      const c = coerceScalar(item, prop.type);
      if (c.kind === 'error') return c;
      out.push(c.value);
    }
    return out.length === 0 ? clear : { kind: 'value', value: out };
  }
  if (Array.isArray(v)) {
    if (v.length === 0)
      return prop.nullable
        ? clear
        : { kind: 'error', message: () => `${typeLabel(prop)} here can't be cleared (not nullable)` };
    return { kind: 'error', message: (got) => `expected a single value, got ${got}` };
  }
  return coerceScalar(v, prop.type);
}

function describeValue(v: unknown, secret: boolean): string {
  if (secret)
    return typeof v === 'string'
      ? 'a text value (not shown)'
      : `a value of type ${Array.isArray(v) ? 'list' : typeof v} (not shown)`;
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  if (Array.isArray(v)) return `a list of ${v.length} (${JSON.stringify(v).slice(0, 60)})`;
  if (v instanceof Date) return 'a Date';
  return `an object`;
}

// ---------------------------------------------------------------------------------------------
// Compile + apply
// ---------------------------------------------------------------------------------------------

interface CompiledRule {
  target: string;
  /** Top-level Graph property (`passwordProfile` for `passwordProfile.password`). */
  top: string;
  /** Field inside the complex property, for dotted targets. */
  field: string | undefined;
  applyOn: 'always' | 'create';
  prop: GraphUserPropertyType | undefined;
  /** Missing → undefined. May throw ExpressionError. */
  read: (scope: EvaluationScope) => unknown;
  /** Where the value came from, for error messages. */
  origin: string;
  /** The attribute a `source` rule reads. */
  source?: string;
  /** Every attribute the rule reads (a source, or the attributes an expression names). */
  reads: readonly string[];
  /** Set when the rule can't be applied at all (unknown target, expression that doesn't parse). */
  invalid: MappingIssue | undefined;
}

interface CompiledMapping {
  rules: readonly CompiledRule[];
  targets: ReadonlySet<string>;
}

const compiledMappings = new WeakMap<Mapping, CompiledMapping>();

function compileRule(target: string, rule: MappingRule): CompiledRule {
  const dot = target.indexOf('.');
  const base = {
    target,
    top: dot < 0 ? target : target.slice(0, dot),
    field: dot < 0 ? undefined : target.slice(dot + 1),
    applyOn: rule.applyOn,
    prop: writableUserProperties().get(target),
  };
  const problem = targetProblem(target);
  const invalid = (message: string): CompiledRule => ({
    ...base,
    reads: [],
    read: () => undefined,
    origin: '',
    invalid: { field: target, message },
  });
  if (problem) return invalid(problem);
  if ('source' in rule) {
    const name = rule.source;
    return {
      ...base,
      read: (scope) => (Object.hasOwn(scope.attributes, name) ? scope.attributes[name] : undefined),
      origin: `attribute '${name}'`,
      source: name,
      reads: [name],
      invalid: undefined,
    };
  }
  if ('constant' in rule) {
    const value = rule.constant;
    return { ...base, reads: [], read: () => value, origin: 'constant', invalid: undefined };
  }
  try {
    const compiled = compileExpression(rule.expression);
    return { ...base, reads: compiled.attributes, read: compiled.evaluate, origin: 'expression', invalid: undefined };
  } catch (e) {
    if (!(e instanceof ExpressionError)) throw e;
    return invalid(`expression does not parse: ${e.message}`);
  }
}

function compileMapping(mapping: Mapping): CompiledMapping {
  let compiled = compiledMappings.get(mapping);
  if (!compiled) {
    const rules = Object.entries(mapping.properties).map(([target, rule]) => compileRule(target, rule));
    compiled = { rules, targets: new Set(rules.map((r) => r.target)) };
    compiledMappings.set(mapping, compiled);
  }
  return compiled;
}

function setValue(
  values: Record<string, unknown>,
  rule: { top: string; field: string | undefined },
  value: unknown,
): void {
  if (rule.field === undefined) {
    values[rule.top] = value;
    return;
  }
  let nested = values[rule.top] as Record<string, unknown> | undefined;
  if (nested === undefined) values[rule.top] = nested = {};
  nested[rule.field] = value;
}

/**
 * Applies the mapping to one change's attributes. Deterministic (except a generated password) and pure.
 * - `update` skips rules with applyOn 'create' and never emits passwordProfile.
 * - `create` fills passwordProfile (see the file header) and also lists in `unresolved` any REQUIRED_ON_CREATE
 *   property the mapping has no rule for (only possible for a mapping that fails validateMapping).
 * Invalid rules (unknown target, unparsable expression) are reported in `errors` rather than thrown.
 */
export function applyMapping(
  mapping: Mapping,
  attributes: Record<string, unknown>,
  context: MappingContext,
  mode: 'create' | 'update',
): MappedUser {
  const compiled = compileMapping(mapping);
  const scope: EvaluationScope = { attributes, domain: context.domain };
  const values: Record<string, unknown> = {};
  const unresolved: string[] = [];
  const errors: MappingIssue[] = [];
  for (const rule of compiled.rules) {
    if (mode === 'update' && (rule.applyOn === 'create' || rule.top === 'passwordProfile')) continue;
    if (rule.invalid) {
      errors.push(rule.invalid);
      continue;
    }
    let raw: unknown;
    try {
      raw = rule.read(scope);
    } catch (e) {
      if (!(e instanceof ExpressionError)) throw e;
      errors.push({ field: rule.target, message: `${rule.target}: ${e.message}` });
      continue;
    }
    if (raw === undefined) {
      unresolved.push(rule.target);
      continue;
    }
    const c = coerce(raw, rule.prop!);
    const from = rule.source === undefined ? {} : { attribute: rule.source };
    const maxLength = USER_PROPERTY_MAX_LENGTH[rule.target];
    if (c.kind === 'error') {
      const got = describeValue(raw, isSecret(rule.target));
      errors.push({
        field: rule.target,
        message: `${rule.target} is ${typeLabel(rule.prop!)}: ${c.message(got)} (from ${rule.origin})`,
        ...from,
      });
    } else if (
      c.kind === 'value' &&
      maxLength !== undefined &&
      typeof c.value === 'string' &&
      c.value.length > maxLength
    ) {
      // Graph refuses it (400); said here, naming the source, before anything is sent.
      errors.push({
        field: rule.target,
        message: `${rule.target} is at most ${maxLength} characters in Microsoft 365; ${rule.origin} gives ${c.value.length}`,
        ...from,
      });
    } else if (c.kind === 'clear' && REQUIRED.has(rule.target)) {
      // Graph needs these on create and never accepts them empty: "no value", not "clear".
      unresolved.push(rule.target);
    } else {
      setValue(values, rule, c.value);
    }
  }
  if (mode === 'create') completeForCreate(mapping, compiled, values, unresolved, errors);
  return { values, unresolved, errors };
}

function completeForCreate(
  mapping: Mapping,
  compiled: CompiledMapping,
  values: Record<string, unknown>,
  unresolved: string[],
  errors: MappingIssue[],
): void {
  const profile = values.passwordProfile as Record<string, unknown> | undefined;
  const passwordFailed = errors.some((e) => e.field === PASSWORD);
  if (profile?.password === undefined && !passwordFailed && mapping.generatePassword) {
    setValue(values, { top: 'passwordProfile', field: 'password' }, generatePassword());
    const i = unresolved.indexOf(PASSWORD);
    if (i >= 0) unresolved.splice(i, 1);
  }
  const after = values.passwordProfile as Record<string, unknown> | undefined;
  if (
    after?.password !== undefined &&
    after.forceChangePasswordNextSignIn === undefined &&
    !errors.some((e) => e.field === FORCE_CHANGE)
  ) {
    after.forceChangePasswordNextSignIn = mapping.forceChangePasswordNextSignIn;
  }
  for (const name of REQUIRED_ON_CREATE) {
    if (compiled.targets.has(name) || unresolved.includes(name)) continue;
    if (name === PASSWORD && after?.password !== undefined) continue;
    unresolved.push(name);
  }
}

/**
 * Top-level Graph properties the mapping can write in this mode (sorted), e.g. for `$select` when reading a user
 * back to compare. Invalid targets are left out; `passwordProfile` only in create mode.
 */
export function mappedProperties(mapping: Mapping, mode: 'create' | 'update'): string[] {
  const out = new Set<string>();
  for (const rule of compileMapping(mapping).rules) {
    if (rule.invalid) continue;
    if (mode === 'update' && (rule.applyOn === 'create' || rule.top === 'passwordProfile')) continue;
    out.add(rule.top);
  }
  if (mode === 'create' && mapping.generatePassword) out.add('passwordProfile');
  return [...out].sort();
}

/** The attributes the rule for `target` reads (an expression's sorted by name; [] for a constant or no rule). */
export function ruleAttributes(mapping: Mapping, target: string): readonly string[] {
  return compileMapping(mapping).rules.find((r) => r.target === target)?.reads ?? [];
}

/** Every change attribute some rule of the mapping reads. */
export function mappingAttributes(mapping: Mapping): ReadonlySet<string> {
  return new Set(compileMapping(mapping).rules.flatMap((r) => r.reads));
}

// ---------------------------------------------------------------------------------------------
// Generated passwords
// ---------------------------------------------------------------------------------------------

// Entra's password policy ("Password policies and account restrictions in Microsoft Entra ID",
// learn.microsoft.com/entra/identity/authentication/concept-sspr-policy): 8–256 characters from A–Z, a–z, 0–9 and
// @ # $ % ^ & * - _ ! + = [ ] { } | \ : ' , . ? / ` ~ " ( ) ; < > and space; three of the four classes
// (lower, upper, digit, symbol). We use all four, 20 characters, and a subset of symbols that needs no escaping
// anywhere and leaves out "." (older policy text forbids a "." right before "@"). Look-alikes (I, O, l, 0, 1) are
// left out so a password read aloud survives. ~ 20 × log2(69) ≈ 122 bits.
const UPPER = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const LOWER = 'abcdefghijkmnopqrstuvwxyz';
const DIGITS = '23456789';
const SYMBOLS = '!#$%&*+-=?@^_~';
const ALL = UPPER + LOWER + DIGITS + SYMBOLS;
export const GENERATED_PASSWORD_LENGTH = 20;

const pick = (alphabet: string): string => alphabet[randomInt(alphabet.length)]!;

/** A random password meeting Entra's complexity rules (all four character classes, 20 characters). */
export function generatePassword(): string {
  const chars = [pick(UPPER), pick(LOWER), pick(DIGITS), pick(SYMBOLS)];
  while (chars.length < GENERATED_PASSWORD_LENGTH) chars.push(pick(ALL));
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join('');
}
