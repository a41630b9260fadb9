// `npm run schemas`: writes the JSON Schemas producers validate against, from the zod contracts.
// A test fails when the checked-in files and the contracts disagree.
// It also regenerates shared/domain/mapping/graph-user-properties.json (generate-graph-user-properties.ts).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../dev/paths.js';
import { changeJsonSchema } from '../shared/domain/change.js';
import { writeGraphUserProperties } from './generate-graph-user-properties.js';

export const SCHEMA_FILES = { 'schemas/provisioning-change.schema.json': changeJsonSchema } as const;

export const render = (schema: unknown) => `${JSON.stringify(schema, null, 2)}\n`;

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ''))) {
  for (const [file, build] of Object.entries(SCHEMA_FILES)) {
    writeFileSync(join(REPO_ROOT, file), render(build()));
    console.log(`wrote ${file}`);
  }
  console.log(writeGraphUserProperties());
}
