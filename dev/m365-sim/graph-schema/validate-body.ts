/**
 * Request-body validation for the simulated Microsoft Graph tenant: shape, EDM types and
 * read-only rules, driven by graph-v1.0-schema.json (extracted from Graph's v1.0 CSDL by
 * extract.ts) plus the documented rule data in rules.ts; the types it answers with are in types.ts.
 * "Required on create" is deliberately not checked here: resource handlers own that, with Graph's
 * own per-property message.
 *
 * Synchronous, and pure apart from reading graph-v1.0-schema.json once, on first use; every type is
 * then compiled into a per-property checker map, so each body costs one pass over its own keys.
 */
import { readFileSync } from 'node:fs';
import {
  BASE64,
  DATE,
  DATE_TIME_OFFSET,
  DIRECTORY_EXTENSION,
  DURATION,
  GUID,
  INT_RANGES,
  SCHEMA_EXTENSION,
  TIME_OF_DAY,
  WRITE_RULES,
} from './rules.js';
import type {
  GraphActionName,
  GraphBodyError,
  GraphSchemaFile,
  PropertyTypeInfo,
  SchemaEnumType,
  SchemaProperty,
  WriteMode,
  WriteRules,
} from './types.js';

// ---------------------------------------------------------------------------------------------
// Messages. Wording follows what Graph / its OData layer actually return, where known.
// ---------------------------------------------------------------------------------------------

const err = (message: string, target: string): GraphBodyError => ({ code: 'Request_BadRequest', message, target });

/** ODataLib's wording when the payload is not an object. */
function notAnObject(value: unknown, target: string): GraphBodyError {
  const node = Array.isArray(value) ? 'StartArray' : 'PrimitiveValue';
  return err(
    `A node of type '${node}' was read from the JSON reader when trying to read the start of an entry. A 'StartObject' node was expected.`,
    target,
  );
}
/** Directory wording for an unknown property on an open directory type (same text as for `$select`). */
const unknownDirectoryProperty = (name: string, target: string): GraphBodyError =>
  err(`Property '${name}' does not exist as a declared property or extension property.`, target);
/** ODataLib wording for an unknown property on a closed type. */
const unknownClosedProperty = (name: string, type: string, target: string): GraphBodyError =>
  err(
    `The property '${name}' does not exist on type '${type}'. Make sure to only use property names that are defined by the type or mark the type as open type.`,
    target,
  );
/** Graph directory wording, e.g. "Invalid value specified for property 'mailNickname' of resource 'User'." */
const invalidValue = (path: string, owner: Owner): GraphBodyError =>
  owner.kind === 'action'
    ? err(`Invalid value specified for parameter '${path}' of action '${owner.label}'.`, path)
    : err(`Invalid value specified for property '${path}' of resource '${owner.label}'.`, path);
/** ODataLib wording for null on a non-nullable type. */
const nullNotAllowed = (path: string, typeRef: string): GraphBodyError =>
  err(
    `A null value was found for the property named '${path}', which has the expected type '${typeRef}[Nullable=False]'. The expected type '${typeRef}[Nullable=False]' does not allow null values.`,
    path,
  );
/** Graph: "Property 'assignedLicenses' is read-only and cannot be set." */
const readOnlyProperty = (path: string): GraphBodyError =>
  err(`Property '${path}' is read-only and cannot be set.`, path);
const createOnlyProperty = (path: string): GraphBodyError =>
  err(`Property '${path}' can only be set when the object is created.`, path);
const updateOnlyProperty = (path: string): GraphBodyError =>
  err(
    `Property '${path}' can't be set in the initial POST request and must be set in a subsequent PATCH request.`,
    path,
  );
/** ODataLib wording for an `@odata.type` that is not the expected type or a subtype. */
const typeNotAssignable = (found: string, expected: string, target: string): GraphBodyError =>
  err(
    `A resource with type '${found}' was found, but it is not assignable to the expected type '${expected}'. The type specified in the resource must be equal to either the expected type or a derived type.`,
    target,
  );
const unknownParameter = (name: string, action: string): GraphBodyError =>
  err(`The parameter '${name}' in the request payload is not a valid parameter for the operation '${action}'.`, name);
const missingParameter = (name: string, action: string): GraphBodyError =>
  err(
    `Parameter '${name}' of action '${action}' is required and cannot be null; pass an empty collection for none.`,
    name,
  );
const unsupportedBind = (name: string): GraphBodyError =>
  err(`Property '${name}' does not support @odata.bind in this request.`, `${name}@odata.bind`);

// ---------------------------------------------------------------------------------------------
// Compiled model
// ---------------------------------------------------------------------------------------------

type Owner = { kind: 'resource' | 'action'; label: string };
/** Returns an error or undefined. `path` is the dotted path of the value being checked. */
type Check = (value: unknown, path: string, owner: Owner) => GraphBodyError | undefined;

type CompiledProperty = {
  info: PropertyTypeInfo;
  /** Checks a non-null element value (element of a collection, or the scalar). */
  element: Check;
  /** `Collection(T)` or `T` as written in ODataLib messages. */
  typeRef: string;
};

type CompiledType = {
  name: string;
  kind: 'entity' | 'complex';
  open: boolean;
  /** This type plus all derived types in the schema. */
  assignable: ReadonlySet<string>;
  properties: ReadonlyMap<string, CompiledProperty>;
  navigation: ReadonlyMap<string, { type: string; collection: boolean }>;
  rules?: WriteRules;
};

type Model = {
  file: GraphSchemaFile;
  types: Map<string, CompiledType>;
  actions: Map<string, Map<string, CompiledProperty>>;
};

let model: Model | undefined;

function getModel(): Model {
  if (!model) {
    const file = JSON.parse(
      readFileSync(new URL('./graph-v1.0-schema.json', import.meta.url), 'utf8'),
    ) as GraphSchemaFile;
    model = compile(file);
  }
  return model;
}

/** The raw extracted schema (read-only use). */
export function graphSchema(): GraphSchemaFile {
  return getModel().file;
}

function validDate(y: string, m: string, d: string): boolean {
  const month = Number(m);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1) return false;
  const year = Number(y);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  return day <= days;
}
const validTime = (h: string, min: string, s?: string): boolean =>
  Number(h) <= 23 && Number(min) <= 59 && (s === undefined || Number(s) <= 59);

function primitiveCheck(edm: string): Check {
  const range = INT_RANGES[edm];
  if (range) {
    const [lo, hi] = range;
    return (v, path, owner) =>
      typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi ? undefined : invalidValue(path, owner);
  }
  switch (edm) {
    case 'Edm.String':
      return (v, path, owner) => (typeof v === 'string' ? undefined : invalidValue(path, owner));
    case 'Edm.Boolean':
      return (v, path, owner) => (typeof v === 'boolean' ? undefined : invalidValue(path, owner));
    case 'Edm.Double':
    case 'Edm.Single':
      // OData JSON allows these three strings for IEEE special values.
      return (v, path, owner) =>
        (typeof v === 'number' && Number.isFinite(v)) || v === 'INF' || v === '-INF' || v === 'NaN'
          ? undefined
          : invalidValue(path, owner);
    case 'Edm.Decimal':
      return (v, path, owner) => (typeof v === 'number' && Number.isFinite(v) ? undefined : invalidValue(path, owner));
    case 'Edm.Guid':
      return (v, path, owner) => (typeof v === 'string' && GUID.test(v) ? undefined : invalidValue(path, owner));
    case 'Edm.DateTimeOffset':
      return (v, path, owner) => {
        if (typeof v !== 'string') return invalidValue(path, owner);
        const m = DATE_TIME_OFFSET.exec(v);
        const ok =
          m !== null &&
          validDate(m[1]!, m[2]!, m[3]!) &&
          validTime(m[4]!, m[5]!, m[6]) &&
          (m[8] === undefined || (Number(m[8]) <= 14 && Number(m[9]) <= 59));
        return ok ? undefined : invalidValue(path, owner);
      };
    case 'Edm.Date':
      return (v, path, owner) => {
        const m = typeof v === 'string' ? DATE.exec(v) : null;
        return m && validDate(m[1]!, m[2]!, m[3]!) ? undefined : invalidValue(path, owner);
      };
    case 'Edm.TimeOfDay':
      return (v, path, owner) => {
        const m = typeof v === 'string' ? TIME_OF_DAY.exec(v) : null;
        return m && validTime(m[1]!, m[2]!, m[3]) ? undefined : invalidValue(path, owner);
      };
    case 'Edm.Duration':
      return (v, path, owner) =>
        typeof v === 'string' && DURATION.test(v) && v !== 'P' && !v.endsWith('T')
          ? undefined
          : invalidValue(path, owner);
    case 'Edm.Binary':
      return (v, path, owner) => (typeof v === 'string' && BASE64.test(v) ? undefined : invalidValue(path, owner));
    default:
      // Edm.Stream and anything exotic: not settable inline in a JSON body.
      return (_v, path) => readOnlyProperty(path);
  }
}

function enumCheck(def: SchemaEnumType): Check {
  const members = new Set(def.members);
  if (def.isFlags) {
    return (v, path, owner) =>
      typeof v === 'string' && v.split(',').every((part) => members.has(part.trim()))
        ? undefined
        : invalidValue(path, owner);
  }
  return (v, path, owner) => (typeof v === 'string' && members.has(v) ? undefined : invalidValue(path, owner));
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function compile(file: GraphSchemaFile): Model {
  const types = new Map<string, CompiledType>();
  const derivedOf = new Map<string, Set<string>>();
  for (const [name, t] of Object.entries(file.types)) {
    // Walk the whole base chain so grandchildren are assignable too.
    for (let base = t.baseType; base; base = file.types[base]?.baseType) {
      let set = derivedOf.get(base);
      if (!set) derivedOf.set(base, (set = new Set()));
      set.add(name);
    }
  }
  const enumChecks = new Map<string, Check>();
  for (const [name, def] of Object.entries(file.enumTypes)) enumChecks.set(name, enumCheck(def));
  const primitiveChecks = new Map<string, Check>();

  // Complex checks are created lazily (recursive types) and memoised per type.
  const complexChecks = new Map<string, Check>();
  const complexCheck = (typeName: string): Check => {
    let c = complexChecks.get(typeName);
    if (!c) {
      c = (v, path, owner) => {
        if (!isPlainObject(v)) return invalidValue(path, owner);
        return validateObject(typeForName(typeName), v, path, owner, undefined);
      };
      complexChecks.set(typeName, c);
    }
    return c;
  };

  const elementCheck = (type: string): { check: Check; kind: PropertyTypeInfo['kind'] } => {
    if (type.startsWith('Edm.')) {
      let c = primitiveChecks.get(type);
      if (!c) primitiveChecks.set(type, (c = primitiveCheck(type)));
      return { check: c, kind: 'primitive' };
    }
    const e = enumChecks.get(type);
    if (e) return { check: e, kind: 'enum' };
    if (file.types[type]) return { check: complexCheck(type), kind: 'complex' };
    throw new Error(`graph-schema: type ${type} is referenced but missing from graph-v1.0-schema.json`);
  };

  const compileProperty = (
    name: string,
    p: SchemaProperty,
    owner: string,
    rules: WriteRules | undefined,
  ): CompiledProperty => {
    const { check, kind } = elementCheck(p.type);
    const readOnly =
      p.computed === true ||
      p.type === 'Edm.Stream' ||
      (rules?.readOnly.includes(name) ?? false) ||
      (rules?.writableOnly !== undefined && !rules.writableOnly.includes(name));
    const createOnly = !readOnly && (p.immutable === true || (rules?.createOnly?.includes(name) ?? false));
    const updateOnly = !readOnly && (rules?.updateOnly?.includes(name) ?? false);
    const enumDef = file.enumTypes[p.type];
    return {
      info: {
        name,
        type: p.type,
        collection: p.collection,
        nullable: p.nullable,
        kind,
        declaredBy: p.declaredBy ?? owner,
        readOnly,
        createOnly,
        updateOnly,
        ...(enumDef ? { enumMembers: enumDef.members } : {}),
      },
      element: check,
      typeRef: p.collection ? `Collection(${p.type})` : p.type,
    };
  };

  for (const [name, t] of Object.entries(file.types)) {
    const rules = WRITE_RULES[name];
    const properties = new Map<string, CompiledProperty>();
    for (const [pname, p] of Object.entries(t.properties))
      properties.set(pname, compileProperty(pname, p, name, rules));
    types.set(name, {
      name,
      kind: t.kind,
      open: t.openType === true,
      assignable: new Set([name, ...(derivedOf.get(name) ?? [])]),
      properties,
      navigation: new Map(Object.entries(t.navigationProperties ?? {})),
      ...(rules ? { rules } : {}),
    });
  }
  for (const rulesFor of Object.keys(WRITE_RULES)) {
    if (!types.has(rulesFor)) throw new Error(`graph-schema: write rules for ${rulesFor}, which is not in the schema`);
  }

  const actions = new Map<string, Map<string, CompiledProperty>>();
  for (const a of file.actions) {
    const params = new Map<string, CompiledProperty>();
    for (const [pname, p] of Object.entries(a.parameters))
      params.set(pname, compileProperty(pname, p, a.name, undefined));
    actions.set(`${a.name}|${a.bindingType}`, params);
  }

  function typeForName(name: string): CompiledType {
    const t = types.get(name);
    if (!t) throw new Error(`graph-schema: unknown type ${name}`);
    return t;
  }

  return { file, types, actions };
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

function typeOf(name: string): CompiledType {
  const t = getModel().types.get(name.startsWith('#') ? name.slice(1) : name);
  if (!t) throw new Error(`graph-schema: unknown type '${name}' (expected e.g. 'microsoft.graph.user')`);
  return t;
}

const join = (path: string, name: string): string => (path ? `${path}.${name}` : name);

/** Validates one value against a compiled property (handles null and collections). */
function checkValue(prop: CompiledProperty, value: unknown, path: string, owner: Owner): GraphBodyError | undefined {
  if (value === null) return prop.info.nullable ? undefined : nullNotAllowed(path, prop.typeRef);
  if (!prop.info.collection) return prop.element(value, path, owner);
  if (!Array.isArray(value)) return invalidValue(path, owner);
  for (let i = 0; i < value.length; i++) {
    const item: unknown = value[i];
    const itemPath = `${path}[${i}]`;
    if (item === null) {
      if (!prop.info.nullable) return nullNotAllowed(itemPath, prop.info.type);
      continue;
    }
    const e = prop.element(item, itemPath, owner);
    if (e) return e;
  }
  return undefined;
}

/** `@odata.type` may be written with or without the leading '#'. */
function checkODataType(
  type: CompiledType,
  value: unknown,
  path: string,
  owner: Owner,
): { error?: GraphBodyError; actual: CompiledType } {
  const target = join(path, '@odata.type');
  if (typeof value !== 'string') return { error: invalidValue(target, owner), actual: type };
  const name = value.startsWith('#') ? value.slice(1) : value;
  if (!type.assignable.has(name)) return { error: typeNotAssignable(name, type.name, target), actual: type };
  return { actual: getModel().types.get(name)! };
}

function checkExtensionValue(name: string, value: unknown, path: string, owner: Owner): GraphBodyError | undefined {
  const target = join(path, name);
  if (SCHEMA_EXTENSION.test(name))
    return value === null || isPlainObject(value) ? undefined : invalidValue(target, owner);
  // Directory extensions hold a primitive or a multi-valued collection of primitives.
  const primitive = (v: unknown): boolean => v === null || ['string', 'number', 'boolean'].includes(typeof v);
  if (primitive(value)) return undefined;
  if (Array.isArray(value) && value.every((v) => v !== null && primitive(v))) return undefined;
  return invalidValue(target, owner);
}

/**
 * Validates an object against a structured type. `mode` is set only at the entity root: nested
 * complex values have no read-only rules of their own (Graph has none for these types).
 */
function validateObject(
  declared: CompiledType,
  body: Record<string, unknown>,
  path: string,
  owner: Owner,
  mode: WriteMode | undefined,
): GraphBodyError | undefined {
  let type = declared;
  if ('@odata.type' in body) {
    const r = checkODataType(declared, body['@odata.type'], path, owner);
    if (r.error) return r.error;
    type = r.actual;
  }
  const rules = type.rules ?? declared.rules;
  for (const key in body) {
    if (!Object.prototype.hasOwnProperty.call(body, key)) continue;
    const value = body[key];
    const at = key.indexOf('@');
    if (at === 0) continue; // instance annotations (@odata.type handled above, @odata.context etc. ignored)
    if (at > 0) {
      const e = checkAnnotation(type, key.slice(0, at), key.slice(at + 1), value, path, owner, mode, rules);
      if (e) return e;
      continue;
    }
    const prop = type.properties.get(key);
    const target = join(path, key);
    if (!prop) {
      if (rules?.extensions && mode && (DIRECTORY_EXTENSION.test(key) || SCHEMA_EXTENSION.test(key))) {
        const e = checkExtensionValue(key, value, path, owner);
        if (e) return e;
        continue;
      }
      // customSecurityAttributeValue and friends are open complex types: anything goes inside.
      if (type.kind === 'complex' && type.open) continue;
      // Directory types are declared OpenType in the CSDL, yet the directory rejects undeclared
      // non-extension properties; closed types get ODataLib's message.
      return type.kind === 'entity' && type.open
        ? unknownDirectoryProperty(key, target)
        : unknownClosedProperty(key, type.name, target);
    }
    if (mode) {
      if (prop.info.readOnly) return readOnlyProperty(target);
      if (mode === 'update' && prop.info.createOnly) return createOnlyProperty(target);
      if (mode === 'create' && prop.info.updateOnly) return updateOnlyProperty(target);
    }
    const e = checkValue(prop, value, target, owner);
    if (e) return e;
  }
  return undefined;
}

function checkAnnotation(
  type: CompiledType,
  prop: string,
  term: string,
  value: unknown,
  path: string,
  owner: Owner,
  mode: WriteMode | undefined,
  rules: WriteRules | undefined,
): GraphBodyError | undefined {
  if (term === 'odata.bind') {
    const nav = type.navigation.get(prop);
    if (!nav || !mode) return unknownDirectoryProperty(prop, join(path, prop));
    if (!(rules?.bind?.[mode] ?? []).includes(prop)) return unsupportedBind(prop);
    const target = join(path, `${prop}@odata.bind`);
    // Values are URLs of the directory objects to link, e.g.
    // "https://graph.microsoft.com/v1.0/directoryObjects/{id}".
    const isUrl = (v: unknown): boolean => typeof v === 'string' && /^https?:\/\/\S+$/i.test(v);
    if (nav.collection ? !(Array.isArray(value) && value.every(isUrl)) : !isUrl(value))
      return invalidValue(target, owner);
    return undefined;
  }
  // Property annotations (`birthday@odata.type`, …) are fine on declared properties.
  if (type.properties.has(prop) || type.navigation.has(prop) || (type.kind === 'complex' && type.open))
    return undefined;
  return type.kind === 'entity' && type.open
    ? unknownDirectoryProperty(prop, join(path, prop))
    : unknownClosedProperty(prop, type.name, join(path, prop));
}

/**
 * Validates a POST (`create`) or PATCH (`update`) body for an entity type such as
 * 'microsoft.graph.user'. Returns the first problem found, or undefined if the body is acceptable.
 * Throws only for programming errors (unknown typeName).
 */
export function validateEntityBody(typeName: string, body: unknown, mode: WriteMode): GraphBodyError | undefined {
  const type = typeOf(typeName);
  if (!isPlainObject(body)) return notAnObject(body, '');
  const owner: Owner = { kind: 'resource', label: type.rules?.resource ?? simpleName(type.name) };
  return validateObject(type, body, '', owner, mode);
}

const simpleName = (qualified: string): string => {
  const s = qualified.slice(qualified.lastIndexOf('.') + 1);
  return s.charAt(0).toUpperCase() + s.slice(1);
};

/**
 * Validates the body of a bound action. assignLicense (user): both `addLicenses` and
 * `removeLicenses` are required and non-nullable ("user: assignLicense",
 * https://learn.microsoft.com/graph/api/user-assignlicense); pass `[]` for "none".
 */
export function validateActionBody(
  action: GraphActionName,
  body: unknown,
  bindingType = 'microsoft.graph.user',
): GraphBodyError | undefined {
  const params = getModel().actions.get(`${action}|${bindingType}`);
  if (!params) throw new Error(`graph-schema: no action ${action} bound to ${bindingType}`);
  if (!isPlainObject(body)) return notAnObject(body, '');
  const label = action.slice(action.lastIndexOf('.') + 1);
  const owner: Owner = { kind: 'action', label };
  for (const key in body) {
    if (!Object.prototype.hasOwnProperty.call(body, key) || key.startsWith('@')) continue;
    const prop = params.get(key);
    if (!prop) return unknownParameter(key, label);
    const e = checkValue(prop, body[key], key, owner);
    if (e) return e;
  }
  for (const [name, prop] of params) {
    if (!(name in body) && !prop.info.nullable) return missingParameter(name, label);
  }
  return undefined;
}

/**
 * Structural properties a client may write on the type, sorted. With `mode`, only those writable
 * in that mode (e.g. group `autoSubscribeNewMembers` is update-only).
 */
export function writableProperties(typeName: string, mode?: WriteMode): string[] {
  const out: string[] = [];
  for (const [name, p] of typeOf(typeName).properties) {
    if (p.info.readOnly) continue;
    if (mode === 'create' && p.info.updateOnly) continue;
    if (mode === 'update' && p.info.createOnly) continue;
    out.push(name);
  }
  return out.sort();
}

/** Type information for one structural property (inherited ones included), or undefined. */
export function propertyType(typeName: string, prop: string): PropertyTypeInfo | undefined {
  return typeOf(typeName).properties.get(prop)?.info;
}
