// Entry point loaded by the Azure Functions Node worker (package.json "main").
// Default import: the package is a CommonJS bundle (see dev/host/http-listener.ts).
import azureFunctions from '@azure/functions';
import { getConfig } from '../shared/config.js';
import { registerFunctions } from './define.js';
import { functionDefinitions } from './definitions.js';

// Fail at start-up, naming the setting, rather than on the first invocation.
getConfig();
registerFunctions(functionDefinitions, azureFunctions.app);
