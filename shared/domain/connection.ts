// A connection is one target Microsoft 365 tenant (Zoho's "application", PingOne's "provisioning connection").
// The schemas here are the API contract (they also generate the OpenAPI document).
import { z } from 'zod';
import { guidSchema } from './identifiers.js';
import type { GroupMapping } from './mapping/group-mapping.js';
import type { Mapping } from './mapping/mapping.js';
import type { SyncSettings } from './sync-settings.js';

export const CLOUDS = {
  global: { authorityHost: 'https://login.microsoftonline.com', graphEndpoint: 'https://graph.microsoft.com' },
  usgov: { authorityHost: 'https://login.microsoftonline.us', graphEndpoint: 'https://graph.microsoft.us' },
  china: { authorityHost: 'https://login.chinacloudapi.cn', graphEndpoint: 'https://microsoftgraph.chinacloudapi.cn' },
} as const;
export type Cloud = keyof typeof CLOUDS;

/** The application permissions (app-only `roles`) or delegated scopes (`scp`) provisioning needs. */
export const REQUIRED_PERMISSIONS = [
  'Application.ReadWrite.All',
  'Group.ReadWrite.All',
  'Organization.Read.All',
  'User.ReadWrite.All',
] as const;

export const connectionStatuses = ['draft', 'ready', 'invalid', 'needs-attention'] as const;
export type ConnectionStatus = (typeof connectionStatuses)[number];
/**
 * What the API shows: the stored status, or `deleting` while a deletion deprovisions the users
 * (`Connection.deletion`; the stored status stays what it is, and removals wait while it is not ready).
 */
export const connectionViewStatuses = [...connectionStatuses, 'deleting'] as const;

/** A deletion that deprovisions the connection's users first (deprovisionOnRuleDeletion). */
export interface ConnectionDeletion {
  requestedAt: string;
  removeAction: 'disable' | 'delete';
  /** Users whose removal was enqueued. */
  total: number;
  /** Set by whoever removes the connection's rows once nothing is pending (one writer wins, by ETag). */
  finishingAt?: string;
}
/** How far a deletion is (counted when the connection is read). */
export interface DeletionProgress {
  done: number;
  failed: number;
  pending: number;
}

const guid = (what: string) => guidSchema(`the ${what}`);

const domainName = z
  .string()
  .trim()
  .toLowerCase()
  .max(253)
  .regex(
    /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/,
    'must be a domain name such as contoso.com',
  );

/** An https origin (scheme, host, optional port), e.g. an authority host or Graph endpoint override. */
const httpsOrigin = z
  .url({ protocol: /^https$/, error: 'must be an https URL' })
  .refine(
    (u) => !URL.canParse(u) || (new URL(u).pathname === '/' && !new URL(u).search),
    'must be an origin only, e.g. https://login.microsoftonline.com',
  )
  .transform((u) => new URL(u).origin);

/** Zoho's format: https://login.microsoftonline.com/<tenant ID>/oauth2/v2.0/authorize (or /token). */
const endpoint = (kind: 'authorize' | 'token') =>
  z
    .url({
      protocol: /^https$/,
      error: `must be an https URL like https://login.microsoftonline.com/<tenant ID>/oauth2/v2.0/${kind}`,
    })
    .refine(
      (u) =>
        !URL.canParse(u) ||
        (new RegExp(`^/[^/]+/oauth2/v2\\.0/${kind}$`).test(new URL(u).pathname) && !new URL(u).search),
      `must have the form https://<login host>/<tenant ID>/oauth2/v2.0/${kind}`,
    );

export const authModes = ['client_credentials', 'authorization_code'] as const;

const connectionFields = {
  name: z.string().trim().min(1, 'is required').max(128),
  description: z.string().max(1024).optional(),
  tenantId: guid('Directory (tenant) ID'),
  domain: domainName.describe('The verified domain new users get (userPrincipalName suffix)'),
  clientId: guid('Application (client) ID'),
  clientSecret: z.string().min(1, 'is required').max(1024).describe('Write-only: never returned'),
  authMode: z.enum(authModes).default('client_credentials'),
  cloud: z.enum(Object.keys(CLOUDS) as [Cloud, ...Cloud[]]).default('global'),
  authorityHost: httpsOrigin.optional().describe("Overrides the cloud's login host"),
  graphEndpoint: httpsOrigin.optional().describe("Overrides the cloud's Graph endpoint"),
  authorizationEndpoint: endpoint('authorize').optional(),
  tokenEndpoint: endpoint('token').optional(),
};

// Only compared when both are URLs: an invalid one is already reported on its own field.
const endpointsAgree = (c: { authorizationEndpoint?: string | undefined; tokenEndpoint?: string | undefined }) =>
  !c.authorizationEndpoint ||
  !c.tokenEndpoint ||
  !URL.canParse(c.authorizationEndpoint) ||
  !URL.canParse(c.tokenEndpoint) ||
  authorityOf(c.authorizationEndpoint) === authorityOf(c.tokenEndpoint);

export const connectionCreateSchema = z.strictObject(connectionFields).refine(endpointsAgree, {
  path: ['tokenEndpoint'],
  message: 'must be on the same host and tenant as authorizationEndpoint',
});
export type ConnectionCreate = z.infer<typeof connectionCreateSchema>;

export const connectionUpdateSchema = z
  .strictObject({
    ...connectionFields,
    authMode: connectionFields.authMode.removeDefault(),
    cloud: connectionFields.cloud.removeDefault(),
    // null clears an optional override.
    description: connectionFields.description.nullable(),
    authorityHost: connectionFields.authorityHost.nullable(),
    graphEndpoint: connectionFields.graphEndpoint.nullable(),
    authorizationEndpoint: connectionFields.authorizationEndpoint.nullable(),
    tokenEndpoint: connectionFields.tokenEndpoint.nullable(),
  })
  .partial()
  .refine((u) => Object.keys(u).length > 0, 'must change at least one field');
export type ConnectionUpdate = z.infer<typeof connectionUpdateSchema>;

/** The Graph resource's scope is the cloud's, even when requests go to an overridden endpoint. */
export const graphScope = (c: Pick<Connection, 'cloud'>) => `${CLOUDS[c.cloud].graphEndpoint}/.default`;

/** `https://host/<tenant>/oauth2/v2.0/...` → `https://host/<tenant>`. */
export function authorityOf(endpointUrl: string): string {
  const u = new URL(endpointUrl);
  return `${u.origin}/${u.pathname.split('/')[1]}`;
}

export interface TestCheck {
  name: string;
  ok: boolean;
  detail: string;
  /** Warnings pass but deserve attention (e.g. a secret that expires soon). */
  warning?: boolean;
}

export interface TestResult {
  ok: boolean;
  testedAt: string;
  checks: TestCheck[];
}

export type AuthorizationState =
  | { status: 'not-required' }
  | { status: 'not-authorized' }
  | { status: 'authorized'; at: string }
  | { status: 'failed'; at: string; error: string; description: string };

/** A connection as stored (secrets encrypted). */
export interface Connection {
  id: string;
  name: string;
  description?: string;
  tenantId: string;
  domain: string;
  clientId: string;
  authMode: (typeof authModes)[number];
  cloud: Cloud;
  authorityHost?: string;
  graphEndpoint?: string;
  authorizationEndpoint?: string;
  tokenEndpoint?: string;
  status: ConnectionStatus;
  /** Why the status is what it is, in words an admin can act on. */
  statusReason?: string;
  clientSecretCipher: string;
  /** Changes whenever the credential material changes (secret, tenant, client, endpoints, refresh token). */
  credentialVersion: string;
  clientSecretUpdatedAt: string;
  refreshTokenCipher?: string;
  authorization: AuthorizationState;
  /** When an administrator last granted the app's application permissions through the admin-consent link. */
  adminConsent?: { at: string };
  /** The latest failed consent attempt (forged/replayed/expired state, denial, failed exchange). */
  lastAuthorizationError?: { at: string; error: string; description: string };
  lastTest?: TestResult;
  /** Field mapping; the default mapping applies until one is saved. */
  mapping?: Mapping;
  /** Group mapping; the default group mapping applies until one is saved. */
  groupMapping?: GroupMapping;
  /** Sync policy; defaults apply to anything not saved. */
  settings?: Partial<SyncSettings>;
  /** Operations keep failing or credentials are refused: reconciled less often until a successful test. */
  quarantine?: { since: string; reason: string };
  /** A reconciliation run staged disable/delete operations over the accidental-deletion threshold. */
  stagedOperations?: { count: number; runId: string; since: string };
  /** Being deleted: its users are deprovisioned first, then it removes itself. */
  deletion?: ConnectionDeletion;
  createdAt: string;
  updatedAt: string;
  etag?: string;
}

/** Where to get tokens and call Graph for a connection, after cloud defaults and overrides. */
export interface ResolvedEndpoints {
  authorityHost: string;
  authority: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  graphEndpoint: string;
}

export function resolveEndpoints(
  c: Pick<
    Connection,
    'cloud' | 'tenantId' | 'authorityHost' | 'graphEndpoint' | 'authorizationEndpoint' | 'tokenEndpoint'
  >,
): ResolvedEndpoints {
  const cloud = CLOUDS[c.cloud];
  const fromEndpoint = c.tokenEndpoint ?? c.authorizationEndpoint;
  const authority = fromEndpoint
    ? authorityOf(fromEndpoint)
    : `${c.authorityHost ?? cloud.authorityHost}/${c.tenantId}`;
  return {
    authorityHost: new URL(authority).origin,
    authority,
    authorizationEndpoint: c.authorizationEndpoint ?? `${authority}/oauth2/v2.0/authorize`,
    tokenEndpoint: c.tokenEndpoint ?? `${authority}/oauth2/v2.0/token`,
    graphEndpoint: c.graphEndpoint ?? cloud.graphEndpoint,
  };
}

const testCheckSchema = z.object({
  name: z.string(),
  ok: z.boolean(),
  detail: z.string(),
  warning: z.boolean().optional(),
});
const authorizationSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('not-required') }),
  z.object({ status: z.literal('not-authorized') }),
  z.object({ status: z.literal('authorized'), at: z.string() }),
  z.object({ status: z.literal('failed'), at: z.string(), error: z.string(), description: z.string() }),
]);

/** The connection as the API shows it: no secret, ever. */
export const connectionViewSchema = z.strictObject({
  id: z.string(),
  name: z.string(),
  description: z.string().optional(),
  tenantId: z.string(),
  domain: z.string(),
  clientId: z.string(),
  authMode: z.enum(authModes),
  cloud: z.enum(Object.keys(CLOUDS) as [Cloud, ...Cloud[]]),
  endpoints: z.strictObject({
    authorityHost: z.string(),
    authority: z.string(),
    authorizationEndpoint: z.string(),
    tokenEndpoint: z.string(),
    graphEndpoint: z.string(),
  }),
  overrides: z.strictObject({
    authorityHost: z.string().nullable(),
    graphEndpoint: z.string().nullable(),
    authorizationEndpoint: z.string().nullable(),
    tokenEndpoint: z.string().nullable(),
  }),
  status: z.enum(connectionViewStatuses),
  statusReason: z.string().optional(),
  clientSecret: z
    .strictObject({ set: z.literal(true), updatedAt: z.string() })
    .describe('The secret itself is write-only'),
  authorization: authorizationSchema,
  adminConsent: z.object({ at: z.string() }).nullable(),
  lastAuthorizationError: z.object({ at: z.string(), error: z.string(), description: z.string() }).nullable(),
  lastTest: z.object({ ok: z.boolean(), testedAt: z.string(), checks: z.array(testCheckSchema) }).nullable(),
  quarantine: z
    .object({ since: z.string(), reason: z.string() })
    .nullable()
    .describe('Reconciled less often until a successful test lifts it'),
  stagedOperations: z
    .object({ count: z.number(), runId: z.string(), since: z.string() })
    .nullable()
    .describe(
      'Disable/delete operations awaiting approval: GET …/staged, then POST …/staged/approve or …/staged/reject',
    ),
  deletion: z
    .object({
      requestedAt: z.string(),
      removeAction: z.enum(['disable', 'delete']),
      total: z.number().int().describe('Users whose removal was enqueued'),
      done: z.number().int().optional().describe('Removed (GET /api/connections/{id} only, as are failed and pending)'),
      failed: z.number().int().optional().describe('Failed or held: retry them, or delete with ?provisionedUsers=keep'),
      pending: z.number().int().optional(),
    })
    .nullable()
    .describe('Status deleting: the users are deprovisioned, then the connection removes itself'),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type ConnectionView = z.infer<typeof connectionViewSchema>;

export function connectionView(c: Connection): ConnectionView {
  return {
    id: c.id,
    name: c.name,
    ...(c.description !== undefined ? { description: c.description } : {}),
    tenantId: c.tenantId,
    domain: c.domain,
    clientId: c.clientId,
    authMode: c.authMode,
    cloud: c.cloud,
    endpoints: resolveEndpoints(c),
    overrides: {
      authorityHost: c.authorityHost ?? null,
      graphEndpoint: c.graphEndpoint ?? null,
      authorizationEndpoint: c.authorizationEndpoint ?? null,
      tokenEndpoint: c.tokenEndpoint ?? null,
    },
    status: c.deletion ? 'deleting' : c.status,
    ...(c.deletion
      ? { statusReason: deletionReason(c.deletion, c) }
      : c.statusReason
        ? { statusReason: c.statusReason }
        : {}),
    clientSecret: { set: true, updatedAt: c.clientSecretUpdatedAt },
    authorization: c.authorization,
    adminConsent: c.adminConsent ?? null,
    lastAuthorizationError: c.lastAuthorizationError ?? null,
    lastTest: c.lastTest ?? null,
    quarantine: c.quarantine ?? null,
    stagedOperations: c.stagedOperations ?? null,
    deletion: c.deletion
      ? {
          requestedAt: c.deletion.requestedAt,
          removeAction: c.deletion.removeAction,
          total: c.deletion.total,
        }
      : null,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}

function deletionReason(d: ConnectionDeletion, c: Connection): string {
  const held =
    c.status === 'ready'
      ? ''
      : ` Removals wait while the connection is ${c.status}${c.statusReason ? ` (${c.statusReason})` : ''}.`;
  return `Being deleted: ${d.total} user(s) are removed (remove action ${d.removeAction}) through the provisioning queue; the connection removes itself once the last removal is applied.${held} A failed removal waits: retry it (POST …/users/{externalId}/retry), or DELETE with ?provisionedUsers=keep to delete the connection now and leave the remaining accounts as they are.`;
}

export const testResultSchema = z.object({
  ok: z.boolean(),
  testedAt: z.string(),
  checks: z.array(testCheckSchema),
  status: z.enum(connectionStatuses),
  releasedOperations: z
    .number()
    .int()
    .optional()
    .describe('Held operations put back on the queue now that the connection is ready'),
  quarantineLifted: z
    .literal(true)
    .optional()
    .describe('The connection was quarantined; this successful test lifted it'),
});
