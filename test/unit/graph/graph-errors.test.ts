import { AuthenticationError } from '@azure/identity';
import { GraphError } from '@microsoft/microsoft-graph-client';
import { describe, expect, it } from 'vitest';
import { classifyGraphError, kindOf } from '../../../shared/graph/graph-errors.js';

describe('Graph adapter error classifier', () => {
  it.each([
    // [status, code, kind] — Graph statuses from the Graph error-responses doc; identity codes from AAD.
    [400, 'Request_BadRequest', 'invalid'],
    [400, 'ObjectConflict', 'conflict'],
    [401, 'InvalidAuthenticationToken', 'unauthorized'],
    [403, 'Authorization_RequestDenied', 'unauthorized'],
    [404, 'Request_ResourceNotFound', 'not-found'],
    [409, 'Conflict', 'conflict'],
    [412, 'PreconditionFailed', 'conflict'],
    [429, 'TooManyRequests', 'throttled'],
    [408, 'RequestTimeout', 'transient'],
    [500, 'InternalServerError', 'transient'],
    [503, 'ServiceUnavailable', 'transient'],
    [504, 'GatewayTimeout', 'transient'],
    [undefined, undefined, 'transient'],
    [401, 'invalid_client', 'unauthorized'],
    [400, 'invalid_grant', 'unauthorized'],
    [400, 'unauthorized_client', 'unauthorized'],
    [400, 'invalid_scope', 'invalid'],
    [undefined, 'endpoints_resolution_error', 'transient'],
  ] as const)('HTTP %s %s → %s', (status, code, kind) => {
    expect(kindOf({ status, code })).toBe(kind);
  });

  it('reads Retry-After from a throttled Graph response', () => {
    const error = new GraphError(429, 'Too many requests');
    error.code = 'TooManyRequests';
    error.headers = new Headers({ 'retry-after': '7', 'request-id': 'r-1' });
    const classified = classifyGraphError(error, 'create-user');
    expect(classified).toMatchObject({ kind: 'throttled', code: 'create-user:TooManyRequests', retryAfterMs: 7000 });
    expect(classified.details).toMatchObject({ status: 429, requestId: 'r-1' });
  });

  it('keeps the identity platform error and its AADSTS description', () => {
    const error = new AuthenticationError(401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x' });
    const classified = classifyGraphError(error, 'acquire-token');
    expect(classified.kind).toBe('unauthorized');
    expect(classified.message).toBe('acquire-token failed (HTTP 401): invalid_client: AADSTS7000215: Invalid client secret provided.');
  });

  it('classifies a network failure as transient and names its cause', () => {
    const error = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    expect(classifyGraphError(error, 'read-users')).toMatchObject({ kind: 'transient', message: 'read-users failed: fetch failed (ECONNREFUSED)' });
  });
});

describe('duplicate objects', () => {
  it('reads ObjectConflict from the details of a 400 Request_BadRequest (users: create, "Another object with the same value")', () => {
    const error = new GraphError(400, 'Another object with the same value for property userPrincipalName already exists.');
    error.code = 'Request_BadRequest';
    error.body = JSON.stringify({ code: 'Request_BadRequest', message: error.message, details: [{ target: 'userPrincipalName', code: 'ObjectConflict' }] });
    expect(classifyGraphError(error, 'create-user')).toMatchObject({ kind: 'conflict', details: { detailCodes: ['ObjectConflict'] } });
  });
});
