// Authorization code + PKCE (S256) and refresh-token grants against the identity platform, through
// oauth4webapi. The endpoints are the connection's (cloud defaults or Zoho-style overrides); no discovery call.
import * as oauth from 'oauth4webapi';
import type { ResolvedEndpoints } from '../domain/connection.js';
import type { OAuthClient } from '../provisioning/ports.js';
import { classifyGraphError } from './graph-errors.js';

function authorizationServer(endpoints: ResolvedEndpoints): oauth.AuthorizationServer {
  return {
    // The identity platform's v2.0 issuer for this tenant.
    issuer: `${endpoints.authority}/v2.0`,
    authorization_endpoint: endpoints.authorizationEndpoint,
    token_endpoint: endpoints.tokenEndpoint,
  };
}

export interface TokenSet {
  accessToken: string;
  expiresInSeconds: number;
  refreshToken?: string;
}

export const oauthClient: OAuthClient & {
  refresh(p: {
    endpoints: ResolvedEndpoints;
    clientId: string;
    clientSecret: string;
    refreshToken: string;
    scope: string;
  }): Promise<TokenSet>;
} = {
  async newPkce() {
    const verifier = oauth.generateRandomCodeVerifier();
    return { verifier, challenge: await oauth.calculatePKCECodeChallenge(verifier) };
  },

  authorizationUrl({ endpoints, clientId, redirectUri, scope, state, codeChallenge }) {
    const url = new URL(endpoints.authorizationEndpoint);
    url.search = new URLSearchParams({
      client_id: clientId,
      response_type: 'code',
      redirect_uri: redirectUri,
      response_mode: 'query',
      scope,
      state,
      code_challenge: codeChallenge,
      code_challenge_method: 'S256',
    }).toString();
    return url.toString();
  },

  async exchangeCode({ endpoints, clientId, clientSecret, code, redirectUri, codeVerifier, scope }) {
    const as = authorizationServer(endpoints);
    const client: oauth.Client = { client_id: clientId };
    try {
      // State was checked (single use, bound to the connection) before this call.
      const params = oauth.validateAuthResponse(as, client, new URLSearchParams({ code }), oauth.skipStateCheck);
      const response = await oauth.authorizationCodeGrantRequest(
        as,
        client,
        oauth.ClientSecretPost(clientSecret),
        params,
        redirectUri,
        codeVerifier,
        {
          additionalParameters: { scope },
        },
      );
      const result = await oauth.processAuthorizationCodeResponse(as, client, response, { requireIdToken: false });
      return result.refresh_token ? { refreshToken: result.refresh_token } : {};
    } catch (error) {
      throw classifyGraphError(error, 'oauth-code-exchange');
    }
  },

  async refresh({ endpoints, clientId, clientSecret, refreshToken, scope }) {
    const as = authorizationServer(endpoints);
    const client: oauth.Client = { client_id: clientId };
    try {
      const response = await oauth.refreshTokenGrantRequest(
        as,
        client,
        oauth.ClientSecretPost(clientSecret),
        refreshToken,
        {
          additionalParameters: { scope },
        },
      );
      const result = await oauth.processRefreshTokenResponse(as, client, response);
      return {
        accessToken: result.access_token,
        expiresInSeconds: result.expires_in ?? 3600,
        ...(result.refresh_token ? { refreshToken: result.refresh_token } : {}),
      };
    } catch (error) {
      throw classifyGraphError(error, 'oauth-refresh');
    }
  },
};
