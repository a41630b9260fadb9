/**
 * Types of the simulated tenant's Graph body validation (validate-body.ts), with no code:
 * - what the validator answers (`GraphBodyError`, `PropertyTypeInfo`) and its inputs (`WriteMode`, `GraphActionName`);
 * - the shape of graph-v1.0-schema.json, as written by extract.ts (`GraphSchemaFile` and its parts);
 * - the shape of one type's documented write rules (`WriteRules`), whose data lives in rules.ts.
 */
export type GraphBodyError = { code: 'Request_BadRequest'; message: string; target: string };
export type WriteMode = 'create' | 'update';
export type GraphActionName = 'microsoft.graph.assignLicense';

/** What `propertyType` answers. `type` is the element type for collections. */
export type PropertyTypeInfo = {
  name: string;
  type: string;
  collection: boolean;
  nullable: boolean;
  kind: 'primitive' | 'enum' | 'complex';
  /** Type that declares it (e.g. `microsoft.graph.entity` for `id`). */
  declaredBy: string;
  /** Can never be written by a client (docs, CSDL Computed, or service-maintained). */
  readOnly: boolean;
  /** Writable on POST only (CSDL Immutable or documented "only while creating"). */
  createOnly: boolean;
  /** Writable on PATCH only (documented "can't be set in the initial POST"). */
  updateOnly: boolean;
  enumMembers?: readonly string[];
};

// ---- JSON file shape (written by extract.ts) ----
export type SchemaProperty = {
  /** Fully qualified (`Edm.String`, `microsoft.graph.passwordProfile`); element type for collections. */
  type: string;
  collection: boolean;
  nullable: boolean;
  declaredBy?: string;
  computed?: true;
  immutable?: true;
};
export type SchemaStructuredType = {
  kind: 'entity' | 'complex';
  baseType?: string;
  abstract?: true;
  openType?: true;
  properties: Record<string, SchemaProperty>;
  navigationProperties?: Record<string, { type: string; collection: boolean }>;
};
export type SchemaEnumType = { isFlags?: true; members: string[] };
export type SchemaAction = {
  name: string;
  bindingType: string;
  parameters: Record<string, SchemaProperty>;
  returnType?: { type: string; collection: boolean };
};
export type GraphSchemaFile = {
  /** Provenance header: source file, upstream commit, licence. Sorted first on purpose. */
  $source: { file: string; upstream: string; commit: string; license: string; copyright: string; generator: string };
  types: Record<string, SchemaStructuredType>;
  enumTypes: Record<string, SchemaEnumType>;
  actions: SchemaAction[];
};

// ---- Write rules the CSDL does not carry (data in rules.ts) ----
export type WriteRules = {
  /** Never writable. */
  readOnly: readonly string[];
  /** Writable on create only. */
  createOnly?: readonly string[];
  /** Writable on update only. */
  updateOnly?: readonly string[];
  /** If set, only these structural properties are writable (update only; the type has no create). */
  writableOnly?: readonly string[];
  /** Navigation properties that accept `<nav>@odata.bind`, per mode. */
  bind?: { create?: readonly string[]; update?: readonly string[] };
  /** Directory extension (`extension_<appId>_<name>`) / schema extension properties allowed. */
  extensions?: boolean;
  /** Label Graph uses in "… of resource 'User'" messages. */
  resource: string;
};
