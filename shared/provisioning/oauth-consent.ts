// OAuth authorization-code consent (Zoho's Authorize → sign in → Allow → back to us), with PKCE S256.
// The state is random, stored only as a hash, bound to one connection, valid 10 minutes and single-use.
// Every outcome of the callback is reported for the person's browser and, where a connection is known,
// recorded on it.
import { createHash, randomBytes } from 'node:crypto';
import { auditChanges } from '../domain/config-audit.js';
import { type AuthorizationState, type Connection, graphScope, resolveEndpoints } from '../domain/connection.js';
import { AppError, isAppError } from '../domain/errors.js';
import { type AuditDeps, recordChange } from './audit.js';
import { connectionChanges, type ConnectionDeps, connectionSecrets, loadConnection, secretAad } from './connections.js';
import type { OAuthClient, OAuthStateRecord, OAuthStateRepository } from './ports.js';

export const STATE_TTL_MS = 10 * 60_000;

export interface ConsentDeps extends ConnectionDeps, AuditDeps {
  oauthStates: OAuthStateRepository;
  oauth: OAuthClient;
}

const hashState = (state: string) => createHash('sha256').update(state).digest('hex');
const verifierAad = (stateHash: string) => `oauth-state:${stateHash}:codeVerifier`;
/** Delegated access to Graph plus a refresh token; `.default` asks for what the app registration lists. */
const consentScope = (c: Pick<Connection, 'cloud'>) => `${graphScope(c)} offline_access`;

/** A new state for `purpose`, stored (hashed) with the PKCE verifier; returns the state and the verifier's challenge. */
async function issueState(
  deps: ConsentDeps,
  connectionId: string,
  redirectUri: string,
  purpose: OAuthStateRecord['purpose'],
) {
  const state = randomBytes(32).toString('base64url');
  const stateHash = hashState(state);
  const pkce = await deps.oauth.newPkce();
  const now = deps.clock.now();
  const expiresAt = new Date(now.getTime() + STATE_TTL_MS).toISOString();
  await deps.oauthStates.save({
    stateHash,
    purpose,
    connectionId,
    verifierCipher: deps.secrets.encrypt(pkce.verifier, verifierAad(stateHash)),
    redirectUri,
    createdAt: now.toISOString(),
    expiresAt,
  });
  return { state, codeChallenge: pkce.challenge, expiresAt };
}

/** Where to send the admin's browser to consent. */
export async function startAuthorization(
  deps: ConsentDeps,
  connectionId: string,
  redirectUri: string,
): Promise<{ authorizeUrl: string; expiresAt: string }> {
  const connection = await loadConnection(deps, connectionId);
  if (connection.authMode !== 'authorization_code') {
    throw new AppError(
      'conflict',
      'not-authorization-code',
      `This connection uses client credentials; it needs no browser sign-in. To grant its application permissions use GET /api/connections/${connectionId}/admin-consent`,
      { connectionId },
    );
  }
  const { state, codeChallenge, expiresAt } = await issueState(deps, connectionId, redirectUri, 'authorize');
  const authorizeUrl = deps.oauth.authorizationUrl({
    endpoints: resolveEndpoints(connection),
    clientId: connection.clientId,
    redirectUri,
    scope: consentScope(connection),
    state,
    codeChallenge,
  });
  return { authorizeUrl, expiresAt };
}

/**
 * The admin-consent link (identity platform `/{tenant}/v2.0/adminconsent`): an administrator grants the
 * application permissions the app registration lists, for this tenant.
 */
export async function startAdminConsent(
  deps: ConsentDeps,
  connectionId: string,
  redirectUri: string,
): Promise<{ adminConsentUrl: string; expiresAt: string }> {
  const connection = await loadConnection(deps, connectionId);
  const { state, expiresAt } = await issueState(deps, connectionId, redirectUri, 'admin-consent');
  const url = new URL(`${resolveEndpoints(connection).authority}/v2.0/adminconsent`);
  url.search = new URLSearchParams({
    client_id: connection.clientId,
    scope: graphScope(connection),
    redirect_uri: redirectUri,
    state,
  }).toString();
  return { adminConsentUrl: url.toString(), expiresAt };
}

export type CallbackOutcome =
  | { outcome: 'authorized' | 'admin-consented'; connectionId: string; connectionName: string }
  | { outcome: 'unknown-state' }
  | { outcome: 'replayed-state' | 'expired-state'; connectionId: string; connectionName?: string }
  | {
      outcome: 'denied' | 'provider-error' | 'exchange-failed';
      connectionId: string;
      connectionName: string;
      error: string;
      description: string;
    };

export interface CallbackParams {
  state?: string | undefined;
  /** Admin consent answers `admin_consent=True` instead of a code. */
  adminConsent?: string | undefined;
  code?: string | undefined;
  error?: string | undefined;
  errorDescription?: string | undefined;
}

export async function completeAuthorization(deps: ConsentDeps, params: CallbackParams): Promise<CallbackOutcome> {
  if (!params.state) return { outcome: 'unknown-state' };
  const stateHash = hashState(params.state);
  const record = await deps.oauthStates.get(stateHash);
  // A state we never issued: forged, mistyped or from another deployment. Nothing to attribute it to.
  if (!record) return { outcome: 'unknown-state' };
  const connection = await deps.connections.get(record.connectionId);
  const connectionId = record.connectionId;
  const now = deps.clock.now();

  if (record.usedAt || !(await deps.oauthStates.markUsed(record, now.toISOString()))) {
    await recordFailure(
      deps,
      connectionId,
      'replayed_state',
      'The consent link was used twice; start again from GET /authorize',
    );
    return { outcome: 'replayed-state', connectionId, ...(connection ? { connectionName: connection.name } : {}) };
  }
  if (Date.parse(record.expiresAt) <= now.getTime()) {
    await recordFailure(
      deps,
      connectionId,
      'expired_state',
      'The consent took longer than 10 minutes; start again from GET /authorize',
    );
    return { outcome: 'expired-state', connectionId, ...(connection ? { connectionName: connection.name } : {}) };
  }
  if (!connection) return { outcome: 'unknown-state' };
  const named = { connectionId, connectionName: connection.name };

  if (record.purpose === 'admin-consent' && !params.error && params.adminConsent?.toLowerCase() === 'true') {
    const latest = await loadConnection(deps, connectionId);
    const saved = await deps.connections.replace({
      ...latest,
      adminConsent: { at: now.toISOString() },
      status: 'draft',
      statusReason: 'Application permissions granted: run POST /api/connections/{id}/test to make it ready.',
      updatedAt: now.toISOString(),
    });
    await recordChange(deps, {
      connectionId,
      actor: { type: 'oauth-callback' },
      action: 'admin-consent.granted',
      changes: auditChanges({ adminConsent: latest.adminConsent }, { adminConsent: saved.adminConsent }),
      etag: saved.etag,
    });
    return { outcome: 'admin-consented', ...named };
  }
  if (params.error || !params.code || record.purpose === 'admin-consent') {
    const error = params.error ?? 'missing_code';
    const description = params.errorDescription ?? 'The identity platform returned neither a code nor an error';
    await recordFailure(deps, connectionId, error, description);
    return { outcome: error === 'access_denied' ? 'denied' : 'provider-error', ...named, error, description };
  }

  try {
    const { refreshToken } = await deps.oauth.exchangeCode({
      endpoints: resolveEndpoints(connection),
      clientId: connection.clientId,
      clientSecret: connectionSecrets(deps, connection).clientSecret,
      code: params.code,
      redirectUri: record.redirectUri,
      codeVerifier: deps.secrets.decrypt(record.verifierCipher, verifierAad(stateHash)),
      scope: consentScope(connection),
    });
    if (!refreshToken) {
      throw new AppError(
        'unauthorized',
        'no-refresh-token',
        'The token endpoint issued no refresh token (was offline_access consented?)',
      );
    }
    const latest = await loadConnection(deps, connectionId);
    const saved = await deps.connections.replace({
      ...latest,
      refreshTokenCipher: deps.secrets.encrypt(refreshToken, secretAad(connectionId, 'refreshToken')),
      credentialVersion: crypto.randomUUID(),
      authorization: { status: 'authorized', at: now.toISOString() },
      status: 'draft',
      statusReason: 'Authorised: run POST /api/connections/{id}/test to check permissions and make it ready.',
      updatedAt: now.toISOString(),
    });
    await recordChange(deps, {
      connectionId,
      actor: { type: 'oauth-callback' },
      action: 'authorization.completed',
      changes: [
        ...auditChanges({ authorization: latest.authorization }, { authorization: saved.authorization }),
        ...connectionChanges(latest, saved),
      ],
      etag: saved.etag,
    });
    return { outcome: 'authorized', ...named };
  } catch (error) {
    const failure = isAppError(error) ? error : new AppError('transient', 'oauth-code-exchange', String(error));
    const providerError = String(failure.details.code ?? failure.code);
    await recordFailure(deps, connectionId, providerError, failure.message);
    return { outcome: 'exchange-failed', ...named, error: providerError, description: failure.message };
  }
}

async function recordFailure(
  deps: ConsentDeps,
  connectionId: string,
  error: string,
  description: string,
): Promise<void> {
  const connection = await deps.connections.get(connectionId);
  if (!connection) return;
  const at = deps.clock.now().toISOString();
  const authorization: AuthorizationState = { status: 'failed', at, error, description };
  // An earlier successful consent stays usable: the failure is recorded beside it, not over it.
  await deps.connections.replace({
    ...connection,
    authorization: connection.authorization.status === 'authorized' ? connection.authorization : authorization,
    lastAuthorizationError: { at, error, description },
    updatedAt: at,
  });
}
