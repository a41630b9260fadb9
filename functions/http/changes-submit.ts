import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { submitChanges } from '../../shared/provisioning/operations.js';
import { httpFunction } from '../define.js';
import { readOptionalJson, withProblems } from '../http-support.js';
import { services } from '../services.js';

/** POST /api/connections/{id}/changes: one change or {changes:[…]} (≤ 1,000); 202 with an operation id each. */
export async function submitChangesHttp(request: HttpRequest): Promise<HttpResponseInit> {
  return { status: 202, jsonBody: await submitChanges(services(), request.params.id!, await readOptionalJson(request)) };
}

export const submitChangesFunction = httpFunction({ name: 'changes-submit', route: 'connections/{id}/changes', methods: ['POST'], authLevel: 'function', handler: withProblems(submitChangesHttp) });
