/**
 * Extracts the slice of Microsoft Graph's v1.0 CSDL that the simulator needs and writes it as a
 * compact, deterministic JSON next to this file (graph-v1.0-schema.json, committed).
 *
 *   npx tsx dev/m365-sim/graph-schema/extract.ts [path/to/v1.0.csdl]
 *
 * Source: microsoftgraph/msgraph-metadata schemas/v1.0-Prod.csdl at commit f54f11b6 (MIT): pass its path, or it
 * is read from ../shared/reference/graph/v1.0.csdl beside the repository (the team's workspace copy). See NOTICE.md.
 *
 * What is kept: the root entity types below with every inherited structural property resolved
 * (user -> directoryObject -> entity), their navigation properties (names/types only, so the
 * validator can recognise `members@odata.bind`), every complex and enum type reachable from those
 * structural properties, and the bound actions listed in ROOT_ACTIONS. Descriptions are dropped.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { XMLParser } from 'fast-xml-parser';
import type { GraphSchemaFile, SchemaAction, SchemaEnumType, SchemaProperty, SchemaStructuredType } from './types.js';

const DEFAULT_CSDL = fileURLToPath(new URL('../../../../shared/reference/graph/v1.0.csdl', import.meta.url));
const OUT = fileURLToPath(new URL('./graph-v1.0-schema.json', import.meta.url));

const ROOT_ENTITY_TYPES = [
  'microsoft.graph.application',
  'microsoft.graph.directoryObject',
  'microsoft.graph.entity',
  'microsoft.graph.group',
  'microsoft.graph.licenseDetails',
  'microsoft.graph.organization',
  'microsoft.graph.subscribedSku',
  'microsoft.graph.user',
];
/** Bound actions to keep, as `<action>` + binding type. */
const ROOT_ACTIONS: ReadonlyArray<{ name: string; binding: string }> = [
  { name: 'microsoft.graph.assignLicense', binding: 'microsoft.graph.user' },
  { name: 'microsoft.graph.assignLicense', binding: 'microsoft.graph.group' },
];

// ---- raw CSDL (after fast-xml-parser) ----
type RawAttrs = Record<string, string | undefined>;
type RawProperty = RawAttrs & { Annotation?: RawAnnotation[] };
type RawAnnotation = RawAttrs;
type RawStructured = RawAttrs & { Property?: RawProperty[]; NavigationProperty?: RawProperty[] };
type RawEnum = RawAttrs & { Member?: RawAttrs[] };
type RawAction = RawAttrs & { Parameter?: RawAttrs[]; ReturnType?: RawAttrs[] };
type RawAnnotations = RawAttrs & { Annotation?: RawAnnotation[] };
type RawSchema = RawAttrs & {
  EntityType?: RawStructured[];
  ComplexType?: RawStructured[];
  EnumType?: RawEnum[];
  Action?: RawAction[];
  Annotations?: RawAnnotations[];
};

const ARRAY_TAGS = new Set([
  'Schema',
  'EntityType',
  'ComplexType',
  'EnumType',
  'Property',
  'NavigationProperty',
  'Member',
  'Action',
  'Function',
  'Parameter',
  'ReturnType',
  'Annotations',
  'Annotation',
]);

function parseCsdl(xml: string): RawSchema[] {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    // Attribute values must stay strings ("false", "0"), not be coerced.
    parseAttributeValue: false,
    removeNSPrefix: true,
    isArray: (name) => ARRAY_TAGS.has(name),
  });
  const doc = parser.parse(xml) as { Edmx?: { DataServices?: { Schema?: RawSchema[] } } };
  const schemas = doc.Edmx?.DataServices?.Schema;
  if (!schemas?.length) throw new Error('no <Schema> elements found: not a CSDL document?');
  return schemas;
}

type Indexed = {
  structured: Map<string, { kind: 'entity' | 'complex'; raw: RawStructured; ns: string }>;
  enums: Map<string, RawEnum>;
  actions: Array<{ raw: RawAction; ns: string }>;
  /** Target (`ns.type/prop`) -> annotation terms set to true. */
  flags: Map<string, Set<string>>;
  aliases: Map<string, string>;
};

function index(schemas: RawSchema[]): Indexed {
  const ix: Indexed = { structured: new Map(), enums: new Map(), actions: [], flags: new Map(), aliases: new Map() };
  for (const s of schemas) {
    const ns = s.Namespace!;
    if (s.Alias) ix.aliases.set(s.Alias, ns);
  }
  for (const s of schemas) {
    const ns = s.Namespace!;
    for (const t of s.EntityType ?? []) ix.structured.set(`${ns}.${t.Name}`, { kind: 'entity', raw: t, ns });
    for (const t of s.ComplexType ?? []) ix.structured.set(`${ns}.${t.Name}`, { kind: 'complex', raw: t, ns });
    for (const e of s.EnumType ?? []) ix.enums.set(`${ns}.${e.Name}`, e);
    for (const a of s.Action ?? []) ix.actions.push({ raw: a, ns });
    for (const group of s.Annotations ?? []) {
      const target = qualify(group.Target!, ix.aliases);
      for (const ann of group.Annotation ?? []) noteFlag(ix.flags, target, ann);
    }
  }
  // Inline annotations on properties (rare in Graph's CSDL, but legal).
  for (const [name, { raw }] of ix.structured) {
    for (const p of raw.Property ?? [])
      for (const ann of p.Annotation ?? []) noteFlag(ix.flags, `${name}/${p.Name}`, ann);
  }
  return ix;
}

const FLAG_TERMS: Record<string, 'computed' | 'immutable'> = {
  'Org.OData.Core.V1.Computed': 'computed',
  'Org.OData.Core.V1.Immutable': 'immutable',
};

function noteFlag(flags: Map<string, Set<string>>, target: string, ann: RawAnnotation): void {
  const flag = ann.Term ? FLAG_TERMS[ann.Term] : undefined;
  if (!flag || ann.Bool === 'false') return;
  let set = flags.get(target);
  if (!set) flags.set(target, (set = new Set()));
  set.add(flag);
}

/** `graph.user` / `self.x` -> fully qualified namespace name. Leaves `Edm.*` alone. */
function qualify(name: string, aliases: Map<string, string>): string {
  const dot = name.indexOf('.');
  if (dot < 0) return name;
  const head = name.slice(0, dot);
  const ns = aliases.get(head);
  return ns ? `${ns}${name.slice(dot)}` : name;
}

function splitType(t: string, aliases: Map<string, string>): { type: string; collection: boolean } {
  const m = /^Collection\((.+)\)$/.exec(t);
  return m ? { type: qualify(m[1]!, aliases), collection: true } : { type: qualify(t, aliases), collection: false };
}

function toProperty(raw: RawAttrs, ix: Indexed, owner?: string): SchemaProperty {
  const { type, collection } = splitType(raw.Type!, ix.aliases);
  const p: SchemaProperty = { type, collection, nullable: raw.Nullable !== 'false' };
  if (owner) {
    const flags = ix.flags.get(`${owner}/${raw.Name}`);
    if (flags?.has('computed')) p.computed = true;
    if (flags?.has('immutable')) p.immutable = true;
  }
  return p;
}

function extract(xml: string): GraphSchemaFile {
  const ix = index(parseCsdl(xml));
  // Complex base -> derived complex types, so a body may name a subtype via `@odata.type`
  // (e.g. workingHours.timeZone: timeZoneBase | customTimeZone). Entity subtypes are not followed.
  const derived = new Map<string, string[]>();
  for (const [name, { kind, raw }] of ix.structured) {
    if (kind !== 'complex' || !raw.BaseType) continue;
    const base = qualify(raw.BaseType, ix.aliases);
    derived.set(base, [...(derived.get(base) ?? []), name]);
  }
  const types: Record<string, SchemaStructuredType> = {};
  const enumTypes: Record<string, SchemaEnumType> = {};
  const pending: string[] = [];
  const seen = new Set<string>();
  const want = (name: string): void => {
    if (name.startsWith('Edm.') || seen.has(name)) return;
    seen.add(name);
    pending.push(name);
  };

  /** Base-first chain, so derived declarations override inherited ones. */
  const chain = (name: string): string[] => {
    const out: string[] = [];
    for (let cur: string | undefined = name; cur;) {
      const t = ix.structured.get(cur);
      if (!t) throw new Error(`type ${cur} not found in CSDL`);
      out.unshift(cur);
      cur = t.raw.BaseType ? qualify(t.raw.BaseType, ix.aliases) : undefined;
    }
    return out;
  };

  for (const r of ROOT_ENTITY_TYPES) want(r);
  const actions: SchemaAction[] = [];
  for (const { name, binding } of ROOT_ACTIONS) {
    const found = ix.actions.find(({ raw, ns }) => {
      if (`${ns}.${raw.Name}` !== name || raw.IsBound !== 'true') return false;
      const first = raw.Parameter?.[0];
      return first !== undefined && splitType(first.Type!, ix.aliases).type === binding;
    });
    if (!found) throw new Error(`action ${name} bound to ${binding} not found`);
    const parameters: Record<string, SchemaProperty> = {};
    for (const p of (found.raw.Parameter ?? []).slice(1)) {
      parameters[p.Name!] = toProperty(p, ix);
      want(parameters[p.Name!]!.type);
    }
    const ret = found.raw.ReturnType?.[0];
    actions.push({
      name,
      bindingType: binding,
      parameters,
      ...(ret ? { returnType: splitType(ret.Type!, ix.aliases) } : {}),
    });
  }

  while (pending.length) {
    const name = pending.shift()!;
    const en = ix.enums.get(name);
    if (en) {
      enumTypes[name] = {
        ...(en.IsFlags === 'true' ? { isFlags: true as const } : {}),
        members: (en.Member ?? []).map((m) => m.Name!),
      };
      continue;
    }
    const t = ix.structured.get(name);
    if (!t) throw new Error(`type ${name} referenced but not defined`);
    const properties: Record<string, SchemaProperty> = {};
    const nav: Record<string, { type: string; collection: boolean }> = {};
    for (const level of chain(name)) {
      const raw = ix.structured.get(level)!.raw;
      for (const p of raw.Property ?? []) {
        const prop = toProperty(p, ix, level);
        if (level !== name) prop.declaredBy = level;
        properties[p.Name!] = prop;
        want(prop.type);
      }
      // Navigation properties are kept by name/type only (for `@odata.bind`); their targets are not expanded.
      if (t.kind === 'entity')
        for (const p of raw.NavigationProperty ?? []) nav[p.Name!] = splitType(p.Type!, ix.aliases);
    }
    const base = t.raw.BaseType ? qualify(t.raw.BaseType, ix.aliases) : undefined;
    if (base) want(base);
    if (t.kind === 'complex') for (const d of derived.get(name) ?? []) want(d);
    types[name] = {
      kind: t.kind,
      ...(base ? { baseType: base } : {}),
      ...(t.raw.Abstract === 'true' ? { abstract: true as const } : {}),
      ...(t.raw.OpenType === 'true' ? { openType: true as const } : {}),
      properties,
      ...(Object.keys(nav).length ? { navigationProperties: nav } : {}),
    };
  }

  actions.sort((a, b) => (a.name + a.bindingType).localeCompare(b.name + b.bindingType));
  return {
    $source: {
      file: 'v1.0.csdl (Microsoft Graph v1.0 service metadata)',
      upstream: 'https://github.com/microsoftgraph/msgraph-metadata/blob/f54f11b6/schemas/v1.0-Prod.csdl',
      commit: 'f54f11b6',
      license: 'MIT',
      copyright: 'Copyright (c) 2018 Microsoft Graph',
      generator: 'dev/m365-sim/graph-schema/extract.ts',
    },
    types,
    enumTypes,
    actions,
  };
}

/** Recursively sorts object keys (arrays keep their order) so the output is byte-stable. */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

function main(): void {
  const csdlPath = process.argv[2] ?? DEFAULT_CSDL;
  const schema = extract(readFileSync(csdlPath, 'utf8'));
  // One type per line: diffs stay readable without inflating the file with indentation.
  const sorted = sortKeys(schema) as GraphSchemaFile;
  const section = (obj: Record<string, unknown>): string =>
    '{\n' +
    Object.entries(obj)
      .map(([k, v]) => `    ${JSON.stringify(k)}: ${JSON.stringify(v)}`)
      .join(',\n') +
    '\n  }';
  const text =
    '{\n' +
    `  "$source": ${JSON.stringify(sorted.$source)},\n` +
    `  "actions": [\n${sorted.actions.map((a) => `    ${JSON.stringify(a)}`).join(',\n')}\n  ],\n` +
    `  "enumTypes": ${section(sorted.enumTypes)},\n` +
    `  "types": ${section(sorted.types)}\n` +
    '}\n';
  JSON.parse(text); // guard: the hand-assembled layout must still be JSON
  writeFileSync(OUT, text);
  const nTypes = Object.keys(schema.types).length;
  const nEnums = Object.keys(schema.enumTypes).length;
  console.log(
    `wrote ${OUT}: ${nTypes} structured types, ${nEnums} enum types, ${schema.actions.length} actions, ${text.length} bytes`,
  );
}

main();
