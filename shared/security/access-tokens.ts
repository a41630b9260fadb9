// Microsoft Entra ID access tokens for this API, validated as the identity platform says a protected API must
// (access-tokens "Validate tokens", access-token-claims-reference): signed (RS256) by a key of the tenant's JWKS
// ({authority}/{tenant}/discovery/v2.0/keys, fetched and cached by jose, refetched for an unknown `kid`), issued by
// the configured tenant (v2 issuer {authority}/{tenant}/v2.0, `tid` the same), for this API (`aud` = its client id:
// v2 tokens, the app registration asks for them with requestedAccessTokenVersion 2), within its lifetime (five
// minutes of clock skew allowed, as Microsoft.IdentityModel does). The caller's roles are the `roles` claim.
import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify } from 'jose';
import type { SignInSettings } from '../config.js';
import type { Actor } from '../domain/config-audit.js';
import { AppError } from '../domain/errors.js';

export interface VerifiedToken {
  actor: Extract<Actor, { type: 'principal' }>;
  roles: string[];
}

/** Why a token was refused: said to the caller (never the token itself). */
export class InvalidTokenError extends Error {}

const CLOCK_SKEW_SECONDS = 300;

export class AccessTokenVerifier {
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;
  readonly issuer: string;

  constructor(private readonly settings: SignInSettings) {
    this.issuer = `${settings.authorityHost}/${settings.tenantId}/v2.0`;
    this.jwks = createRemoteJWKSet(
      new URL(`${settings.authorityHost}/${settings.tenantId}/discovery/v2.0/keys`),
      // Keys rotate rarely; an unknown kid refetches at most every 5 minutes.
      { cooldownDuration: 5 * 60_000, cacheMaxAge: 24 * 60 * 60_000, timeoutDuration: 5_000 },
    );
  }

  async verify(token: string): Promise<VerifiedToken> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.jwks, {
        algorithms: ['RS256'],
        issuer: this.issuer,
        audience: this.settings.clientId,
        clockTolerance: CLOCK_SKEW_SECONDS,
        requiredClaims: ['exp', 'iat', 'oid', 'tid'],
      }));
    } catch (error) {
      const why = reason(error);
      if (why) throw new InvalidTokenError(why);
      // The keys could not be read: not the caller's fault, and nothing was decided about the token.
      throw new AppError(
        'transient',
        'dependency-unavailable',
        `The tenant's signing keys could not be fetched from ${this.settings.authorityHost}: ${(error as Error).message}`,
      );
    }
    if (String(payload.tid).toLowerCase() !== this.settings.tenantId)
      throw new InvalidTokenError('the token is for another tenant');
    if (payload.ver !== '2.0') throw new InvalidTokenError('only v2.0 access tokens are accepted');
    const name = [payload.preferred_username, payload.upn, payload.name, payload.oid].find(
      (v): v is string => typeof v === 'string' && v !== '',
    )!;
    const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string') : [];
    return { actor: { type: 'principal', name, id: String(payload.oid), identityProvider: 'aad' }, roles };
  }
}

/** Why the token is refused; undefined when the failure is the key set's (unreachable, malformed), not the token's. */
function reason(error: unknown): string | undefined {
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return `the token was not issued by the configured tenant`;
    if (error.claim === 'aud') return 'the token is for another audience (not this API)';
    if (error.claim === 'nbf' || error.claim === 'iat') return 'the token is not valid yet';
    return `the token's ${error.claim} claim is not acceptable`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return 'the token is not signed with RS256';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'the token signature is not valid';
  if (error instanceof errors.JWKSNoMatchingKey) return 'the token is not signed by a key of the tenant';
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) return undefined;
  if (error instanceof errors.JOSEError && error.code !== 'ERR_JOSE_GENERIC')
    return 'the token is not a valid signed JWT';
  return undefined;
}
