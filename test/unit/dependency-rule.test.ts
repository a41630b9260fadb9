// The architecture's dependency rule is enforced by eslint.config.js (run in CI by `npm run lint`).
// These cases prove the checker catches each kind of violation, and lets the allowed imports through.
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../dev/paths.js';

// The cases name files that do not exist, so outside the TypeScript program: linted without type information.
const eslint = new ESLint({ cwd: REPO_ROOT, overrideConfig: tseslint.configs.disableTypeChecked });

async function violations(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('dependency rule', () => {
  it.each([
    [
      'shared/provisioning/x.ts',
      "import { app } from '@azure/functions';\nexport const a = app;",
      /Only functions\/ and dev\//,
    ],
    [
      'shared/graph/x.ts',
      "import type { HttpRequest } from '@azure/functions';\nexport type R = HttpRequest;",
      /Only functions\/ and dev\//,
    ],
    ['shared/domain/x.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;", /pure: no I\/O/],
    [
      'shared/domain/x.ts',
      "import { TableClient } from '@azure/data-tables';\nexport const t = TableClient;",
      /pure: no I\/O/,
    ],
    [
      'shared/domain/x.ts',
      "import { checkHealth } from '../provisioning/health.js';\nexport const c = checkHealth;",
      /depends on nothing else/,
    ],
    [
      'shared/provisioning/x.ts',
      "import { storageProbes } from '../storage/storage-probes.js';\nexport const s = storageProbes;",
      /declare ports/,
    ],
    [
      'shared/provisioning/x.ts',
      "import { Client } from '@microsoft/microsoft-graph-client';\nexport const c = Client;",
      /through the ports/,
    ],
  ])('rejects %s importing %s', async (file, code, message) => {
    const found = await violations(file, code);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(message);
  });

  it.each([
    ['functions/http/x.ts', "import type { HttpRequest } from '@azure/functions';\nexport type R = HttpRequest;"],
    ['dev/host/x.ts', "import azureFunctions from '@azure/functions';\nexport const a = azureFunctions;"],
    [
      'shared/storage/x.ts',
      "import type { DependencyProbe } from '../provisioning/health.js';\nexport type P = DependencyProbe;",
    ],
    ['shared/provisioning/x.ts', "import { z } from 'zod';\nexport const s = z.string();"],
  ])('allows %s to import %s', async (file, code) => {
    expect(await violations(file, code)).toEqual([]);
  });
});
