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
    expect(classified).toMatchObject({ kind: 'throttled', code: 'graph-throttled', retryAfterMs: 7000 });
    expect(classified.details).toMatchObject({
      status: 429,
      code: 'TooManyRequests',
      operation: 'create-user',
      requestId: 'r-1',
    });
  });

  it('keeps the identity platform error and its AADSTS description', () => {
    const error = new AuthenticationError(401, {
      error: 'invalid_client',
      error_description: 'AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x',
    });
    const classified = classifyGraphError(error, 'acquire-token');
    expect(classified).toMatchObject({
      kind: 'unauthorized',
      code: 'credentials-refused',
      details: { code: 'invalid_client', operation: 'acquire-token' },
    });
    expect(classified.message).toBe(
      'acquire-token failed (HTTP 401): invalid_client: AADSTS7000215: Invalid client secret provided.',
    );
  });

  it.each([
    ['invalid_request', 'the token endpoint'],
    ['invalid_tenant', 'OpenID discovery'],
  ])('a tenant that does not exist (%s, from %s) is tenant-not-found, naming it', (code) => {
    const error = new AuthenticationError(400, {
      error: code,
      error_description:
        "AADSTS90002: Tenant 'nope.example' not found. Check to make sure you have the correct tenant ID.\r\nTrace ID: x",
    });
    expect(classifyGraphError(error, 'acquire-token')).toMatchObject({
      kind: 'unauthorized',
      code: 'tenant-not-found',
      message:
        "AADSTS90002: Tenant 'nope.example' not found: check the connection's tenantId (the Directory (tenant) ID of the Microsoft 365 organisation) and its cloud",
      details: { code, operation: 'acquire-token' },
    });
  });

  it.each([
    [401, 'InvalidAuthenticationToken', 'create-user', 'credentials-refused'],
    [403, 'Authorization_RequestDenied', 'update-user', 'permission-denied'],
    [403, 'invalid_client', 'acquire-token', 'credentials-refused'],
    [404, 'Request_ResourceNotFound', 'get-user', 'graph-not-found'],
    [400, 'Request_BadRequest', 'create-user', 'graph-invalid'],
    [503, 'ServiceUnavailable', 'get-user', 'graph-unavailable'],
  ] as const)("HTTP %s %s during %s → code %s (Graph's code kept in details)", (status, graphCode, what, code) => {
    const error = new GraphError(status, 'refused');
    error.code = graphCode;
    expect(classifyGraphError(error, what)).toMatchObject({ code, details: { code: graphCode, operation: what } });
  });

  it('an exhausted SKU is no-free-seats: Graph has no code for it, only its message', () => {
    const error = new GraphError(
      400,
      'License assignment failed because service plans … SKU 6fd2c87f-b296-42f0-b197-1e91e994b900 does not have any available licenses.',
    );
    error.code = 'Request_BadRequest';
    expect(classifyGraphError(error, 'assign-license')).toMatchObject({ kind: 'invalid', code: 'no-free-seats' });
  });

  it('classifies a network failure as transient and names its cause', () => {
    const error = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    expect(classifyGraphError(error, 'read-users')).toMatchObject({
      kind: 'transient',
      message: 'read-users failed: fetch failed (ECONNREFUSED)',
    });
  });
});

describe('duplicate objects', () => {
  it('reads ObjectConflict from the details of a 400 Request_BadRequest (users: create, "Another object with the same value")', () => {
    const error = new GraphError(
      400,
      'Another object with the same value for property userPrincipalName already exists.',
    );
    error.code = 'Request_BadRequest';
    error.body = JSON.stringify({
      code: 'Request_BadRequest',
      message: error.message,
      details: [{ target: 'userPrincipalName', code: 'ObjectConflict' }],
    });
    expect(classifyGraphError(error, 'create-user')).toMatchObject({
      kind: 'conflict',
      details: { detailCodes: ['ObjectConflict'] },
    });
  });
});
