// Compares the app settings the infrastructure sets with the settings the code reads (shared/config.ts).
import type { z } from 'zod';

export interface SchemaSetting {
  name: string;
  /** No default and not optional: the app refuses to start without it. */
  required: boolean;
}

export interface SettingRules {
  /** Settings the code does not read but the platform or the Functions host does, each with why it is set. */
  platform: Record<string, string>;
  /** Settings that must never be set on Azure, each with why (the code may read them elsewhere). */
  neverOnAzure: Record<string, string>;
}

export interface SettingsComparison {
  /** Required by the code, not set by the infrastructure. */
  missingRequired: string[];
  /** Set by the infrastructure, read by neither the code nor the platform. */
  unknown: string[];
  /** Set by the infrastructure although they must never be set on Azure. */
  forbidden: string[];
  /** Optional in the code and left to their defaults (informational). */
  defaulted: string[];
}

/** The settings of a zod object schema, required or not, read at run time (settings added later count too). */
export function schemaSettings(schema: z.ZodObject): SchemaSetting[] {
  return Object.entries(schema.shape).map(([name, setting]) => ({
    name,
    required: !(setting as z.ZodType).safeParse(undefined).success,
  }));
}

export function compareAppSettings(
  schema: SchemaSetting[],
  infra: Iterable<string>,
  rules: SettingRules,
): SettingsComparison {
  const set = new Set(infra);
  const known = new Set(schema.map((s) => s.name));
  return {
    missingRequired: schema.filter((s) => s.required && !set.has(s.name)).map((s) => s.name),
    unknown: [...set].filter((name) => !known.has(name) && !(name in rules.platform) && !(name in rules.neverOnAzure)),
    forbidden: [...set].filter((name) => name in rules.neverOnAzure),
    defaulted: schema
      .filter((s) => !s.required && !set.has(s.name) && !(s.name in rules.neverOnAzure))
      .map((s) => s.name),
  };
}
