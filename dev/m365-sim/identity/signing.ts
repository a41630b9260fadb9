// Token signing keys and the access tokens Graph accepts. Graph access tokens are v1.0 JWTs issued by
// https://sts.windows.net/{tid}/ with aud https://graph.microsoft.com (access-token-claims-reference);
// app-only tokens carry `roles`, delegated ones `scp`.
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, jwtVerify, SignJWT } from 'jose';

type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

export interface SigningKeys {
  kid: string;
  privateKey: SigningKey;
  publicKey: SigningKey;
  jwk: JWK;
}

export async function createSigningKeys(): Promise<SigningKeys> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomUUID().replace(/-/g, '');
  const jwk = { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' };
  return { kid, privateKey, publicKey, jwk };
}

/** Graph's resource ids: the application id URI of each cloud and the well-known appId. */
export const GRAPH_RESOURCES = [
  'https://graph.microsoft.com',
  'https://graph.microsoft.us',
  'https://dod-graph.microsoft.us',
  'https://microsoftgraph.chinacloudapi.cn',
  '00000003-0000-0000-c000-000000000000',
];

export interface AccessTokenClaims {
  tid: string;
  appid: string;
  aud: string;
  /** Application permissions (app-only). Absent when none are granted. */
  roles?: string[];
  /** Delegated scopes, space separated. */
  scp?: string;
  /** Object id: the user (delegated) or the app's service principal (app-only). */
  oid: string;
  upn?: string;
  idtyp: 'app' | 'user';
}

export const ACCESS_TOKEN_LIFETIME_S = 3599;

export async function signAccessToken(keys: SigningKeys, claims: AccessTokenClaims, nowMs: number): Promise<string> {
  const iat = Math.floor(nowMs / 1000);
  const payload: JWTPayload = { ...claims, ver: '1.0', appidacr: '1', sub: claims.oid, uti: randomUUID() };
  if (!claims.roles || claims.roles.length === 0) delete payload.roles;
  if (!claims.scp) delete payload.scp;
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: keys.kid })
    .setIssuer(`https://sts.windows.net/${claims.tid}/`)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + ACCESS_TOKEN_LIFETIME_S)
    .sign(keys.privateKey);
}

export async function signIdToken(
  keys: SigningKeys,
  issuer: string,
  claims: Record<string, unknown>,
  nowMs: number,
): Promise<string> {
  const iat = Math.floor(nowMs / 1000);
  return new SignJWT({ ...claims, ver: '2.0' })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: keys.kid })
    .setIssuer(issuer)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + ACCESS_TOKEN_LIFETIME_S)
    .sign(keys.privateKey);
}

export type TokenCheck = { ok: true; claims: AccessTokenClaims } | { ok: false; message: string };

/** Verifies signature, lifetime (against the simulated clock), audience and issuer of a Graph token. */
export async function verifyAccessToken(keys: SigningKeys, token: string, nowMs: number): Promise<TokenCheck> {
  try {
    const { payload } = await jwtVerify(token, keys.publicKey, {
      algorithms: ['RS256'],
      currentDate: new Date(nowMs),
      audience: GRAPH_RESOURCES,
    });
    if (typeof payload.tid !== 'string' || payload.iss !== `https://sts.windows.net/${payload.tid}/`) {
      return { ok: false, message: 'Access token validation failure. Invalid issuer.' };
    }
    return { ok: true, claims: payload as unknown as AccessTokenClaims };
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_JWT_EXPIRED') return { ok: false, message: 'Lifetime validation failed, the token is expired.' };
    if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED')
      return { ok: false, message: 'Access token validation failure. Invalid audience.' };
    if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED')
      return { ok: false, message: 'Access token validation failure. Invalid signature.' };
    return { ok: false, message: 'IDX14100: JWT is not well formed.' };
  }
}
