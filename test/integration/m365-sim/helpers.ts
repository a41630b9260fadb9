// Small helpers shared by the simulator's component tests.
import { createHash, randomBytes } from 'node:crypto';
import type { TestTenant } from '../../support/simulated-tenant.js';

/** Response bodies in these tests are read loosely; their exact shapes are what the assertions check. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JsonBody = Record<string, any>;

export interface GraphFailure {
  statusCode: number;
  code: string;
  message: string;
  body: {
    error: {
      code: string;
      message: string;
      details?: Array<{ code: string; target?: string }>;
      innerError: Record<string, string>;
    };
  };
  headers?: Headers;
}

/** The GraphError the real Graph client throws; its `body` holds the inner `error` object as JSON. */
export async function graphFailure(promise: Promise<unknown>): Promise<GraphFailure> {
  try {
    await promise;
  } catch (e) {
    const err = e as { statusCode: number; code: string; message: string; body: string; headers?: Headers };
    return {
      ...err,
      statusCode: err.statusCode,
      code: err.code,
      message: err.message,
      body: { error: JSON.parse(err.body) as GraphFailure['body']['error'] },
    };
  }
  throw new Error('expected the Graph call to fail');
}

export async function accessToken(
  sim: TestTenant,
  tenantId: string,
  clientId: string,
  secret: string,
): Promise<string> {
  const token = await sim.credentialFor(tenantId, clientId, secret).getToken('https://graph.microsoft.com/.default');
  return token.token;
}

export async function rawGraph(
  sim: TestTenant,
  token: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${sim.graphBaseUrl}/v1.0${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as JsonBody) : undefined };
}

export function decodeJwt(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

export function pkcePair() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export function newUserBody(upn: string, extra: Record<string, unknown> = {}) {
  return {
    accountEnabled: true,
    displayName: upn.split('@')[0],
    mailNickname: upn.split('@')[0]!.replace(/[^a-z0-9]/gi, ''),
    userPrincipalName: upn,
    passwordProfile: { password: 'Sim-Passw0rd!', forceChangePasswordNextSignIn: true },
    ...extra,
  };
}
