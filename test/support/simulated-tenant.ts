// Starts a simulated Microsoft 365 tenant inside a test process and hands out the *real* clients pointed
// at it: @azure/identity ClientSecretCredential (MSAL underneath) and the Microsoft Graph JS client. TLS
// verification stays on: global setup put the local CA in NODE_EXTRA_CA_CERTS before workers forked.
import { ClientSecretCredential } from '@azure/identity';
import { Client } from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js';
import type { FaultRuleInput } from '../../dev/m365-sim/faults.js';
import type { LoggedRequest } from '../../dev/m365-sim/request-log.js';
import type { SeedDocument } from '../../dev/m365-sim/seed.js';
import {
  type RunningSimulatedTenant,
  type SimulatedTenantOptions,
  startSimulatedTenant,
} from '../../dev/m365-sim/server.js';
import { DEV_TLS_DIR } from '../../dev/paths.js';
import { ensureDevCertificates } from '../../dev/tls/dev-certificates.js';

export const GRAPH_DEFAULT_SCOPE = 'https://graph.microsoft.com/.default';

/** Ids and secrets of dev/m365-sim/default-seed.json, named for what each one is for in tests. */
export const DEFAULT_SEED = {
  contoso: {
    tenantId: '0c2f5b1e-5a7d-4b8e-9c41-1d3f6a2b7e01',
    domain: 'contoso.example',
    initialDomain: 'contoso-sim.onmicrosoft.com',
    admin: 'admin@contoso.example',
    fullApp: {
      clientId: '6d1f0a2c-3b4e-4f5a-8b6c-7d8e9f0a1b01',
      secret: 'sim-full-secret-value-0001',
      soonExpiringSecret: 'rot-full-secret-soon-0002',
    },
    readOnlyApp: {
      clientId: '6d1f0a2c-3b4e-4f5a-8b6c-7d8e9f0a1b02',
      secret: 'sim-readonly-secret-0001',
      expiredSecret: 'sim-readonly-expired-0002',
    },
    noPermissionApp: { clientId: '6d1f0a2c-3b4e-4f5a-8b6c-7d8e9f0a1b03', secret: 'sim-none-secret-0001' },
    /** The app registration of this API and its console (sign-in): app roles assigned to admin (Admin), adele (Reader). */
    consoleApp: {
      clientId: '6d1f0a2c-3b4e-4f5a-8b6c-7d8e9f0a1b10',
      scope: 'api://6d1f0a2c-3b4e-4f5a-8b6c-7d8e9f0a1b10/access_as_user',
      redirectUri: 'http://localhost/console/',
    },
    /** Another API of the tenant (v2 tokens): a token for it is for another audience. */
    otherApiScope: 'api://6d1f0a2c-3b4e-4f5a-8b6c-7d8e9f0a1b11/access_as_user',
    users: {
      admin: 'b0000000-0000-4000-8000-000000000001',
      adele: 'b0000000-0000-4000-8000-000000000002',
      alex: 'b0000000-0000-4000-8000-000000000003',
    },
    groups: { licensedStaff: 'c0000000-0000-4000-8000-000000000001', allStaff: 'c0000000-0000-4000-8000-000000000002' },
    skus: { enterprisePack: '6fd2c87f-b296-42f0-b197-1e91e994b900', spe_e3: '05e9a617-0261-4cee-bb44-138d3ef5d965' },
  },
  fabrikam: {
    tenantId: '7e4a9c3d-2b1f-4e6a-8d5c-3f2e1a0b9c02',
    domain: 'fabrikam-sim.onmicrosoft.com',
    federatedDomain: 'fabrikam.example',
    fullApp: { clientId: '6d1f0a2c-3b4e-4f5a-8b6c-7d8e9f0a1b01', secret: 'sim-full-secret-value-0001' },
    admin: 'admin@fabrikam-sim.onmicrosoft.com',
  },
} as const;

/** A connection to Contoso with the full-permission app, pointed at the simulated tenant `sim` (a POST body). */
export const contosoConnection = (
  sim: Pick<RunningSimulatedTenant, 'authorityHost' | 'graphBaseUrl'>,
  name: string,
) => ({
  name,
  tenantId: DEFAULT_SEED.contoso.tenantId,
  domain: DEFAULT_SEED.contoso.domain,
  clientId: DEFAULT_SEED.contoso.fullApp.clientId,
  clientSecret: DEFAULT_SEED.contoso.fullApp.secret,
  authorityHost: sim.authorityHost,
  graphEndpoint: sim.graphBaseUrl,
});

export interface SimControls {
  reset(seed?: SeedDocument): Promise<void>;
  requests(filter?: {
    since?: number;
    tenantId?: string;
    surface?: 'graph' | 'identity' | 'batch-item';
  }): Promise<LoggedRequest[]>;
  clearRequests(): Promise<void>;
  advanceClock(by: { ms?: number; seconds?: number; minutes?: number; hours?: number; days?: number }): Promise<void>;
  addFault(rule: FaultRuleInput): Promise<string>;
  clearFaults(): Promise<void>;
  settings(s: {
    throttling?: boolean;
    timeScale?: number;
    replicationDelayMs?: number;
    groupLicenseDelayMs?: number;
    apiTokenBackdateSeconds?: number;
  }): Promise<void>;
  interactive(behaviour: { decision: 'approve' | 'deny'; userPrincipalName?: string }): Promise<void>;
  generateUsers(tenantId: string, count: number, prefix?: string): Promise<{ created: number; total: number }>;
  deltaReset(tenantId: string): Promise<void>;
  /** The stored user (also when soft-deleted), with memberships and license states. */
  user(tenantId: string, idOrUpn: string): Promise<Record<string, unknown> & { deleted: boolean; memberOf: string[] }>;
  skus(
    tenantId: string,
  ): Promise<Array<{ skuId: string; skuPartNumber: string; enabled: number; consumed: number; free: number }>>;
  /** Grants a directory role (display name or template id), as an admin would in the Entra admin center. */
  grantRole(tenantId: string, idOrUpn: string, role: string): Promise<void>;
}

export interface TestTenant extends RunningSimulatedTenant {
  controls: SimControls;
  credentialFor(tenantId: string, clientId: string, secret: string): ClientSecretCredential;
  graphClientFor(credential: ClientSecretCredential, scopes?: string[]): Client;
}

/** Plain-fetch client of the /_sim/ controls (fetch trusts the local CA through NODE_EXTRA_CA_CERTS). */
export function simControls(baseUrl: string): SimControls {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${baseUrl}/_sim${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as T;
    if (!res.ok) throw new Error(`/_sim${path} → ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  return {
    reset: async (seed) => void (await call('POST', '/reset', seed ? { seed } : {})),
    requests: async (f = {}) => {
      const q = new URLSearchParams();
      if (f.since !== undefined) q.set('since', String(f.since));
      if (f.tenantId) q.set('tenantId', f.tenantId);
      if (f.surface) q.set('surface', f.surface);
      return (await call<{ value: LoggedRequest[] }>('GET', `/requests?${q.toString()}`)).value;
    },
    clearRequests: async () => void (await call('DELETE', '/requests')),
    advanceClock: async (by) => void (await call('POST', '/clock/advance', by)),
    addFault: async (rule) => (await call<{ id: string }>('POST', '/faults', rule)).id,
    clearFaults: async () => void (await call('DELETE', '/faults')),
    settings: async (s) => void (await call('PUT', '/settings', s)),
    interactive: async (b) => void (await call('PUT', '/interactive', b)),
    generateUsers: (tenantId, count, prefix) => call('POST', `/tenants/${tenantId}/generate-users`, { count, prefix }),
    deltaReset: async (tenantId) => void (await call('POST', `/tenants/${tenantId}/delta-reset`)),
    user: (tenantId, idOrUpn) => call('GET', `/tenants/${tenantId}/users/${encodeURIComponent(idOrUpn)}`),
    grantRole: async (tenantId, idOrUpn, role) =>
      void (await call('POST', `/tenants/${tenantId}/users/${encodeURIComponent(idOrUpn)}/directory-roles`, { role })),
    skus: async (tenantId) =>
      (
        await call<{
          value: Array<{ skuId: string; skuPartNumber: string; enabled: number; consumed: number; free: number }>;
        }>('GET', `/tenants/${tenantId}/skus`)
      ).value,
  };
}

/** A real ClientSecretCredential whose authority is the simulator (tenant in the path, like login.microsoftonline.com). */
export function credentialForAuthority(
  authorityHost: string,
  tenantId: string,
  clientId: string,
  secret: string,
): ClientSecretCredential {
  return new ClientSecretCredential(tenantId, clientId, secret, { authorityHost, disableInstanceDiscovery: true });
}

/**
 * A real Graph client against `graphBaseUrl`. The client attaches the Authorization header only to known
 * Graph hosts unless the host is listed in `customHosts` (GraphRequestUtil.isCustomHost: hostname only).
 */
export function graphClientForBaseUrl(
  graphBaseUrl: string,
  credential: ClientSecretCredential,
  scopes: string[] = [GRAPH_DEFAULT_SCOPE],
): Client {
  const authProvider = new TokenCredentialAuthenticationProvider(credential, { scopes });
  return Client.initWithMiddleware({
    authProvider,
    baseUrl: `${graphBaseUrl}/`,
    defaultVersion: 'v1.0',
    customHosts: new Set([new URL(graphBaseUrl).hostname]),
  });
}

export async function startTestTenant(options: Partial<SimulatedTenantOptions> = {}): Promise<TestTenant> {
  const certs = await ensureDevCertificates(DEV_TLS_DIR);
  const sim = await startSimulatedTenant({
    throttling: false,
    ...options,
    tls: { cert: certs.serverCert, key: certs.serverKey },
  });
  return Object.assign(sim, {
    controls: simControls(sim.url),
    credentialFor: (tenantId: string, clientId: string, secret: string) =>
      credentialForAuthority(sim.authorityHost, tenantId, clientId, secret),
    graphClientFor: (credential: ClientSecretCredential, scopes?: string[]) =>
      graphClientForBaseUrl(sim.graphBaseUrl, credential, scopes),
  });
}
