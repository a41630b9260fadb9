// The group mapping (pure): where a Microsoft 365 group's own properties come from in a group change's attributes —
// a source attribute, a constant ("hard-coded value") or an expression, as in the user mapping (mapping.ts, the same
// rule shapes and expression language). Membership (members, groups, owners) and kind are structure, not mapped.
// The default reproduces what a group change says: displayName and description as given, mailNickname as given or
// else the displayName made safe for a mail alias.
import { z } from 'zod';
import { compileExpression, ExpressionError } from './expression.js';
import { type MappingIssue, mappingRuleSchema } from './mapping.js';

/** Group properties a connection may map (group resource: writable, set on create and update). */
export const GROUP_MAPPING_TARGETS = ['displayName', 'description', 'mailNickname'] as const;
export type GroupMappingTarget = (typeof GROUP_MAPPING_TARGETS)[number];
/** What POST /groups needs (group-post-groups): a mapping must produce these. */
const REQUIRED_TARGETS: readonly GroupMappingTarget[] = ['displayName', 'mailNickname'];

export const groupMappingSchema = z
  .strictObject({
    properties: z
      .record(z.string().min(1).max(128), mappingRuleSchema)
      .describe(`Group property (${GROUP_MAPPING_TARGETS.join(', ')}) → rule: source, constant or expression`),
  })
  .describe('Group mapping of one connection');
export type GroupMapping = z.infer<typeof groupMappingSchema>;

export const DEFAULT_GROUP_MAPPING: GroupMapping = Object.freeze({
  properties: Object.freeze({
    displayName: { source: 'displayName', applyOn: 'always' as const },
    description: { source: 'description', applyOn: 'always' as const },
    mailNickname: { expression: 'mailNicknameSafe(coalesce(mailNickname, displayName))', applyOn: 'always' as const },
  }),
});

/** Every problem with a group mapping: unknown targets, expressions that do not parse, a required target unmapped. */
export function validateGroupMapping(mapping: GroupMapping): MappingIssue[] {
  const issues: MappingIssue[] = [];
  for (const [target, rule] of Object.entries(mapping.properties)) {
    const field = `properties.${target}`;
    if (!(GROUP_MAPPING_TARGETS as readonly string[]).includes(target))
      issues.push({
        field,
        message: `not a group property this connection maps (${GROUP_MAPPING_TARGETS.join(', ')})`,
      });
    if ('expression' in rule) {
      try {
        compileExpression(rule.expression);
      } catch (e) {
        if (!(e instanceof ExpressionError)) throw e;
        issues.push({ field: `${field}.expression`, message: `expression does not parse: ${e.message}` });
      }
    } else if ('constant' in rule && rule.constant !== null && typeof rule.constant !== 'string') {
      issues.push({ field: `${field}.constant`, message: 'a group property is text: a string (or null)' });
    }
  }
  for (const target of REQUIRED_TARGETS)
    if (!Object.hasOwn(mapping.properties, target))
      issues.push({ field: `properties.${target}`, message: 'a group needs it (POST /groups): map it' });
  return issues;
}

/**
 * The group properties the mapping gives for these attributes (`create` also applies create-only rules), and every
 * value that is not text (field: message). Absent or empty values are left out.
 */
export function applyGroupMapping(
  mapping: GroupMapping,
  attributes: Record<string, unknown>,
  domain: string,
  mode: 'create' | 'update' = 'create',
): { values: Partial<Record<GroupMappingTarget, string>>; errors: MappingIssue[] } {
  const values: Partial<Record<GroupMappingTarget, string>> = {};
  const errors: MappingIssue[] = [];
  for (const [target, rule] of Object.entries(mapping.properties)) {
    if (!(GROUP_MAPPING_TARGETS as readonly string[]).includes(target)) continue;
    if (mode === 'update' && rule.applyOn === 'create') continue;
    let value: unknown;
    try {
      value =
        'source' in rule
          ? attributes[rule.source]
          : 'constant' in rule
            ? rule.constant
            : compileExpression(rule.expression).evaluate({ attributes, domain });
    } catch (e) {
      if (!(e instanceof ExpressionError)) throw e;
      errors.push({ field: target, message: `${target}: ${e.message}` });
      continue;
    }
    if (value === undefined || value === null || value === '') continue;
    if (typeof value !== 'string' && typeof value !== 'number') {
      errors.push({ field: target, message: `${target} is text; the mapping gives ${typeof value}` });
      continue;
    }
    values[target as GroupMappingTarget] = String(value);
  }
  return { values, errors };
}

/**
 * The attributes that give back a group's own properties under this mapping (import: the directory takes Microsoft
 * 365's values): a `source` rule's attribute gets the property's value; properties whose rule cannot be inverted
 * (constant, expression) are kept under their own names.
 */
export function attributesFromGroup(
  mapping: GroupMapping,
  group: Partial<Record<GroupMappingTarget, string | null | undefined>>,
): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const target of GROUP_MAPPING_TARGETS) {
    const value = group[target];
    if (typeof value !== 'string' || value === '') continue;
    const rule = mapping.properties[target];
    attributes[rule && 'source' in rule ? rule.source : target] = value;
  }
  return attributes;
}
