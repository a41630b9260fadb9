// Zod schemas of response bodies whose use cases return plain TypeScript types (a user's view, reconciliation
// runs), for the OpenAPI document. Each is checked at compile time to describe exactly the type its use case
// returns — no field more or less, same types — so neither can change without the other.
import { z } from 'zod';
import { changeTypes, licenseRefSchema } from '../shared/domain/change.js';
import type { ErrorKind } from '../shared/domain/errors.js';
import { driftKinds, groupDriftKinds } from '../shared/domain/reconciliation.js';
import { userStatuses } from '../shared/domain/user-state.js';
import type { mappingMetadata, previewMapping } from '../shared/provisioning/mapping-preview.js';
import type { getRun, listRuns, startRun } from '../shared/provisioning/reconcile-admin.js';
import type { runProgress } from '../shared/provisioning/run-progress.js';
import type { getUserState } from '../shared/provisioning/user-admin.js';

/** True when A and B are the same type (not merely assignable either way: a field more on one side is a difference). */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Object intersections written as one object type, all the way down (so `A & { b }` compares equal to `{ …A, b }`). */
type Flat<T> = T extends (infer E)[] ? Flat<E>[] : T extends object ? { [K in keyof T]: Flat<T[K]> } : T;

/**
 * `describes<T>()(schema)` returns the schema, and does not compile unless what it parses to is exactly T
 * (the error is "Expected 2 arguments": the schema and T have drifted apart).
 */
const describes =
  <T>() =>
  <S extends z.ZodType>(
    schema: S,
    ..._drifted: Same<Flat<z.output<S>>, Flat<T>> extends true ? [] : [`the schema does not describe the type`]
  ): S =>
    schema;

/** What a use case answers. */
type Answer<F extends (...args: never[]) => unknown> = Awaited<ReturnType<F>>;

const errorKinds = [
  'transient',
  'throttled',
  'not-found',
  'conflict',
  'invalid',
  'unauthorized',
  'dry-run',
] as const satisfies readonly ErrorKind[];

/** GET …/users/{externalId} (getUserState). */
export const userViewSchema = describes<Answer<typeof getUserState>>()(
  z.object({
    externalId: z.string(),
    status: z.enum(userStatuses),
    statusReason: z.string().optional(),
    desired: z
      .object({
        profile: z
          .object({
            version: z.number().int(),
            attributes: z.record(z.string(), z.unknown()).describe('Secret attributes (password, …) read "[set]"'),
            licenses: z.array(licenseRefSchema).optional(),
          })
          .optional(),
        lifecycle: z
          .object({
            version: z.number().int(),
            state: z.enum(['active', 'inactive', 'removed']),
            explicit: z
              .boolean()
              .describe('False when it comes from an upsert (being assigned): activateOnAssign decides then'),
          })
          .optional(),
      })
      .nullable()
      .describe('What the source wants, merged from every change received'),
    appliedVersion: z.number().int(),
    inSync: z
      .boolean()
      .describe('Microsoft 365 reflects every change received so far (not while policy blocks part of it)'),
    blockedBy: z
      .array(
        z.object({
          setting: z.enum(['allowUpdate', 'allowDeactivate', 'activateOnAssign', 'allowGroupUpdate']),
          properties: z.array(z.string()),
        }),
      )
      .nullable()
      .describe('What policy keeps from being written: the setting and the properties that still differ'),
    pending: z
      .array(
        z.object({
          objectType: z.enum(['user', 'group']),
          externalId: z.string(),
          as: z.enum(['member', 'group', 'owner', 'manager']),
          reason: z.string(),
        }),
      )
      .describe('References not provisioned yet (group members, a manager): applied by themselves once linked'),
    link: z
      .object({ objectId: z.string(), userPrincipalName: z.string().nullable() })
      .nullable()
      .describe('The linked Microsoft 365 account'),
    ownedLicenses: z.array(z.string()).describe('skuIds this connection assigned'),
    lastChange: z.object({ operationId: z.string(), version: z.number().int(), type: z.enum(changeTypes) }).nullable(),
    lastError: z.object({ code: z.string(), kind: z.enum(errorKinds), message: z.string(), at: z.string() }).nullable(),
    lastOperationId: z.string().nullable(),
    updatedAt: z.string(),
    history: z.string().describe("The user's provisioning log"),
  }),
);

/** A reconciliation run's record (ReconciliationRun). */
const runSchema = z.object({
  connectionId: z.string(),
  runId: z.string(),
  trigger: z.enum(['timer', 'manual']),
  dryRun: z.boolean(),
  status: z.enum(['queued', 'running', 'completed', 'failed', 'skipped']),
  reason: z.string().optional().describe('Why it was skipped or failed'),
  requestedAt: z.string(),
  startedAt: z.string().optional(),
  endedAt: z.string().optional(),
  deltaRound: z.object({ kind: z.enum(['full', 'incremental']), why: z.string() }).optional(),
  examined: z.object({ microsoft365: z.number().int(), directory: z.number().int() }),
  drift: z.record(z.enum(driftKinds), z.number().int()).describe('Users found drifted, by kind'),
  enqueued: z.number().int().describe('Corrective operations put on the provisioning queue (0 in a dry run)'),
  staged: z.number().int().describe('Disable/delete operations held for an admin (accidental-deletion threshold)'),
  unmatched: z
    .number()
    .int()
    .describe('Microsoft 365 accounts no directory user is linked to (reported, never touched)'),
  failedUsers: z.number().int(),
  errors: z.array(z.string()),
  items: z.number().int(),
  itemsTruncated: z.boolean(),
  graphRequests: z.number().int(),
  groups: z
    .object({
      deltaRound: z.object({ kind: z.enum(['full', 'incremental']), why: z.string() }).optional(),
      skipped: z.string().optional().describe('Why there was no groups round (a connection without groups)'),
      examined: z.object({ microsoft365: z.number().int(), directory: z.number().int() }),
      drift: z.record(z.enum(groupDriftKinds), z.number().int()).describe('Groups found drifted, by kind'),
      memberRemovals: z
        .number()
        .int()
        .describe('Members the corrections remove (each counts against the accidental-deletion threshold)'),
      unmatched: z.number().int().describe('Microsoft 365 groups no directory group is linked to (counted only)'),
      failed: z.number().int(),
    })
    .optional()
    .describe("The groups round (its counts apart; enqueued, staged and items include the groups')"),
});

/** One finding of a run (RunItem). */
const runItemSchema = z.object({
  objectType: z.enum(['user', 'group']),
  kind: z.union([z.enum([...driftKinds, 'unmatched']), z.enum(groupDriftKinds)]),
  externalId: z.string().optional(),
  objectId: z.string().optional(),
  userPrincipalName: z.string().optional(),
  detail: z.string(),
  differences: z.array(z.object({ property: z.string(), expected: z.unknown(), actual: z.unknown() })).optional(),
  disposition: z.enum(['enqueued', 'staged', 'planned', 'reported']),
  operation: z.enum(['reconcile', 'disable', 'delete', 'removeMembers']).optional(),
  memberRemovals: z.number().int().optional(),
  operationId: z.string().optional(),
});

/** POST …/reconcile (202): the queued run and where to follow it. */
export const queuedRunSchema = describes<Answer<typeof startRun> & { location: string }>()(
  runSchema.extend({ location: z.string() }),
);

/** GET …/runs (listRuns). */
export const runsPageSchema = describes<Answer<typeof listRuns>>()(
  z.object({ value: z.array(runSchema), continuation: z.string().nullable() }),
);

/** GET …/runs/{runId} (getRun): the run and a page of its items. */
export const runWithItemsSchema = describes<Answer<typeof getRun>>()(
  runSchema.extend({ itemsPage: z.object({ value: z.array(runItemSchema), continuation: z.string().nullable() }) }),
);

/** GET …/mapping/metadata (mappingMetadata). */
export const mappingMetadataSchema = describes<Answer<typeof mappingMetadata>>()(
  z.object({
    targets: z
      .array(
        z.object({
          name: z.string(),
          type: z.string().describe('EDM type (of the elements, for a collection)'),
          collection: z.boolean(),
          requiredOnCreate: z.boolean().describe('POST /users needs it'),
          maxLength: z.number().int().optional().describe("The maximum length Graph's docs give"),
        }),
      )
      .describe("The user properties a mapping may write (Graph's metadata: writable only)"),
    functions: z
      .array(z.object({ name: z.string(), minArgs: z.number().int(), maxArgs: z.number().int().nullable() }))
      .describe('Functions expressions may call (maxArgs null: any number)'),
    sourceAttributes: z
      .array(z.string())
      .describe("Attributes seen in the changes received (the first 1,000 users) and read by the connection's mapping"),
  }),
);

/** POST …/mapping/preview (previewMapping). */
export const mappingPreviewAnswerSchema = describes<Answer<typeof previewMapping>>()(
  z.object({
    externalId: z.string(),
    linked: z.object({ objectId: z.string(), userPrincipalName: z.string().nullable() }).nullable(),
    issues: z
      .array(z.object({ field: z.string(), message: z.string(), attribute: z.string().optional() }))
      .describe('Why the mapping could not be saved as it is (empty: valid)'),
    microsoft365Error: z.string().optional().describe('Why the linked account could not be read'),
    properties: z.array(
      z.object({
        property: z.string(),
        createOnly: z.boolean(),
        value: z.unknown().optional().describe('What the rule gives for this user (a password reads "[secret]")'),
        unresolved: z.literal(true).optional().describe('The rule gives nothing: an attribute it reads is missing'),
        error: z.string().optional().describe('Why the rule fails for this user'),
        microsoft365: z.unknown().optional().describe('What the linked account holds now (null: not set)'),
        differs: z.boolean().optional().describe('The rule would change the account'),
      }),
    ),
  }),
);

/** GET …/runs/{runId}/progress (runProgress). */
export const runProgressSchema = describes<Answer<typeof runProgress>>()(
  z.object({
    runId: z.string(),
    status: z.string(),
    dryRun: z.boolean(),
    phase: z
      .enum(['queued', 'examining', 'applying', 'done', 'failed', 'skipped'])
      .describe('examining: the run reads and compares; applying: its corrections are on the provisioning queue'),
    examined: z.object({
      directory: z.number().int(),
      directoryTotal: z.number().int().describe("The connection's users"),
      microsoft365: z.number().int(),
    }),
    corrections: z
      .object({
        total: z.number().int(),
        checked: z.number().int().describe('Corrections whose user was read (at most 5,000)'),
        done: z.number().int().describe('Applied since the run started'),
        failed: z.number().int(),
        waiting: z.number().int(),
      })
      .describe('The corrections the run enqueued (counted once the run has ended)'),
    percent: z.number().int().describe('0–100 within the phase'),
    writesPerSecond: z
      .number()
      .describe('Graph writes per second the throttle governor allows this app + tenant now, in this process'),
    etaSeconds: z
      .number()
      .int()
      .nullable()
      .describe('Remaining corrections over writesPerSecond; null while examining or when nothing is left'),
  }),
);
