// Checks of a change against the connection's mapping that warn rather than refuse: an attribute nothing reads is
// usually a typo of one that something does ("jobTtile"). What refuses a create is in create-requirements.ts.
import { closestName } from './mapping/expression.js';
import { type Mapping, mappingAttributes } from './mapping/mapping.js';

/**
 * Attributes the app reads whatever the mapping says: `active` decides the lifecycle (desired-state.ts), `country`
 * gives usageLocation when nothing maps it (drift.ts, withUsageLocation).
 */
const READ_WITHOUT_MAPPING = ['active', 'country'];

export interface AttributeWarning {
  attribute: string;
  /** The attribute that is read and that this one is probably a typo of. */
  suggestion: string;
  message: string;
}

/**
 * For each attribute of a change that neither the mapping nor the app reads but that is close to one that is read
 * (the same "did you mean" as mapping validation: closestName), a warning naming it. Attributes far from any read
 * one are left alone: a producer may send more than this connection maps.
 */
export function attributeWarnings(mapping: Mapping, attributes: Record<string, unknown>): AttributeWarning[] {
  const read = new Set([...mappingAttributes(mapping), ...READ_WITHOUT_MAPPING]);
  return Object.keys(attributes).flatMap((attribute) => {
    if (read.has(attribute)) return [];
    const suggestion = closestName(attribute, read);
    return suggestion
      ? [{ attribute, suggestion, message: `is not read by the connection's mapping: did you mean '${suggestion}'?` }]
      : [];
  });
}
