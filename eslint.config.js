// @ts-check
// Lint rules plus the architecture's dependency rule (../shared/ARCHITECTURE.md, "Dependency rule"):
//   functions → shared/provisioning → shared/domain; shared/graph and shared/storage implement ports that the
//   use cases declare; only functions/ and dev/ import @azure/functions; shared/domain does no I/O.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const azureFunctions = {
  name: '@azure/functions',
  message: 'Only functions/ and dev/ may import @azure/functions: shared/ is the application, not the Azure entry point.',
};
const ioModules = [
  'fs', 'fs/promises', 'http', 'https', 'net', 'tls', 'dgram', 'dns', 'child_process', 'worker_threads', 'cluster', 'readline',
].flatMap((m) => [m, `node:${m}`]);
const adapterPackages = ['@azure/data-tables', '@azure/storage-queue', '@azure/identity', '@microsoft/microsoft-graph-client'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.local/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', AbortSignal: 'readonly', performance: 'readonly', fetch: 'readonly', NodeJS: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.object.name=/^(it|test|describe)$/][callee.property.name=/^(only|skip)$/]", message: 'No focused or skipped tests in the suite.' },
      ],
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
          paths: [azureFunctions, ...adapterPackages.map((name) => ({ name, message: 'Use cases talk to adapters through the ports they declare; only shared/graph and shared/storage use SDKs.' }))],
          patterns: [{ group: ['**/graph/**', '**/storage/**', '../graph/*', '../storage/*'], message: 'Use cases declare ports; shared/graph and shared/storage implement them (not the other way round).' }],
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
          paths: [azureFunctions, ...[...ioModules, ...adapterPackages].map((name) => ({ name, message: 'shared/domain is pure: no I/O.' }))],
          patterns: [{ group: ['**/provisioning/**', '**/graph/**', '**/storage/**', '../provisioning/*', '../graph/*', '../storage/*', '../config*'], message: 'shared/domain depends on nothing else in the app.' }],
        },
      ],
    },
  },
);
