// The real classes of @azure/functions. The package is a CommonJS bundle whose classes Node's ESM loader
// cannot see as named exports, so they are taken from the default export, once, here.
import azureFunctions from '@azure/functions';

export const { HttpRequest, HttpResponse, InvocationContext } = azureFunctions;
