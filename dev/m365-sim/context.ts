// Everything one running simulator shares between its identity, Graph and control surfaces.
import type { SimClock } from './clock.js';
import type { FaultInjector } from './faults.js';
import type { SigningKeys } from './identity/signing.js';
import type { RequestLog } from './request-log.js';
import type { ParsedSeed } from './seed.js';
import type { DirectoryState } from './state.js';
import type { ThrottleModel } from './throttling.js';

export interface SimSettings {
  throttling: boolean;
  timeScale: number;
  /**
   * Eventual consistency (0 = off): new objects stay out of lists/filters this long, and adding members or owners
   * to (or referencing) a group or user that new answers 400 until then (group-post-members, group-update).
   */
  replicationDelayMs: number;
  /** Group-based licensing runs in the background: members get (or lose) a group's licences this long after the change. */
  groupLicenseDelayMs: number;
  /**
   * Test control, not Entra behaviour: access tokens for an app's own API are issued this many seconds in the past
   * (iat, nbf, exp shifted), so a test gets an expired token without waiting an hour. 0 = off.
   */
  apiTokenBackdateSeconds: number;
}

/** How the (absent) signed-in user answers the authorize and adminconsent pages. */
export interface InteractiveBehaviour {
  decision: 'approve' | 'deny';
  /** Who signs in; defaults to the tenant's admin (seed adminUserPrincipalName) or login_hint. */
  userPrincipalName?: string;
}

export interface AuthCodeGrant {
  tenantId: string;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  userId: string;
  codeChallenge?: string;
  codeChallengeMethod?: 'S256' | 'plain';
  nonce?: string;
  issuedAt: number;
  redeemed: boolean;
  /** The app's own API the code is for (its scopes), instead of Graph. */
  api?: ApiGrant;
}

/** Delegated scopes of an API that an app registration of the tenant exposes. */
export interface ApiGrant {
  appId: string;
  /** The application ID URI (or appId) the client named the API with: a v1 token's audience. */
  resource: string;
  scopes: string[];
}

export interface RefreshGrant {
  tenantId: string;
  clientId: string;
  userId: string;
  scopes: string[];
  lastUsedAt: number;
  api?: ApiGrant;
}

export interface SimContext {
  /** https://127.0.0.1:<port>, known once listening. */
  baseUrl: string;
  clock: SimClock;
  directory: DirectoryState;
  seed: ParsedSeed;
  keys: SigningKeys;
  settings: SimSettings;
  log: RequestLog;
  faults: FaultInjector;
  throttle: ThrottleModel;
  interactive: InteractiveBehaviour;
  authCodes: Map<string, AuthCodeGrant>;
  refreshTokens: Map<string, RefreshGrant>;
}
