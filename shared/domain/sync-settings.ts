// Sync policy per connection (Zoho's four toggles, PingOne's "allow users to be …" and license preferences).
import { z } from 'zod';
import { licenseRefSchema } from './change.js';
import { licensingModes } from './licenses.js';

export const matchingAttributes = ['userPrincipalName', 'employeeId', 'mail', 'onPremisesImmutableId'] as const;
export type MatchingAttribute = (typeof matchingAttributes)[number];
export const groupMatchingAttributes = ['mailNickname', 'displayName'] as const;
export type GroupMatchingAttribute = (typeof groupMatchingAttributes)[number];

/**
 * A UPN candidate: `{attribute}` placeholders from the change's attributes (made safe for a UPN: accents dropped,
 * lower case, only letters, digits and . - _ ' kept), `{domain}` (the connection's domain) and `{n}` (2, 3, … up to
 * upnCandidateLimit). E.g. "{givenName}.{familyName}@{domain}", "{givenName}.{familyName}{n}@{domain}".
 */
export const upnTemplateSchema = z
  .string()
  .min(3)
  .max(256)
  .regex(/^[^@]+@[^@]+$/, 'must be one local part, "@" and a domain, e.g. {givenName}.{familyName}@{domain}')
  .regex(/^([^{}]|\{[A-Za-z][A-Za-z0-9_.:-]{0,127}\})*$/, 'placeholders are {attributeName}, {domain} or {n}');

const settingsShape = z.strictObject({
  allowCreate: z.boolean().default(true).describe('Create a Microsoft 365 account when a user is assigned'),
  allowUpdate: z.boolean().default(true).describe('Update mapped properties when the profile changes'),
  allowDeactivate: z.boolean().default(true).describe('Activate and deactivate (accountEnabled)'),
  allowRemove: z.boolean().default(true).describe('Act on remove (unassigned / deprovisioned)'),
  removeAction: z
    .enum(['disable', 'delete'])
    .default('disable')
    .describe('delete = soft delete (restorable for 30 days)'),
  activateOnAssign: z
    .boolean()
    .default(true)
    .describe('Enable an existing disabled account when the user is assigned again'),
  matchingRules: z
    .array(z.enum(matchingAttributes))
    .min(1)
    .max(matchingAttributes.length)
    .refine((rules) => new Set(rules).size === rules.length, 'each attribute at most once')
    .default(['userPrincipalName'])
    .describe(
      'Matching precedence: how an existing account is found for a user not linked yet, tried in order (the first rule that finds one account decides; more than one is a conflict)',
    ),
  adoptExistingAccounts: z
    .enum(['never', 'matching'])
    .default('matching')
    .describe(
      'matching: an account found by the matching rules is adopted (linked and updated); never: only accounts this connection creates are managed. An account holding a directory role or linked to another directory user is never adopted',
    ),
  upnCandidates: z
    .array(upnTemplateSchema)
    .max(10)
    .default([])
    .describe(
      'UPNs to try, in order, when the mapped userPrincipalName belongs to an account that may not be adopted (active or soft-deleted): {attribute}, {domain}, {n}. mailNickname and mail follow the chosen UPN. Empty: such a user fails with upn-taken',
    ),
  upnCandidateLimit: z
    .number()
    .int()
    .min(2)
    .max(100)
    .default(20)
    .describe('The highest {n} a UPN candidate is tried with'),
  allowGroupCreate: z.boolean().default(true).describe('Groups: create a Microsoft 365 group for a directory group'),
  allowGroupUpdate: z.boolean().default(true).describe('Groups: update its properties and members'),
  allowGroupRemove: z.boolean().default(true).describe('Groups: act on a group remove'),
  groupRemoveAction: z
    .enum(['delete', 'keep', 'emptyAndKeep'])
    .default('keep')
    .describe(
      'Groups: delete (a Microsoft 365 group goes to deleted items for 30 days; a security group is gone), keep (leave the group, stop managing it) or emptyAndKeep (remove the members this connection manages, then stop)',
    ),
  groupMatchingRules: z
    .array(z.enum(groupMatchingAttributes))
    .min(1)
    .max(groupMatchingAttributes.length)
    .refine((rules) => new Set(rules).size === rules.length, 'each attribute at most once')
    .default(['mailNickname'])
    .describe(
      'Groups: how an existing group is found for a directory group not linked yet, in order (more than one is a conflict; a group linked to another directory group is never adopted)',
    ),
  groupMembership: z
    .enum(['additive', 'authoritative'])
    .default('additive')
    .describe(
      'Groups: additive manages only the members this connection added (members added by hand stay); authoritative makes the members exactly the directory group’s',
    ),
  nestedGroups: z
    .enum(['flatten', 'nest'])
    .default('flatten')
    .describe(
      'Groups: flatten (members of nested directory groups become direct members; works for every kind) or nest (the nested group itself becomes a member; security groups only, as Graph allows)',
    ),
  defaultLicenses: z.array(licenseRefSchema).default([]).describe('Licenses for users whose change carries none'),
  removeLicensesWhenEmpty: z
    .boolean()
    .default(false)
    .describe("PingOne: remove this connection's licenses when no license is desired"),
  removeLicensesOnRemove: z
    .boolean()
    .default(false)
    .describe("Also remove this connection's licenses when a user is removed"),
  licensingMode: z
    .enum(licensingModes)
    .default('direct')
    .describe(
      "direct: assignLicense on each user; group: the connection's licences are carried by security groups it manages (one per licence set, m365prov-lic-…), and licensing a user is a membership add batched 20 per write",
    ),
  usageLocation: z
    .string()
    .regex(/^[A-Z]{2}$/, 'must be an ISO 3166 alpha-2 code such as US')
    .nullable()
    .default(null)
    .describe('Used when neither the mapping nor an ISO `country` gives one'),
  dryRun: z.boolean().default(false).describe('Plan only: record the Graph requests instead of sending writes'),
  deprovisionOnRuleDeletion: z
    .boolean()
    .default(false)
    .describe('When the connection is deleted, deprovision its users per removeAction'),
  restoreDeletedUsers: z
    .boolean()
    .default(true)
    .describe(
      'A linked account deleted in Microsoft 365 but still wanted is restored from deleted items (30 days) instead of re-created',
    ),
  reconciliationEnabled: z
    .boolean()
    .default(true)
    .describe('The reconciliation timer compares this connection with Microsoft 365 and corrects drift'),
  accidentalDeletionThreshold: z
    .number()
    .int()
    .min(0)
    .nullable()
    .default(500)
    .describe(
      'A reconciliation run that would disable or delete more users than this stages those operations for an admin to approve (null: no limit)',
    ),
  quarantineFailurePercent: z
    .number()
    .min(1)
    .max(100)
    .default(40)
    .describe('Quarantine when more than this share of recent operations failed…'),
  quarantineMinimumOperations: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(100)
    .describe('…out of at least this many recent operations'),
});

/**
 * Older settings named one `matchingAttribute`; it is still accepted (and read from stored connections) as the
 * one-rule list it means, unless matchingRules is given too.
 */
const withLegacyMatching = (input: unknown): unknown => {
  if (typeof input !== 'object' || input === null || Array.isArray(input) || !('matchingAttribute' in input))
    return input;
  const { matchingAttribute, ...rest } = input as Record<string, unknown>;
  if (!('matchingRules' in rest)) return { ...rest, matchingRules: [matchingAttribute] };
  // Both (e.g. a merge patch naming the old setting over stored rules): only when they agree; otherwise the
  // unknown key is refused rather than silently ignored.
  const same =
    Array.isArray(rest.matchingRules) && rest.matchingRules.length === 1 && rest.matchingRules[0] === matchingAttribute;
  return same ? rest : input;
};

/** The settings as one object schema (documents, merge patches); parse input with syncSettingsSchema. */
export const syncSettingsObject = settingsShape;
/** Parses settings (a request body, a stored row), the legacy matchingAttribute included. */
export const syncSettingsSchema = z.preprocess(withLegacyMatching, settingsShape);
export type SyncSettings = z.infer<typeof settingsShape>;
export const DEFAULT_SYNC_SETTINGS: SyncSettings = syncSettingsSchema.parse({});

/** The settings a connection runs with: the defaults under what it stored (older rows included). */
export function effectiveSettings(stored: Partial<SyncSettings> | undefined): SyncSettings {
  return { ...DEFAULT_SYNC_SETTINGS, ...(withLegacyMatching(stored ?? {}) as Partial<SyncSettings>) };
}

/** The first matching rule: what names an account in reports and imports. */
export const primaryMatchingRule = (s: Pick<SyncSettings, 'matchingRules'>): MatchingAttribute =>
  s.matchingRules[0] ?? 'userPrincipalName';
