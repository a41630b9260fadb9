/**
 * Generates graph-user-properties.json: the properties of `microsoft.graph.user` a field mapping may target,
 * with their EDM types. Run after the simulator's schema extract changes:
 *
 *   npx tsx shared/domain/mapping/generate-graph-user-properties.ts
 *
 * Source of truth: dev/m365-sim/graph-schema/graph-v1.0-schema.json (extracted from Graph's v1.0 CSDL) and the
 * documented read-only lists in dev/m365-sim/graph-schema/validate-body.ts, read through validate-body's
 * `writableProperties` / `propertyType` / `graphSchema` so the two can never disagree.
 *
 * Build-time only: nothing in shared/ imports this module at runtime. `buildGraphUserProperties` takes the schema
 * reader as a parameter so this file has no static import of dev/ (and tsc's build of shared/ doesn't pull the
 * simulator in); the CLI below loads it dynamically, and the sync test passes it in.
 *
 * Rules:
 * - writable primitive (and enum) properties are targets as they are;
 * - a writable single-valued complex property whose fields are all primitive is expanded into dotted targets
 *   (`passwordProfile.password`, `employeeOrgData.division`, `onPremisesExtensionAttributes.extensionAttribute1`);
 * - other writable complex properties (collections of complex values, nested or open complex types, empty types)
 *   are listed as `notMappable`; read-only ones as `readOnly`, so validation can say why a target is refused.
 */
// eslint-disable-next-line no-restricted-imports -- build-time generator run by tsx, never imported at runtime
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The part of dev/m365-sim/graph-schema/validate-body.ts this generator reads (structural, to avoid a static import). */
export interface GraphSchemaReader {
  writableProperties(typeName: string): string[];
  propertyType(
    typeName: string,
    prop: string,
  ): { type: string; collection: boolean; nullable: boolean; kind: 'primitive' | 'enum' | 'complex' } | undefined;
  graphSchema(): {
    $source: { upstream: string; commit: string };
    types: Record<string, { openType?: true; properties: Record<string, { type: string; collection: boolean; nullable: boolean }> }>;
  };
}

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

export function buildGraphUserProperties(reader: GraphSchemaReader): GraphUserPropertiesFile {
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
      generator: 'shared/domain/mapping/generate-graph-user-properties.ts',
      schema: 'dev/m365-sim/graph-schema/graph-v1.0-schema.json',
      readOnlyRules: 'dev/m365-sim/graph-schema/validate-body.ts',
      upstream: schema.$source.upstream,
      commit: schema.$source.commit,
    },
    properties: Object.fromEntries(Object.entries(properties).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    readOnly,
    notMappable,
  };
}

/** The checked-in file's exact text (2-space JSON plus a trailing newline). */
export const serializeGraphUserProperties = (file: GraphUserPropertiesFile): string => `${JSON.stringify(file, null, 2)}\n`;

export const GRAPH_USER_PROPERTIES_JSON = new URL('./graph-user-properties.json', import.meta.url);

async function main(): Promise<void> {
  // Computed specifier on purpose: keeps dev/ out of the program that tsc builds from shared/.
  const validateBody = new URL('../../../dev/m365-sim/graph-schema/validate-body.ts', import.meta.url).href;
  const reader = (await import(validateBody)) as GraphSchemaReader;
  const file = buildGraphUserProperties(reader);
  writeFileSync(GRAPH_USER_PROPERTIES_JSON, serializeGraphUserProperties(file));
  process.stdout.write(
    `wrote ${fileURLToPath(GRAPH_USER_PROPERTIES_JSON)}: ${Object.keys(file.properties).length} targets, ` +
      `${file.readOnly.length} read-only, ${file.notMappable.length} not mappable\n`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  });
}
