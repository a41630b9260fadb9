// The change contract: what producers (queue messages or POST /changes) say happened to one user at the source.
// One schema, exported as schemas/provisioning-change.schema.json for producers in other languages.
import { z } from 'zod';

export const PROVISIONING_QUEUE = 'provisioning-operations';
export const changeTypes = ['upsert', 'activate', 'deactivate', 'remove'] as const;
export type ChangeType = (typeof changeTypes)[number];

const attributeValue = z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.string())]);

export const licenseRefSchema = z.union([
  z.string().min(1).describe('skuPartNumber (e.g. ENTERPRISEPACK) or skuId'),
  z.strictObject({
    sku: z.string().min(1).describe('skuPartNumber or skuId'),
    disabledPlans: z.array(z.string()).optional().describe('servicePlanIds (or names) to leave off'),
  }),
]);
export type LicenseRef = z.infer<typeof licenseRefSchema>;

export const changeSchema = z
  .strictObject({
    type: z.enum(changeTypes).describe('upsert: assigned (create or update); activate / deactivate; remove: unassigned or deprovisioned'),
    connectionId: z.string().regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'must be a connection id (GUID)').transform((s) => s.toLowerCase()),
    externalId: z
      .string()
      .min(1, 'is required')
      .max(256)
      // Control characters cannot be stored in a Table key; everything else is escaped.
      .refine((s) => !/\p{Cc}/u.test(s), 'must not contain control characters')
      .describe('The person\'s stable id at the source'),
    version: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).describe('Grows with every change of this user at the source'),
    operationId: z.string().min(1).max(128).optional().describe('Idempotency key; assigned when missing'),
    occurredAt: z.iso.datetime({ offset: true }).optional(),
    attributes: z.record(z.string().min(1).max(128), attributeValue).optional().describe('SCIM-like attributes (userName, givenName, familyName, email, active, …); any name can be mapped'),
    licenses: z.array(licenseRefSchema).max(50).optional().describe('Desired licenses; [] removes the ones this connection assigned'),
  })
  .describe('One change of one user for one connection');
export type Change = z.infer<typeof changeSchema>;
export type ChangeInput = z.input<typeof changeSchema>;

/** What travels on the queue: a change with its operation id, plus the executor's own retry bookkeeping. */
export const operationMessageSchema = changeSchema.safeExtend({
  /** 0 only in the app's own messages: re-apply the user's stored desired state, adding nothing to it. */
  version: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  operationId: z.string().min(1).max(128),
  retry: z.strictObject({ attempt: z.number().int().min(1), reason: z.string().max(500) }).optional(),
});
export type OperationMessage = z.infer<typeof operationMessageSchema>;

/** The JSON Schema producers validate against (also checked in as schemas/provisioning-change.schema.json). */
export function changeJsonSchema() {
  return {
    $id: 'urn:m365-provisioner:schema:provisioning-change',
    title: 'Provisioning change',
    ...z.toJSONSchema(changeSchema, { io: 'input', target: 'draft-2020-12' }),
  };
}

/**
 * The app's own request to bring one user's account in line with the desired state already stored (reconciliation,
 * an approved staged operation, import). Carries no attributes (nothing secret on the queue) and version 0, so it
 * changes no desired state and is never skipped as stale.
 */
export function reapplyStoredState(connectionId: string, externalId: string, reason: string): OperationMessage {
  return { type: 'upsert', connectionId, externalId, version: 0, operationId: crypto.randomUUID(), retry: { attempt: 1, reason: reason.slice(0, 500) } };
}
