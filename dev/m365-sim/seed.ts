// The seed document: what a simulated tenant holds when it starts or is reset. Validated with zod so a
// typo in a hand-written seed fails fast with the path of the bad field instead of a confusing 500 later.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const guid = z.guid();

const secretSchema = z
  .object({
    keyId: guid,
    displayName: z.string().optional(),
    /** Dev-only secret value. Graph never returns it; passwordCredentials expose only `hint`. */
    value: z.string().min(8),
    startDateTime: z.iso.datetime().optional(),
    /** Absolute expiry… */
    endDateTime: z.iso.datetime().optional(),
    /** …or relative to the moment the seed is loaded (lets a committed seed keep a "expires soon" secret). */
    expiresInDays: z.number().optional(),
  })
  .refine((s) => (s.endDateTime === undefined) !== (s.expiresInDays === undefined), {
    message: 'give exactly one of endDateTime or expiresInDays',
  });

const applicationSchema = z.object({
  appId: guid,
  /** Object id of the application registration (GET /applications/{id}); derived when absent. */
  id: guid.optional(),
  displayName: z.string().min(1),
  secrets: z.array(secretSchema).default([]),
  /** Graph application permissions granted (admin-consented) in this tenant → the `roles` claim. */
  applicationPermissions: z.array(z.string()).default([]),
  /** Delegated scopes already consented in this tenant → `scp` for `.default` requests. */
  delegatedScopes: z.array(z.string()).default([]),
  redirectUris: z.array(z.url()).default([]),
  /** Redirect URIs of the single-page-application platform (`spa.redirectUris`): codes redeemed without a secret, with PKCE. */
  spaRedirectUris: z.array(z.url()).default([]),
  /** Application ID URIs (`identifierUris`, e.g. `api://<appId>`): how clients name this app's scopes. */
  identifierUris: z.array(z.string().min(1)).default([]),
  /** The API the app exposes (`api`): its delegated scopes and the access token version it gets (null = v1). */
  api: z
    .object({
      requestedAccessTokenVersion: z
        .union([z.literal(1), z.literal(2)])
        .nullable()
        .default(null),
      oauth2PermissionScopes: z.array(z.object({ id: guid, value: z.string().min(1) })).default([]),
    })
    .prefault({}),
  /** App roles the app defines (`appRoles`); assigned ones reach its access tokens as the `roles` claim. */
  appRoles: z
    .array(
      z.object({
        id: guid,
        value: z.string().min(1),
        displayName: z.string().min(1),
        allowedMemberTypes: z.array(z.enum(['User', 'Application'])).default(['User']),
      }),
    )
    .default([]),
  /** Users assigned an app role of this app (its service principal's `appRoleAssignedTo`): by id or userPrincipalName. */
  appRoleAssignedTo: z.array(z.object({ principal: z.string().min(1), appRole: z.string().min(1) })).default([]),
});

const assignedLicenseSchema = z.object({ skuId: guid, disabledPlans: z.array(guid).default([]) });

const skuSchema = z.object({
  skuId: guid,
  skuPartNumber: z.string().min(1),
  prepaidUnits: z.object({
    enabled: z.number().int().min(0),
    suspended: z.number().int().min(0).default(0),
    warning: z.number().int().min(0).default(0),
    lockedOut: z.number().int().min(0).default(0),
  }),
  /** Seats consumed by people outside the simulated user list (added to the assignments we count). */
  consumedUnits: z.number().int().min(0).default(0),
  servicePlans: z.array(z.object({ servicePlanId: guid, servicePlanName: z.string() })).default([]),
});

/** Users are Graph user objects (any writable property) plus optional direct licenses. */
const userSchema = z.looseObject({
  id: guid.optional(),
  userPrincipalName: z.string().includes('@'),
  displayName: z.string().min(1),
  accountEnabled: z.boolean().default(true),
  assignedLicenses: z.array(assignedLicenseSchema).optional(),
  /** Holds a privileged directory role (Global Administrator unless directoryRoles names others). */
  isPrivileged: z.boolean().optional(),
  /** Directory roles the user holds, by display name or role template id (e.g. "Global Administrator"). */
  directoryRoles: z.array(z.string().min(1)).optional(),
});

const groupSchema = z.looseObject({
  id: guid.optional(),
  displayName: z.string().min(1),
  mailNickname: z.string().min(1),
  mailEnabled: z.boolean().default(false),
  securityEnabled: z.boolean().default(true),
  groupTypes: z.array(z.string()).default([]),
  /** Members: users by id or userPrincipalName, groups by id (nesting). */
  members: z.array(z.string()).default([]),
  /** Owners: users by id or userPrincipalName. */
  owners: z.array(z.string()).default([]),
  /** Group-based licensing: members inherit these (licenseAssignmentStates[].assignedByGroup). */
  assignedLicenses: z.array(assignedLicenseSchema).default([]),
});

const tenantSchema = z.object({
  id: guid,
  displayName: z.string().min(1),
  /** Graph throttling size class (S < 50 users, M 50–500, L > 500); derived from the user count when absent. */
  sizeClass: z.enum(['small', 'medium', 'large']).optional(),
  verifiedDomains: z
    .array(
      z.object({
        name: z.string().min(3),
        isDefault: z.boolean().default(false),
        isInitial: z.boolean().default(false),
        type: z.enum(['Managed', 'Federated']).default('Managed'),
      }),
    )
    .min(1)
    .refine((d) => d.filter((x) => x.isInitial).length === 1, { message: 'exactly one domain must be isInitial' }),
  /** Who "signs in" at the authorize / adminconsent endpoints (the simulator has no login UI). */
  adminUserPrincipalName: z.string().includes('@'),
  applications: z.array(applicationSchema).default([]),
  subscribedSkus: z.array(skuSchema).default([]),
  users: z.array(userSchema).default([]),
  groups: z.array(groupSchema).default([]),
  /** Bulk users generated at load (`user00001@<default domain>` …), for scale tests. */
  generateUsers: z.number().int().min(0).max(1_000_000).default(0),
});

export const seedDocumentSchema = z.object({ tenants: z.array(tenantSchema).min(1) }).superRefine((doc, ctx) => {
  const ids = new Set<string>();
  doc.tenants.forEach((t, i) => {
    if (ids.has(t.id.toLowerCase()))
      ctx.addIssue({ code: 'custom', path: ['tenants', i, 'id'], message: 'duplicate tenant id' });
    ids.add(t.id.toLowerCase());
    const upns = new Set(t.users.map((u) => u.userPrincipalName.toLowerCase()));
    if (!upns.has(t.adminUserPrincipalName.toLowerCase())) {
      ctx.addIssue({
        code: 'custom',
        path: ['tenants', i, 'adminUserPrincipalName'],
        message: 'must be one of the tenant users',
      });
    }
  });
});

export type SeedDocument = z.input<typeof seedDocumentSchema>;
export type ParsedSeed = z.output<typeof seedDocumentSchema>;
export type SeedTenant = ParsedSeed['tenants'][number];
export type SeedApplication = SeedTenant['applications'][number];
export type SeedSku = SeedTenant['subscribedSkus'][number];
export type SeedUser = SeedTenant['users'][number];
export type SeedGroup = SeedTenant['groups'][number];

export class SeedError extends Error {}

export function parseSeed(input: unknown, source = 'seed'): ParsedSeed {
  const result = seedDocumentSchema.safeParse(input);
  if (!result.success) throw new SeedError(`invalid ${source}:\n${z.prettifyError(result.error)}`);
  return result.data;
}

export function loadSeedFile(path: string): ParsedSeed {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new SeedError(`cannot read seed ${path}: ${(e as Error).message}`);
  }
  return parseSeed(json, path);
}

export const DEFAULT_SEED_PATH = new URL('./default-seed.json', import.meta.url);

export function loadDefaultSeed(): ParsedSeed {
  return loadSeedFile(fileURLToPath(DEFAULT_SEED_PATH));
}
