// @ts-check
// Lint rules plus the architecture's dependency rule (../shared/ARCHITECTURE.md, "Dependency rule"):
//   functions → shared/provisioning → shared/domain; shared/graph and shared/storage implement ports that the
//   use cases declare; only functions/ and dev/ import @azure/functions; shared/domain does no I/O.
// TypeScript is linted with type information (recommendedTypeChecked); layout is Prettier's (`npm run format`).
// No stylistic ESLint rule is enabled (so eslint-config-prettier is not needed): keep it that way.
import js from '@eslint/js';
import simpleImportSort from 'eslint-plugin-simple-import-sort';
import tseslint from 'typescript-eslint';

const azureFunctions = {
  name: '@azure/functions',
  message:
    'Only functions/ and dev/ may import @azure/functions: shared/ is the application, not the Azure entry point.',
};
const ioModules = [
  'fs',
  'fs/promises',
  'http',
  'https',
  'net',
  'tls',
  'dgram',
  'dns',
  'child_process',
  'worker_threads',
  'cluster',
  'readline',
].flatMap((m) => [m, `node:${m}`]);
const adapterPackages = [
  '@azure/data-tables',
  '@azure/storage-queue',
  '@azure/identity',
  '@microsoft/microsoft-graph-client',
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.local/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    // Type-aware rules read the program of tsconfig.json (which includes every TypeScript file that is linted).
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
  },
  {
    // The console (browser code, DOM types, JSX) has its own program.
    files: ['console/src/**/*.{ts,tsx}'],
    languageOptions: {
      parserOptions: {
        projectService: false,
        project: ['./console/tsconfig.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  // Plain JavaScript (this file, the .mjs hooks) is outside the TypeScript program: untyped rules only.
  { files: ['**/*.{js,mjs,cjs}'], ...tseslint.configs.disableTypeChecked },
  {
    plugins: { 'simple-import-sort': simpleImportSort },
    rules: {
      // One block, no blank lines between groups (the code's existing layout): side effects, node:, packages, relative.
      'simple-import-sort/imports': ['error', { groups: [['^\\u0000', '^node:', '^@?\\w', '^', '^\\.']] }],
    },
  },
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        AbortSignal: 'readonly',
        performance: 'readonly',
        fetch: 'readonly',
        NodeJS: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      // Handlers, ports and fakes are async by contract; one that needs no await still rejects rather than throws.
      '@typescript-eslint/require-await': 'off',
      // String(x) deliberately renders values of unknown shape (Graph JSON, table entities, error details) as text.
      '@typescript-eslint/no-base-to-string': 'off',
      'no-restricted-syntax': [
        'error',
        {
          selector: 'CallExpression[callee.object.name=/^(it|test|describe)$/][callee.property.name=/^(only|skip)$/]',
          message: 'No focused or skipped tests in the suite.',
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    // vitest's asymmetric matchers (expect.stringMatching, expect.any, …) are typed `any` inside toEqual/toMatchObject.
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  {
    files: ['test/integration/m365-sim/**/*.ts'],
    // These tests read Graph's answers loosely on purpose (the SDK's get() and helpers.ts's JsonBody are `any`): the assertions check the shapes.
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['shared/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [azureFunctions] }] },
  },
  {
    files: ['shared/provisioning/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            azureFunctions,
            ...adapterPackages.map((name) => ({
              name,
              message:
                'Use cases talk to adapters through the ports they declare; only shared/graph and shared/storage use SDKs.',
            })),
          ],
          patterns: [
            {
              group: ['**/graph/**', '**/storage/**', '../graph/*', '../storage/*'],
              message:
                'Use cases declare ports; shared/graph and shared/storage implement them (not the other way round).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['shared/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            azureFunctions,
            ...[...ioModules, ...adapterPackages].map((name) => ({ name, message: 'shared/domain is pure: no I/O.' })),
          ],
          patterns: [
            {
              group: [
                '**/provisioning/**',
                '**/graph/**',
                '**/storage/**',
                '../provisioning/*',
                '../graph/*',
                '../storage/*',
                '../config*',
              ],
              message: 'shared/domain depends on nothing else in the app.',
            },
          ],
        },
      ],
    },
  },
);
