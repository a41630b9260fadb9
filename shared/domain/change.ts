// The change contract: what producers (queue messages or POST /changes) say happened to one user at the source.
// One schema, exported as schemas/provisioning-change.schema.json for producers in other languages.
import { z } from 'zod';
import { connectionIdSchema, externalIdSchema, wellFormedText } from './identifiers.js';

export const PROVISIONING_QUEUE = 'provisioning-operations';
export const changeTypes = ['upsert', 'activate', 'deactivate', 'remove'] as const;
export const objectTypes = ['user', 'group'] as const;
export type ObjectType = (typeof objectTypes)[number];
/** A change's object type (users when it names none). */
export const objectTypeOf = (c: { objectType?: ObjectType }): ObjectType => c.objectType ?? 'user';
export type ChangeType = (typeof changeTypes)[number];

const attributeValue = z.union([wellFormedText(), z.number(), z.boolean(), z.null(), z.array(wellFormedText())]);

export const licenseRefSchema = z.union([
  wellFormedText().min(1).max(128).describe('skuPartNumber (e.g. ENTERPRISEPACK) or skuId'),
  z.strictObject({
    sku: wellFormedText().min(1).max(128).describe('skuPartNumber or skuId'),
    disabledPlans: z
      .array(wellFormedText().max(128))
      .max(100)
      .optional()
      .describe('servicePlanIds (or names) to leave off'),
  }),
]);
export type LicenseRef = z.infer<typeof licenseRefSchema>;

export const changeSchema = z
  .strictObject({
    type: z
      .enum(changeTypes)
      .describe('upsert: assigned (create or update); activate / deactivate; remove: unassigned or deprovisioned'),
    connectionId: connectionIdSchema,
    objectType: z
      .enum(objectTypes)
      .optional()
      .describe(
        'user (the default) or group. A group change is an upsert or a remove; its attributes: displayName, description, mailNickname, kind (security | microsoft365), members (user externalIds), groups (nested group externalIds), owners (user externalIds); its licenses are assigned to the group (group-based licensing)',
      ),
    externalId: externalIdSchema.describe("The person's (or group's) stable id at the source"),
    version: z
      .number()
      .int()
      .positive()
      .max(Number.MAX_SAFE_INTEGER)
      .describe('Grows with every change of this user at the source'),
    operationId: wellFormedText().min(1).max(128).optional().describe('Idempotency key; assigned when missing'),
    occurredAt: z.iso.datetime({ offset: true }).optional(),
    attributes: z
      .record(wellFormedText().min(1).max(128), attributeValue)
      .optional()
      .describe('SCIM-like attributes (userName, givenName, familyName, email, active, …); any name can be mapped'),
    licenses: z
      .array(licenseRefSchema)
      .max(50)
      .optional()
      .describe('Desired licenses; [] removes the ones this connection assigned'),
  })
  .describe('One change of one user for one connection');
export type Change = z.infer<typeof changeSchema>;

/** A change as posted to a connection's `/changes`: the connection comes from the URL (a body value must agree). */
export const postedChangeSchema = changeSchema.extend({ connectionId: changeSchema.shape.connectionId.optional() });
export type ChangeInput = z.input<typeof changeSchema>;

/** What travels on the queue: a change with its operation id, plus the executor's own retry bookkeeping. */
export const operationMessageSchema = changeSchema.safeExtend({
  /** 0 only in the app's own messages: re-apply the user's stored desired state, adding nothing to it. */
  version: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  operationId: wellFormedText().min(1).max(128),
  retry: z.strictObject({ attempt: z.number().int().min(1), reason: z.string().max(500) }).optional(),
});
export type OperationMessage = z.infer<typeof operationMessageSchema>;

/**
 * Size limits. A queue message holds at most 64 KiB (after base64); a change larger than what fits is kept in
 * storage and the message carries a reference to it (a claim check). No change may be larger than
 * MAX_CHANGE_BYTES of JSON: the user's row keeps it twice (desired state and last change) and a Table entity holds
 * at most 1 MiB, counting text as UTF-16. No request may be larger than MAX_REQUEST_BYTES.
 */
export const MAX_CHANGE_BYTES = 128 * 1024;
export const MAX_REQUEST_BYTES = 8 * 1024 * 1024;
/** The JSON size of a change (UTF-8 bytes), as measured against MAX_CHANGE_BYTES. */
export const changeBytes = (change: unknown) => Buffer.byteLength(JSON.stringify(change), 'utf8');

/** A queue message whose change is kept in storage (too large for the queue): who it is for, and where. */
export const claimCheckMessageSchema = operationMessageSchema
  .pick({ type: true, connectionId: true, objectType: true, externalId: true, version: true, operationId: true })
  .safeExtend({ claimCheck: z.string().min(1).max(128) });
export type ClaimCheckMessage = z.infer<typeof claimCheckMessageSchema>;
export const isClaimCheck = (item: unknown): boolean =>
  typeof item === 'object' && item !== null && 'claimCheck' in item;

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
export function reapplyStoredState(
  connectionId: string,
  externalId: string,
  reason: string,
  objectType: ObjectType = 'user',
): OperationMessage {
  return {
    type: 'upsert',
    connectionId,
    ...(objectType === 'group' ? { objectType } : {}),
    externalId,
    version: 0,
    operationId: crypto.randomUUID(),
    retry: { attempt: 1, reason: reason.slice(0, 500) },
  };
}
