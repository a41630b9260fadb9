// SCIM resources as received (RFC 7643): checked and normalised at the edge (attribute names in their canonical
// case, Entra's booleans-as-strings, the enterprise manager as a string or {value}), patched (RFC 7644 §3.5.2, with
// scim-patch, after Entra's quirks are turned into plain operations), projected (attributes / excludedAttributes),
// and turned into the change contract's attributes so the connection's field mapping applies unchanged.
import { scimPatch, type ScimPatchOperation } from 'scim-patch';
import { isWellFormed } from '../identifiers.js';
import { invalidSyntax, invalidValue, ScimError } from './scim-error.js';
import { canonicalName, canonicalUrn, isUrn, SCIM } from './scim-schemas.js';

export type ScimKind = 'user' | 'group';
export type Resource = Record<string, unknown>;

const MULTI_VALUED = [
  'emails',
  'phoneNumbers',
  'ims',
  'photos',
  'addresses',
  'entitlements',
  'roles',
  'x509Certificates',
];
/** What the client may not set: the service provider's own (§3.1), and a user's groups (read-only, §4.1.2). */
const READ_ONLY: Record<ScimKind, string[]> = { user: ['id', 'meta', 'groups'], group: ['id', 'meta'] };
/** Longest userName, displayName or externalId kept (they become Table keys and Graph values). */
const MAX_NAME = 256;
/** A stored resource (without members) at most this large, as JSON. */
export const MAX_RESOURCE_CHARS = 64 * 1024;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** true / false, also as Entra sends them: "True", "False" (any case). */
function booleanOf(value: unknown, field: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  throw invalidValue(`${field} must be true or false`);
}

function text(value: unknown, field: string, required: boolean): string | undefined {
  if (value === undefined || value === null || value === '') {
    if (required) throw invalidValue(`${field} is required`);
    return undefined;
  }
  if (typeof value !== 'string') throw invalidValue(`${field} must be a string`);
  if (required && value.trim() === '') throw invalidValue(`${field} is required`);
  if (value.length > MAX_NAME) throw invalidValue(`${field} must be at most ${MAX_NAME} characters`);
  // eslint-disable-next-line no-control-regex
  if (!isWellFormed(value) || /[\u0000-\u001f\u007f]/.test(value))
    throw invalidValue(`${field} must be well-formed text without control characters`);
  return value;
}

/** Keys in their canonical case; an extension's own keys too. */
function canonicalKeys(kind: ScimKind, resource: Resource): Resource {
  const out: Resource = {};
  for (const [key, value] of Object.entries(resource)) {
    if (isUrn(key)) {
      const urn = canonicalUrn(key);
      out[urn] =
        urn === SCIM.enterprise && isObject(value)
          ? Object.fromEntries(Object.entries(value).map(([k, v]) => [canonicalName('enterprise', k), v]))
          : value;
    } else out[canonicalName(kind, key)] = value;
  }
  return out;
}

/** A multi-valued attribute's elements, each an object; `primary` a boolean. */
function multiValued(value: unknown, field: string): Resource[] | undefined {
  if (value === undefined || value === null) return undefined;
  const list = Array.isArray(value) ? value : [value];
  return list.map((element, i) => {
    if (!isObject(element)) throw invalidValue(`${field}[${i}] must be an object`);
    return element.primary === undefined
      ? element
      : { ...element, primary: booleanOf(element.primary, `${field}[${i}].primary`) };
  });
}

function dropNulls(resource: Resource): Resource {
  return Object.fromEntries(Object.entries(resource).filter(([, v]) => v !== null && v !== undefined));
}

/** A User as received (POST, PUT, or after a PATCH): checked and normalised; the password is taken out. */
export function readUser(body: unknown): { resource: Resource; password?: string } {
  if (!isObject(body)) throw invalidSyntax('The request body must be a JSON object (a SCIM User)');
  const raw = canonicalKeys('user', body);
  for (const key of READ_ONLY.user) delete raw[key];
  delete raw.schemas;
  const password = raw.password;
  delete raw.password;
  if (password !== undefined && password !== null && typeof password !== 'string')
    throw invalidValue('password must be a string');
  const resource: Resource = dropNulls({
    ...raw,
    userName: text(raw.userName, 'userName', true),
    externalId: text(raw.externalId, 'externalId', false),
    displayName: raw.displayName === undefined ? undefined : text(raw.displayName, 'displayName', false),
    active: raw.active === undefined || raw.active === null ? true : booleanOf(raw.active, 'active'),
  });
  if (raw.name !== undefined && raw.name !== null && !isObject(raw.name)) throw invalidValue('name must be an object');
  for (const field of MULTI_VALUED) {
    const list = multiValued(raw[field], field);
    if (list) resource[field] = list;
  }
  const enterprise = raw[SCIM.enterprise];
  if (enterprise !== undefined && enterprise !== null) {
    if (!isObject(enterprise)) throw invalidValue(`${SCIM.enterprise} must be an object`);
    resource[SCIM.enterprise] = dropNulls({ ...enterprise, manager: managerOf(enterprise.manager) });
  }
  checkSize(resource);
  return { resource, ...(typeof password === 'string' && password !== '' ? { password } : {}) };
}

/** The enterprise manager as Entra sends it (the id as a string) or as RFC 7643 has it ({value}); "" removes it. */
function managerOf(value: unknown): Resource | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return { value };
  if (isObject(value)) {
    if (value.value === undefined || value.value === null || value.value === '') return undefined;
    if (typeof value.value !== 'string') throw invalidValue("manager.value must be a string (the manager's id)");
    return { value: value.value };
  }
  throw invalidValue('manager must be the manager\'s id or {"value": id}');
}

export interface GroupMember {
  value: string;
  display?: string;
  type?: string;
}

/** A Group as received: checked and normalised; members deduplicated by value. */
export function readGroup(body: unknown): Resource {
  if (!isObject(body)) throw invalidSyntax('The request body must be a JSON object (a SCIM Group)');
  const raw = canonicalKeys('group', body);
  for (const key of READ_ONLY.group) delete raw[key];
  delete raw.schemas;
  const members = membersOf(raw.members);
  const resource: Resource = dropNulls({
    ...raw,
    displayName: text(raw.displayName, 'displayName', true),
    externalId: text(raw.externalId, 'externalId', false),
    members,
  });
  checkSize({ ...resource, members: [] });
  return resource;
}

function membersOf(value: unknown): GroupMember[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalidValue('members must be an array');
  const seen = new Map<string, GroupMember>();
  value.forEach((m, i) => {
    if (!isObject(m)) throw invalidValue(`members[${i}] must be an object with a value`);
    const id = text(m.value, `members[${i}].value`, true)!;
    const type = typeof m.type === 'string' ? m.type : undefined;
    const display = typeof m.display === 'string' ? m.display : undefined;
    seen.set(id, { value: id, ...(type ? { type } : {}), ...(display ? { display } : {}) });
  });
  return [...seen.values()];
}

function checkSize(resource: Resource): void {
  const size = JSON.stringify(resource).length;
  if (size > MAX_RESOURCE_CHARS)
    throw new ScimError(413, `The resource is ${size} characters of JSON; at most ${MAX_RESOURCE_CHARS} are kept`);
}

// ------------------------------------------------------------------------------------------------ PATCH

/** A path's attribute in its canonical case: `USERNAME` → userName, `urn:…:user:Manager` → urn:…:User:manager. */
function canonicalPath(kind: ScimKind, path: string): string {
  const urn = /^(urn:.*:(?:User|Group)):(.*)$/i.exec(path);
  if (urn) {
    const schema = canonicalUrn(urn[1]!);
    const [, name = '', rest = ''] = /^([^.[]*)(.*)$/.exec(urn[2]!) ?? [];
    return `${schema}:${schema === SCIM.enterprise ? canonicalName('enterprise', name) : name}${rest}`;
  }
  const [, name = '', rest = ''] = /^([^.[]*)(.*)$/.exec(path) ?? [];
  return `${canonicalName(kind, name)}${rest}`;
}

const rootOf = (path: string) => /^([^.[]*)/.exec(path)?.[1] ?? path;

/**
 * The operations of a PatchOp body as plain RFC 7644 operations: op names lower-cased (Entra sends `Replace`), a
 * no-path add/replace split into one operation per attribute (Entra puts paths there: `name.givenName`,
 * `emails[type eq "work"].value`, `urn:…:User:department`), paths in canonical case.
 */
export function patchOperations(kind: ScimKind, body: unknown): ScimPatchOperation[] {
  if (!isObject(body)) throw invalidSyntax('The request body must be a JSON object (a SCIM PatchOp)');
  const key = Object.keys(body).find((k) => k.toLowerCase() === 'operations');
  const list = key === undefined ? undefined : body[key];
  if (!Array.isArray(list) || list.length === 0)
    throw invalidSyntax('A PatchOp needs Operations: a non-empty array of {op, path, value}');
  if (list.length > 1000) throw invalidValue('At most 1,000 operations per PATCH');
  return list.flatMap((item, i): ScimPatchOperation[] => {
    if (!isObject(item)) throw invalidSyntax(`Operations[${i}] must be an object`);
    const op = typeof item.op === 'string' ? item.op.toLowerCase() : undefined;
    if (op !== 'add' && op !== 'replace' && op !== 'remove')
      throw invalidSyntax(`Operations[${i}].op must be add, replace or remove`);
    if (item.path !== undefined && typeof item.path !== 'string')
      throw invalidSyntax(`Operations[${i}].path must be a string`);
    const path = item.path === undefined || item.path === '' ? undefined : canonicalPath(kind, item.path);
    if (op === 'remove') {
      if (!path) throw new ScimError(400, `Operations[${i}]: remove needs a path`, 'noTarget');
      checkMutable(kind, path);
      // Entra removes members by value: `{"op":"Remove","path":"members","value":[{"$ref":null,"value":"…"}]}`.
      // Each element is named by its value (other sub-attributes as sent need not match what is stored).
      if (
        !/[[.]/.test(path) &&
        Array.isArray(item.value) &&
        item.value.every((v) => isObject(v) && typeof v.value === 'string')
      )
        return (item.value as { value: string }[]).map((v) => ({
          op,
          path: `${path}[value eq ${JSON.stringify(v.value)}]`,
        }));
      return [{ op, path, ...(item.value === undefined ? {} : { value: item.value as unknown }) }];
    }
    if (path) {
      checkMutable(kind, path);
      return [addOrReplace(op, path, item.value)];
    }
    if (!isObject(item.value))
      throw invalidSyntax(`Operations[${i}]: an ${op} without a path needs an object value (attribute: value)`);
    return Object.entries(item.value).flatMap(([name, value]): ScimPatchOperation[] => {
      // Okta's rename sends the group's own id in the value map ({"id": …, "displayName": …}): the service
      // provider's attributes are not the client's to set, and are left as they are.
      if (['id', 'meta', 'schemas'].includes(name)) return [];
      if (isUrn(name) && isObject(value) && !/:(User|Group):/i.test(name))
        return Object.entries(value).map(([sub, v]) => addOrReplace(op, canonicalPath(kind, `${name}:${sub}`), v));
      const target = canonicalPath(kind, name);
      checkMutable(kind, target);
      return [addOrReplace(op, target, value)];
    });
  });
}

const MANAGER = `${SCIM.enterprise}:manager`;

/** An add or replace; the enterprise manager as Entra sends it (its id as a string; "" to clear) made RFC 7643's. */
function addOrReplace(op: 'add' | 'replace', path: string, value: unknown): ScimPatchOperation {
  if (path === MANAGER && (value === '' || value === null)) return { op: 'remove', path };
  if (path === MANAGER && typeof value === 'string') return { op, path, value: { value } };
  return { op, path, value };
}

function checkMutable(kind: ScimKind, path: string): void {
  const root = rootOf(path);
  if (READ_ONLY[kind].includes(root) || root === 'schemas')
    throw new ScimError(400, `${root} is read-only: it cannot be changed`, 'mutability');
}

/** The resource after the operations, before it is read again as a User or Group (readUser / readGroup). */
export function applyPatch(kind: ScimKind, current: Resource, operations: ScimPatchOperation[]): Resource {
  const document = {
    ...structuredClone(current),
    schemas: [kind === 'user' ? SCIM.user : SCIM.group],
    meta: { created: new Date(0), lastModified: new Date(0) },
  };
  try {
    const patched = scimPatch(document, operations, { mutateDocument: true, treatMissingAsAdd: true }) as Resource;
    const { meta: _meta, schemas: _schemas, ...rest } = patched;
    return rest;
  } catch (error) {
    if (error instanceof ScimError) throw error;
    const message = (error as Error).message ?? String(error);
    const scimCode = (error as { scimCode?: string }).scimCode;
    if (/target/i.test(message) || scimCode === 'noTarget') throw new ScimError(400, message, 'noTarget');
    if (/path/i.test(message)) throw new ScimError(400, message, 'invalidPath');
    throw invalidValue(message);
  }
}

// ------------------------------------------------------------------------------------------------ answers

/**
 * `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5): comma-separated paths (`userName`, `name.givenName`,
 * `urn:…:User:department`, `members`), case-insensitive. id and schemas are always returned; with `attributes`,
 * meta only when asked for.
 */
export function project(resource: Resource, attributes?: string, excluded?: string): Resource {
  const paths = (list?: string) =>
    list
      ?.split(',')
      .map((p) => p.trim())
      .filter(Boolean)
      .map(splitPath);
  const wanted = paths(attributes);
  const unwanted = paths(excluded);
  let out: Resource = resource;
  if (wanted?.length) {
    out = { id: resource.id, schemas: resource.schemas };
    for (const [top, sub] of wanted) {
      const key = keyOf(resource, top);
      if (key === undefined) continue;
      const value = resource[key];
      if (sub === undefined || !isObject(out[key] ?? value)) out[key] = value;
      else {
        const subKey = keyOf(value as Resource, sub);
        if (subKey !== undefined) out[key] = { ...(out[key] as Resource), [subKey]: (value as Resource)[subKey] };
      }
      if (sub !== undefined && Array.isArray(value))
        out[key] = value.map((e: unknown) => (isObject(e) ? pick(e, sub) : e));
    }
  }
  for (const [top, sub] of unwanted ?? []) {
    const key = keyOf(out, top);
    if (key === undefined || key === 'id' || key === 'schemas') continue;
    if (sub === undefined) {
      out = { ...out };
      delete out[key];
    } else if (isObject(out[key])) {
      const inner = { ...(out[key] as Resource) };
      const subKey = keyOf(inner, sub);
      if (subKey !== undefined) delete inner[subKey];
      out = { ...out, [key]: inner };
    }
  }
  return out;
}

function pick(element: Resource, sub: string): Resource {
  const key = keyOf(element, sub);
  return key === undefined ? {} : { [key]: element[key] };
}

/** `urn:…:User:department` → [urn, department]; `name.givenName` → [name, givenName]. */
function splitPath(path: string): [string, string | undefined] {
  const urn = /^(urn:.*:(?:User|Group)):(.+)$/i.exec(path);
  if (urn) return [urn[1]!, urn[2]!.split('.')[0]];
  if (isUrn(path)) return [path, undefined];
  const [top = '', sub] = path.split('.');
  return [top, sub];
}

const keyOf = (record: Resource, name: string) => {
  const lower = name.toLowerCase();
  return Object.keys(record).find((k) => k.toLowerCase() === lower);
};

// ------------------------------------------------------------------------------------------------ to changes

type AttributeValue = string | number | boolean | null | string[];

/** The element of a multi-valued attribute of `type`, else the primary one, else the first. */
function preferred(list: unknown, type: string, fallback = true): Resource | undefined {
  if (!Array.isArray(list)) return undefined;
  const elements = list.filter(isObject);
  return (
    elements.find((e) => typeof e.type === 'string' && e.type.toLowerCase() === type) ??
    (fallback ? (elements.find((e) => e.primary === true) ?? elements[0]) : undefined)
  );
}

const scalar = (v: unknown): AttributeValue | undefined =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
    ? v
    : Array.isArray(v) && v.every((e) => typeof e === 'string')
      ? v
      : v === undefined || v === null
        ? undefined
        : JSON.stringify(v);

/**
 * A User's change attributes, named as the default mapping reads them (userName, givenName, familyName, email,
 * jobTitle, department, employeeId, mobilePhone, businessPhone, city, country, …); `managerExternalId` from the
 * enterprise manager (its SCIM id is the manager's externalId here); every attribute of another extension kept
 * under its full URN path (`urn:…:costCenter`), so a mapping can read it.
 */
export function userChangeAttributes(resource: Resource, password?: string): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  const set = (name: string, value: unknown) => {
    const v = scalar(value);
    if (v !== undefined && v !== '') out[name] = v;
  };
  const name = isObject(resource.name) ? resource.name : {};
  const enterprise = isObject(resource[SCIM.enterprise]) ? (resource[SCIM.enterprise] as Resource) : {};
  const work = preferred(resource.addresses, 'work');
  set('userName', resource.userName);
  set('externalId', resource.externalId);
  set('displayName', resource.displayName);
  set('givenName', name.givenName);
  set('familyName', name.familyName);
  set('middleName', name.middleName);
  set('honorificPrefix', name.honorificPrefix);
  set('honorificSuffix', name.honorificSuffix);
  set('nickName', resource.nickName);
  set('jobTitle', resource.title);
  set('employeeType', resource.userType);
  set('preferredLanguage', resource.preferredLanguage);
  set('locale', resource.locale);
  set('timezone', resource.timezone);
  set('profileUrl', resource.profileUrl);
  set('active', resource.active);
  set('email', preferred(resource.emails, 'work')?.value);
  set('mobilePhone', preferred(resource.phoneNumbers, 'mobile', false)?.value);
  set('businessPhone', preferred(resource.phoneNumbers, 'work', false)?.value);
  set('streetAddress', work?.streetAddress);
  set('city', work?.locality);
  set('state', work?.region);
  set('postalCode', work?.postalCode);
  set('country', work?.country);
  set('department', enterprise.department);
  set('employeeId', enterprise.employeeNumber);
  set('costCenter', enterprise.costCenter);
  set('division', enterprise.division);
  set('companyName', enterprise.organization);
  set('managerExternalId', isObject(enterprise.manager) ? enterprise.manager.value : undefined);
  for (const [key, value] of Object.entries(resource)) {
    if (!isUrn(key) || key === SCIM.enterprise || !isObject(value)) continue;
    for (const [attribute, v] of Object.entries(value)) {
      if (isObject(v)) for (const [sub, w] of Object.entries(v)) set(`${key}:${attribute}.${sub}`, w);
      else set(`${key}:${attribute}`, v);
    }
  }
  if (password) out.password = password;
  return out;
}

/** What the previous change said that this one does not: null, so the mapping clears it. */
export function withRemovals(
  next: Record<string, AttributeValue>,
  previous: Record<string, AttributeValue>,
): Record<string, AttributeValue> {
  const out = { ...next };
  for (const key of Object.keys(previous)) if (!(key in out) && key !== 'password') out[key] = null;
  return out;
}
