/**
 * Generates shared/domain/mapping/graph-user-properties.json: the properties of `microsoft.graph.user` a field
 * mapping may target, with their EDM types. Run after the simulator's schema extract or rules change:
 *
 *   npm run schemas        (also regenerates the JSON Schemas, see generate-schemas.ts)
 *   npx tsx scripts/generate-graph-user-properties.ts
 *
 * Source of truth: dev/m365-sim/graph-schema/graph-v1.0-schema.json (extracted from Graph's v1.0 CSDL) and the
 * documented read-only lists in dev/m365-sim/graph-schema/rules.ts, read through validate-body's
 * `writableProperties` / `propertyType` / `graphSchema` so the two can never disagree.
 *
 * Build-time only, and the only place that writes the file: shared/domain/mapping/graph-user-properties.ts imports
 * the JSON and nothing here. test/unit/mapping/graph-user-properties.test.ts regenerates it in memory and fails if
 * the checked-in file drifts.
 *
 * Rules:
 * - writable primitive (and enum) properties are targets as they are;
 * - a writable single-valued complex property whose fields are all primitive is expanded into dotted targets
 *   (`passwordProfile.password`, `employeeOrgData.division`, `onPremisesExtensionAttributes.extensionAttribute1`);
 * - other writable complex properties (collections of complex values, nested or open complex types, empty types)
 *   are listed as `notMappable`; read-only ones as `readOnly`, so validation can say why a target is refused.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as validateBody from '../dev/m365-sim/graph-schema/validate-body.js';

/** The part of the simulator's body validator this generator reads (a parameter, so a test can pass its own). */
export type GraphSchemaReader = Pick<typeof validateBody, 'writableProperties' | 'propertyType' | 'graphSchema'>;

export interface GraphUserPropertyType {
  /** EDM type of the value (element type for collections), e.g. `Edm.String`. */
  type: string;
  collection: boolean;
  nullable: boolean;
}

export interface GraphUserPropertiesFile {
  $source: { generator: string; schema: string; readOnlyRules: string; upstream: string; commit: string };
  /** Mapping targets, sorted: top-level names and dotted `<complex>.<field>` names. */
  properties: Record<string, GraphUserPropertyType>;
  /** Declared on microsoft.graph.user but never client-writable (docs / CSDL). */
  readOnly: string[];
  /** Writable, but not as a single mapped value (complex collections, nested or open complex types). */
  notMappable: string[];
}

const USER = 'microsoft.graph.user';
const isPrimitiveType = (type: string): boolean => type.startsWith('Edm.');

export function buildGraphUserProperties(reader: GraphSchemaReader = validateBody): GraphUserPropertiesFile {
  const schema = reader.graphSchema();
  const user = schema.types[USER];
  if (!user) throw new Error(`${USER} is missing from the Graph schema extract`);
  const writable = new Set(reader.writableProperties(USER));
  const properties: Record<string, GraphUserPropertyType> = {};
  const notMappable: string[] = [];
  for (const name of [...writable].sort()) {
    const info = reader.propertyType(USER, name);
    if (!info) throw new Error(`no type information for ${USER}.${name}`);
    if (info.kind !== 'complex') {
      properties[name] = { type: info.type, collection: info.collection, nullable: info.nullable };
      continue;
    }
    const complex = schema.types[info.type];
    const fields = Object.entries(complex?.properties ?? {});
    const flat =
      !info.collection &&
      complex !== undefined &&
      complex.openType !== true &&
      fields.length > 0 &&
      fields.every(([, f]) => isPrimitiveType(f.type));
    if (!flat) {
      notMappable.push(name);
      continue;
    }
    for (const [field, f] of fields.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      properties[`${name}.${field}`] = { type: f.type, collection: f.collection, nullable: f.nullable };
    }
  }
  const readOnly = Object.keys(user.properties)
    .filter((name) => !writable.has(name))
    .sort();
  return {
    $source: {
      generator: 'scripts/generate-graph-user-properties.ts',
      schema: 'dev/m365-sim/graph-schema/graph-v1.0-schema.json',
      readOnlyRules: 'dev/m365-sim/graph-schema/rules.ts',
      upstream: schema.$source.upstream,
      commit: schema.$source.commit,
    },
    properties: Object.fromEntries(Object.entries(properties).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    readOnly,
    notMappable,
  };
}

/** The checked-in file's exact text (2-space JSON plus a trailing newline). */
export const serializeGraphUserProperties = (file: GraphUserPropertiesFile): string =>
  `${JSON.stringify(file, null, 2)}\n`;

export const GRAPH_USER_PROPERTIES_JSON = new URL(
  '../shared/domain/mapping/graph-user-properties.json',
  import.meta.url,
);

/** Regenerates the checked-in file; returns a one-line summary. */
export function writeGraphUserProperties(): string {
  const file = buildGraphUserProperties();
  writeFileSync(GRAPH_USER_PROPERTIES_JSON, serializeGraphUserProperties(file));
  return (
    `wrote ${fileURLToPath(GRAPH_USER_PROPERTIES_JSON)}: ${Object.keys(file.properties).length} targets, ` +
    `${file.readOnly.length} read-only, ${file.notMappable.length} not mappable`
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    console.log(writeGraphUserProperties());
  } catch (e: unknown) {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  }
}
