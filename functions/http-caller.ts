// The authenticated caller of a request to an admin route, set by functions/http-auth.ts before the handler runs.
import type { HttpRequest } from '@azure/functions';
import type { Caller } from '../shared/domain/access.js';

const callers = new WeakMap<HttpRequest, Caller>();

export const setCaller = (request: HttpRequest, caller: Caller) => void callers.set(request, caller);

/** The caller of a guarded request; undefined outside an admin route. */
export const callerOf = (request: HttpRequest): Caller | undefined => callers.get(request);
