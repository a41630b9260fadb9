// A connection's configuration: its field mapping and its sync settings. PUT replaces either whole; PATCH is a
// JSON Merge Patch (RFC 7396) applied to what is stored. Both validate the result the same way (one function per
// document), write it conditionally on the ETag (see changeConnection) and record what changed.
import { type AuditChange, auditChanges } from '../domain/config-audit.js';
import type { Connection } from '../domain/connection.js';
import { ValidationError } from '../domain/errors.js';
import {
  DEFAULT_GROUP_MAPPING,
  type GroupMapping,
  groupMappingSchema,
  validateGroupMapping,
} from '../domain/mapping/group-mapping.js';
import { DEFAULT_MAPPING, type Mapping, mappingSchema, validateMapping } from '../domain/mapping/mapping.js';
import { mergePatch } from '../domain/merge-patch.js';
import { DEFAULT_SYNC_SETTINGS, type SyncSettings, syncSettingsSchema } from '../domain/sync-settings.js';
import { fieldErrors } from '../domain/validation.js';
import type { AuditDeps } from './audit.js';
import {
  changeConnection,
  type ConfigWrite,
  type ConnectionDeps,
  loadConnection,
  type Versioned,
} from './connections.js';

type ConfigDeps = Pick<ConnectionDeps, 'connections' | 'clock'> & AuditDeps;
export type MappingView = { mapping: Mapping; isDefault: boolean };

// ---------------------------------------------------------------------------------------------- mapping

/** A mapping rule for the password may be a constant: its values are never recorded. */
const MAPPING_SECRETS = ['properties.passwordProfile.password'];

const mappingView = (c: Connection): MappingView => ({ mapping: c.mapping ?? DEFAULT_MAPPING, isDefault: !c.mapping });

export async function getMapping(deps: Pick<ConnectionDeps, 'connections'>, connectionId: string) {
  const c = await loadConnection(deps, connectionId);
  return { value: mappingView(c), etag: c.etag };
}

/** The mapping `input` describes, if it can produce a valid user (targets writable, expressions parse, password covered). */
function validMapping(input: unknown): Mapping {
  const parsed = mappingSchema.safeParse(input);
  if (!parsed.success) throw new ValidationError(fieldErrors(parsed.error), 'The mapping is not valid');
  const issues = validateMapping(parsed.data);
  if (issues.length > 0) throw new ValidationError(issues, 'The mapping is not valid');
  return parsed.data;
}

/** Replaces the mapping (saving the default mapping as it is pins it: later defaults no longer apply). */
export const putMapping = (deps: ConfigDeps, connectionId: string, input: unknown, write: ConfigWrite) =>
  writeMapping(deps, connectionId, write, 'replace', () => validMapping(input));

/** Merges `patch` into the stored mapping (or the default one); `null` removes a member, e.g. a rule. */
export const patchMapping = (deps: ConfigDeps, connectionId: string, patch: unknown, write: ConfigWrite) =>
  writeMapping(deps, connectionId, write, 'patch', (current) => validMapping(mergePatch(current, patch)));

async function writeMapping(
  deps: ConfigDeps,
  connectionId: string,
  write: ConfigWrite,
  how: 'replace' | 'patch',
  next: (current: Mapping) => Mapping,
): Promise<Versioned<MappingView>> {
  const saved = await changeConnection(deps, connectionId, write, (c) => {
    const before = mappingView(c).mapping;
    const mapping = next(before);
    const changes: AuditChange[] = auditChanges(before, mapping, MAPPING_SECRETS);
    if (changes.length === 0 && !c.mapping && how === 'replace')
      changes.push({ path: 'isDefault', before: true, after: false });
    return { next: { ...c, mapping }, action: how === 'replace' ? 'mapping.replaced' : 'mapping.patched', changes };
  });
  return { value: mappingView(saved), etag: saved.etag };
}

// ---------------------------------------------------------------------------------------------- group mapping

export type GroupMappingView = { mapping: GroupMapping; isDefault: boolean };
const groupMappingView = (c: Connection): GroupMappingView => ({
  mapping: c.groupMapping ?? DEFAULT_GROUP_MAPPING,
  isDefault: !c.groupMapping,
});

export async function getGroupMapping(deps: Pick<ConnectionDeps, 'connections'>, connectionId: string) {
  const c = await loadConnection(deps, connectionId);
  return { value: groupMappingView(c), etag: c.etag };
}

/** The group mapping `input` describes, if it is one (group targets, expressions parse, displayName and mailNickname). */
function validGroupMapping(input: unknown): GroupMapping {
  const parsed = groupMappingSchema.safeParse(input);
  if (!parsed.success) throw new ValidationError(fieldErrors(parsed.error), 'The group mapping is not valid');
  const issues = validateGroupMapping(parsed.data);
  if (issues.length > 0) throw new ValidationError(issues, 'The group mapping is not valid');
  return parsed.data;
}

export const putGroupMapping = (deps: ConfigDeps, connectionId: string, input: unknown, write: ConfigWrite) =>
  writeGroupMapping(deps, connectionId, write, 'replace', () => validGroupMapping(input));

export const patchGroupMapping = (deps: ConfigDeps, connectionId: string, patch: unknown, write: ConfigWrite) =>
  writeGroupMapping(deps, connectionId, write, 'patch', (current) => validGroupMapping(mergePatch(current, patch)));

async function writeGroupMapping(
  deps: ConfigDeps,
  connectionId: string,
  write: ConfigWrite,
  how: 'replace' | 'patch',
  next: (current: GroupMapping) => GroupMapping,
): Promise<Versioned<GroupMappingView>> {
  const saved = await changeConnection(deps, connectionId, write, (c) => {
    const before = groupMappingView(c).mapping;
    const groupMapping = next(before);
    const changes: AuditChange[] = auditChanges(before, groupMapping, []);
    if (changes.length === 0 && !c.groupMapping && how === 'replace')
      changes.push({ path: 'isDefault', before: true, after: false });
    return {
      next: { ...c, groupMapping },
      action: how === 'replace' ? 'groupMapping.replaced' : 'groupMapping.patched',
      changes,
    };
  });
  return { value: groupMappingView(saved), etag: saved.etag };
}

// ---------------------------------------------------------------------------------------------- settings

/** The settings in force: defaults for anything not stored. */
function settingsOf(c: Connection): SyncSettings {
  const parsed = syncSettingsSchema.safeParse(c.settings ?? {});
  if (parsed.success) return parsed.data;
  // Stored by an older version the schema no longer accepts whole: the settings it still knows.
  const known = Object.keys(DEFAULT_SYNC_SETTINGS);
  return {
    ...DEFAULT_SYNC_SETTINGS,
    ...Object.fromEntries(Object.entries(c.settings ?? {}).filter(([k]) => known.includes(k))),
  };
}

export async function getSettings(deps: Pick<ConnectionDeps, 'connections'>, connectionId: string) {
  const c = await loadConnection(deps, connectionId);
  return { value: settingsOf(c), etag: c.etag };
}

/** The settings `input` describes; anything left out takes its default. */
function validSettings(input: unknown): SyncSettings {
  const parsed = syncSettingsSchema.safeParse(input);
  if (!parsed.success) throw new ValidationError(fieldErrors(parsed.error), 'The settings are not valid');
  return parsed.data;
}

/** Replaces the settings; anything left out takes its default. */
export const putSettings = (deps: ConfigDeps, connectionId: string, input: unknown, write: ConfigWrite) =>
  writeSettings(deps, connectionId, write, 'replace', () => validSettings(input));

/**
 * Merges `patch` into the settings in force: a named setting changes, `null` resets it to its default, the rest
 * stay. (A merge patch cannot set a value to null: `accidentalDeletionThreshold: null` — no limit — takes a PUT.)
 */
export const patchSettings = (deps: ConfigDeps, connectionId: string, patch: unknown, write: ConfigWrite) =>
  writeSettings(deps, connectionId, write, 'patch', (current) => validSettings(mergePatch(current, patch)));

async function writeSettings(
  deps: ConfigDeps,
  connectionId: string,
  write: ConfigWrite,
  how: 'replace' | 'patch',
  next: (current: SyncSettings) => SyncSettings,
): Promise<Versioned<SyncSettings>> {
  const saved = await changeConnection(deps, connectionId, write, (c) => {
    const before = settingsOf(c);
    const settings = next(before);
    return {
      next: { ...c, settings },
      action: how === 'replace' ? 'settings.replaced' : 'settings.patched',
      changes: auditChanges(before, settings),
    };
  });
  return { value: settingsOf(saved), etag: saved.etag };
}
