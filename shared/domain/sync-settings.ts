// Sync policy per connection (Zoho's four toggles, PingOne's "allow users to be …" and license preferences).
import { z } from 'zod';
import { licenseRefSchema } from './change.js';

export const matchingAttributes = ['userPrincipalName', 'employeeId', 'mail', 'onPremisesImmutableId'] as const;
export type MatchingAttribute = (typeof matchingAttributes)[number];

export const syncSettingsSchema = z.strictObject({
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
  matchingAttribute: z
    .enum(matchingAttributes)
    .default('userPrincipalName')
    .describe('How an existing account is found and adopted'),
  defaultLicenses: z.array(licenseRefSchema).default([]).describe('Licenses for users whose change carries none'),
  removeLicensesWhenEmpty: z
    .boolean()
    .default(false)
    .describe("PingOne: remove this connection's licenses when no license is desired"),
  removeLicensesOnRemove: z
    .boolean()
    .default(false)
    .describe("Also remove this connection's licenses when a user is removed"),
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
export type SyncSettings = z.infer<typeof syncSettingsSchema>;
export const DEFAULT_SYNC_SETTINGS: SyncSettings = syncSettingsSchema.parse({});
