// A connection's configuration: its field mapping and its sync settings.
import { ValidationError } from '../domain/errors.js';
import { DEFAULT_MAPPING, type Mapping, mappingSchema, validateMapping } from '../domain/mapping/mapping.js';
import { DEFAULT_SYNC_SETTINGS, type SyncSettings, syncSettingsSchema } from '../domain/sync-settings.js';
import { fieldErrors } from '../domain/validation.js';
import { type ApplyDeps } from './apply-operation.js';
import { loadConnection } from './connections.js';

export async function getMapping(
  deps: ApplyDeps,
  connectionId: string,
): Promise<{ mapping: Mapping; isDefault: boolean }> {
  const c = await loadConnection(deps, connectionId);
  return { mapping: c.mapping ?? DEFAULT_MAPPING, isDefault: !c.mapping };
}

/** Saves a mapping only if it can produce a valid user (targets writable, expressions parse, password covered). */
export async function putMapping(
  deps: ApplyDeps,
  connectionId: string,
  input: unknown,
): Promise<{ mapping: Mapping; isDefault: false }> {
  const parsed = mappingSchema.safeParse(input);
  if (!parsed.success) throw new ValidationError(fieldErrors(parsed.error), 'The mapping is not valid');
  const issues = validateMapping(parsed.data);
  if (issues.length > 0) throw new ValidationError(issues, 'The mapping is not valid');
  const c = await loadConnection(deps, connectionId);
  await deps.connections.replace({ ...c, mapping: parsed.data, updatedAt: deps.clock.now().toISOString() });
  return { mapping: parsed.data, isDefault: false };
}

export async function getSettings(deps: ApplyDeps, connectionId: string): Promise<SyncSettings> {
  const c = await loadConnection(deps, connectionId);
  return { ...DEFAULT_SYNC_SETTINGS, ...c.settings };
}

/** Replaces the settings; anything left out takes its default. */
export async function putSettings(deps: ApplyDeps, connectionId: string, input: unknown): Promise<SyncSettings> {
  const parsed = syncSettingsSchema.safeParse(input);
  if (!parsed.success) throw new ValidationError(fieldErrors(parsed.error), 'The settings are not valid');
  const c = await loadConnection(deps, connectionId);
  await deps.connections.replace({ ...c, settings: parsed.data, updatedAt: deps.clock.now().toISOString() });
  return parsed.data;
}
