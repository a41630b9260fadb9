// Ports the use cases declare; shared/storage, shared/graph and shared/security implement them.
import type { Connection, ResolvedEndpoints } from '../domain/connection.js';

export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

/** Encrypts secrets at rest, each bound to what it protects (associated data). */
export interface SecretProtector {
  encrypt(plaintext: string, associatedData: string): string;
  decrypt(ciphertext: string, associatedData: string): string;
  /** True when the value was encrypted with a key that is no longer the active one. */
  needsRewrap(ciphertext: string): boolean;
}

export interface ConnectionRepository {
  /** Fails with a conflict if the id exists. */
  create(connection: Connection): Promise<Connection>;
  get(id: string): Promise<Connection | undefined>;
  list(): Promise<Connection[]>;
  /** Replaces the stored connection if it still has `connection.etag`; a conflict (`concurrent-update`) otherwise. */
  replace(connection: Connection): Promise<Connection>;
  /** False when there was nothing to delete. */
  delete(id: string): Promise<boolean>;
}

export interface OAuthStateRecord {
  /** SHA-256 of the state value: the state itself is never stored. */
  stateHash: string;
  /** Delegated consent (authorization code + PKCE) or an admin granting the app's application permissions. */
  purpose: 'authorize' | 'admin-consent';
  connectionId: string;
  verifierCipher: string;
  redirectUri: string;
  createdAt: string;
  expiresAt: string;
  usedAt?: string;
  etag?: string;
}

export interface OAuthStateRepository {
  save(record: OAuthStateRecord): Promise<void>;
  get(stateHash: string): Promise<OAuthStateRecord | undefined>;
  /** Marks the state used if nobody else did first (ETag); false when it lost that race. */
  markUsed(record: OAuthStateRecord, usedAt: string): Promise<boolean>;
}

/** The identity platform's OAuth endpoints (authorization code + PKCE). */
export interface OAuthClient {
  newPkce(): Promise<{ verifier: string; challenge: string }>;
  authorizationUrl(p: { endpoints: ResolvedEndpoints; clientId: string; redirectUri: string; scope: string; state: string; codeChallenge: string }): string;
  /** Throws AppError `oauth-grant-failed` (kind unauthorized) carrying the server's error and description. */
  exchangeCode(p: { endpoints: ResolvedEndpoints; clientId: string; clientSecret: string; code: string; redirectUri: string; codeVerifier: string; scope: string }): Promise<{ refreshToken?: string }>;
}

export interface ConnectionSecrets {
  clientSecret: string;
  refreshToken?: string;
}

export interface TokenInfo {
  kind: 'app-only' | 'delegated';
  /** `roles` of an app-only token, or `scp` of a delegated one. */
  permissions: string[];
  expiresOn: Date;
}

export interface ApplicationSecret {
  displayName?: string;
  hint?: string;
  endDateTime?: string;
}

/** One connection's tenant, as the use cases need it. Errors are AppErrors classified by the adapter. */
export interface TenantGateway {
  acquireToken(): Promise<TokenInfo>;
  verifiedDomains(): Promise<string[]>;
  readOneUser(): Promise<void>;
  applicationSecrets(appId: string): Promise<ApplicationSecret[]>;
}

export interface TenantGatewayFactory {
  /**
   * A gateway for the connection's tenant. Implementations cache credentials per connection and
   * `credentialVersion`. `onRefreshTokenRotated` persists a new refresh token the token endpoint issued.
   */
  forConnection(connection: Connection, secrets: ConnectionSecrets, onRefreshTokenRotated: (refreshToken: string) => Promise<void>): TenantGateway;
}
