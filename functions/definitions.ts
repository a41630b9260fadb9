// Every function of the app, declared once. functions/index.ts registers these with Azure; the local host
// (dev/host) serves the same list.
import type { FunctionDefinition } from './define.js';
import { healthFunction } from './http/health.js';

export const functionDefinitions: readonly FunctionDefinition[] = [healthFunction];
