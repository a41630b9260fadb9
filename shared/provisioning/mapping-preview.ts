// What the mapping editor needs beyond the mapping itself: the targets it may write (Graph's metadata, writable
// only), the expression functions, the source attributes seen in received changes — and a live preview of a mapping
// (the saved one or a draft) on one real user: the value each rule gives, next to what Microsoft 365 holds now.
import { z } from 'zod';
import { AppError, ValidationError } from '../domain/errors.js';
import { externalIdSchema } from '../domain/identifiers.js';
import { EXPRESSION_FUNCTION_ARITY } from '../domain/mapping/expression.js';
import {
  REQUIRED_ON_CREATE,
  USER_PROPERTY_MAX_LENGTH,
  writableUserProperties,
} from '../domain/mapping/graph-user-properties.js';
import {
  applyMapping,
  DEFAULT_MAPPING,
  type Mapping,
  mappingAttributes,
  type MappingIssue,
  mappingSchema,
  validateMapping,
} from '../domain/mapping/mapping.js';
import { fieldErrors } from '../domain/validation.js';
import type { ApplyDeps } from './apply-operation.js';
import { hideDesired } from './change-secrets.js';
import { loadConnection } from './connections.js';
import { tenantGateway } from './tenant.js';

/** Users read for the source attributes they carry (the first ones in externalId order). */
const ATTRIBUTE_SAMPLE = 1_000;

export interface MappingTarget {
  name: string;
  type: string;
  collection: boolean;
  requiredOnCreate: boolean;
  maxLength?: number;
}

export interface PreviewedProperty {
  property: string;
  createOnly: boolean;
  value?: unknown;
  unresolved?: true;
  error?: string;
  microsoft365?: unknown;
  differs?: boolean;
}

/** GET …/mapping/metadata: targets (writable only), functions, and the source attributes of received changes. */
export async function mappingMetadata(
  deps: Pick<ApplyDeps, 'connections' | 'users'>,
  connectionId: string,
): Promise<{
  targets: MappingTarget[];
  functions: { name: string; minArgs: number; maxArgs: number | null }[];
  sourceAttributes: string[];
}> {
  const connection = await loadConnection(deps, connectionId);
  const seen = new Set<string>(mappingAttributes(connection.mapping ?? DEFAULT_MAPPING));
  let read = 0;
  for await (const page of deps.users.scan(connectionId)) {
    for (const user of page) for (const name of Object.keys(user.desired?.profile?.attributes ?? {})) seen.add(name);
    read += page.length;
    if (read >= ATTRIBUTE_SAMPLE) break;
  }
  return {
    targets: [...writableUserProperties()].map(([name, p]): MappingTarget => ({
      name,
      type: p.type,
      collection: p.collection,
      requiredOnCreate: (REQUIRED_ON_CREATE as readonly string[]).includes(name),
      ...(USER_PROPERTY_MAX_LENGTH[name] !== undefined ? { maxLength: USER_PROPERTY_MAX_LENGTH[name] } : {}),
    })),
    functions: [...EXPRESSION_FUNCTION_ARITY],
    sourceAttributes: [...seen].sort((a, b) => a.localeCompare(b, 'en')),
  };
}

export const mappingPreviewSchema = z.strictObject({
  externalId: externalIdSchema.describe('The user (of this connection) to preview the mapping on'),
  mapping: z.unknown().optional().describe('A draft mapping to try (as for PUT …/mapping); default: the saved one'),
});

const SECRET_TARGET = /^passwordProfile\.password$/;

function valueAt(values: Record<string, unknown>, target: string): unknown {
  let v: unknown = values;
  for (const part of target.split('.'))
    v = v && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
  return v;
}

/**
 * The mapping applied to the user's current desired state (as on create, so create-only rules show too), rule by
 * rule, and the linked account's current values read from Graph. Secrets are never shown. A draft that is not valid
 * is answered with its issues (the editor shows them inline), and still previewed rule by rule where it can be.
 */
export async function previewMapping(
  deps: ApplyDeps,
  connectionId: string,
  body: z.infer<typeof mappingPreviewSchema>,
): Promise<{
  externalId: string;
  linked: { objectId: string; userPrincipalName: string | null } | null;
  issues: MappingIssue[];
  microsoft365Error?: string;
  properties: PreviewedProperty[];
}> {
  const connection = await loadConnection(deps, connectionId);
  let mapping: Mapping;
  if (body.mapping === undefined) mapping = connection.mapping ?? DEFAULT_MAPPING;
  else {
    const parsed = mappingSchema.safeParse(body.mapping);
    if (!parsed.success)
      throw new ValidationError(
        fieldErrors(parsed.error).map((e) => ({ ...e, field: `mapping.${e.field}` })),
        'The mapping is not valid',
      );
    mapping = parsed.data;
  }
  const user = await deps.users.get(connectionId, body.externalId);
  if (!user)
    throw new AppError('not-found', 'user-not-found', `No change has been received for user ${body.externalId}`, {
      externalId: body.externalId,
    });
  const attributes = (user.desired ? hideDesired(user.desired) : undefined)?.profile?.attributes ?? {};
  const mapped = applyMapping(mapping, attributes, { domain: connection.domain }, 'create');
  const targets = Object.keys(mapping.properties);
  let microsoft365: Record<string, unknown> | undefined;
  let microsoft365Error: string | undefined;
  if (user.objectId) {
    const select = [...new Set(targets.map((t) => t.split('.')[0]!).filter((t) => t !== 'passwordProfile'))];
    try {
      microsoft365 = (await tenantGateway(deps, connection, {}).users.getUser(user.objectId, select)) ?? undefined;
      if (!microsoft365) microsoft365Error = 'The linked account no longer exists in Microsoft 365';
    } catch (error) {
      microsoft365Error = `Microsoft 365 could not be read: ${(error as Error).message}`;
    }
  }
  const errorOf = new Map(mapped.errors.map((e) => [e.field, e.message]));
  return {
    externalId: user.externalId,
    linked: user.objectId ? { objectId: user.objectId, userPrincipalName: user.userPrincipalName ?? null } : null,
    issues: validateMapping(mapping),
    ...(microsoft365Error ? { microsoft365Error } : {}),
    properties: targets.map((target): PreviewedProperty => {
      const secret = SECRET_TARGET.test(target);
      const value = valueAt(mapped.values, target);
      const current = microsoft365 && !secret ? valueAt(microsoft365, target) : undefined;
      return {
        property: target,
        createOnly: mapping.properties[target]?.applyOn === 'create',
        ...(errorOf.has(target)
          ? { error: errorOf.get(target)! }
          : mapped.unresolved.includes(target)
            ? { unresolved: true }
            : { value: secret ? '[secret]' : value }),
        ...(microsoft365 && !secret ? { microsoft365: current ?? null } : {}),
        ...(microsoft365 && !secret && !errorOf.has(target) && !mapped.unresolved.includes(target)
          ? { differs: JSON.stringify(value) !== JSON.stringify(current ?? null) }
          : {}),
      };
    }),
  };
}
