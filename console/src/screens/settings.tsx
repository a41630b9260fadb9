// Settings: every sync setting as a toggle or field, with the description the API's own schema gives it (the zod
// `describe` texts, read from /api/openapi.json), grouped the way Entra and PingOne group theirs.
import { useEffect, useState } from 'preact/hooks';
import { call, get } from '../api';
import { Banner, ErrorBox, Loading, useAction, useLoad } from '../ui';
import type { TabProps } from './connection';

interface JsonSchema {
  type?: string | string[];
  description?: string;
  enum?: unknown[];
  default?: unknown;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  properties?: Record<string, JsonSchema>;
}

const GROUPS: { title: string; settings: string[] }[] = [
  {
    title: 'Provisioning actions',
    settings: [
      'allowCreate',
      'allowUpdate',
      'allowDeactivate',
      'allowRemove',
      'removeAction',
      'activateOnAssign',
      'restoreDeletedUsers',
      'deprovisionOnRuleDeletion',
      'dryRun',
    ],
  },
  {
    title: 'Matching',
    settings: ['matchingRules', 'matchingAttribute', 'adoptExistingAccounts', 'upnCandidates', 'upnCandidateLimit'],
  },
  {
    title: 'Licences',
    settings: [
      'defaultLicenses',
      'usageLocation',
      'licensingMode',
      'removeLicensesWhenEmpty',
      'removeLicensesOnRemove',
    ],
  },
  {
    title: 'Groups',
    settings: [
      'allowGroupCreate',
      'allowGroupUpdate',
      'allowGroupRemove',
      'groupRemoveAction',
      'groupMatchingRules',
      'groupMembership',
      'nestedGroups',
    ],
  },
  {
    title: 'Reconciliation and safety',
    settings: [
      'reconciliationEnabled',
      'accidentalDeletionThreshold',
      'quarantineFailurePercent',
      'quarantineMinimumOperations',
    ],
  },
];

/** The settings schema of the OpenAPI document (GET …/settings, 200). */
async function settingsSchema(): Promise<Record<string, JsonSchema>> {
  const doc = await get<{
    paths: Record<
      string,
      Record<string, { responses: Record<string, { content?: Record<string, { schema: JsonSchema }> }> }>
    >;
  }>('openapi.json');
  return (
    doc.paths['/api/connections/{id}/settings']?.get?.responses['200']?.content?.['application/json']?.schema
      .properties ?? {}
  );
}

const typesOf = (s: JsonSchema): string[] =>
  s.anyOf ? s.anyOf.flatMap(typesOf) : Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];

function SettingField({
  name,
  schema,
  value,
  onChange,
  disabled,
}: {
  name: string;
  schema: JsonSchema;
  value: unknown;
  onChange: (v: unknown) => void;
  disabled: boolean;
}) {
  const id = `setting-${name}`;
  const all = typesOf(schema);
  const nullable = all.includes('null');
  const types = all.filter((t) => t !== 'null');
  const hint = schema.description ? (
    <p class="hint" id={`${id}-hint`}>
      {schema.description}
    </p>
  ) : null;
  const described = schema.description ? `${id}-hint` : undefined;
  if (types.length === 1 && types[0] === 'boolean')
    return (
      <div class="field toggle">
        <label>
          <input
            type="checkbox"
            id={id}
            checked={value === true}
            disabled={disabled}
            aria-describedby={described}
            onChange={(e) => onChange(e.currentTarget.checked)}
          />{' '}
          {name}
        </label>
        {hint}
      </div>
    );
  if (schema.enum && types.every((t) => t === 'string'))
    return (
      <div class="field">
        <label for={id}>{name}</label>
        <select
          id={id}
          value={String(value)}
          disabled={disabled}
          aria-describedby={described}
          onChange={(e) => onChange(e.currentTarget.value)}
        >
          {schema.enum.map((o) => (
            <option key={String(o)} value={String(o)}>
              {String(o)}
            </option>
          ))}
        </select>
        {hint}
      </div>
    );
  if (types.includes('integer') || types.includes('number'))
    return (
      <div class="field">
        <label for={id}>{name}</label>
        <input
          id={id}
          type="number"
          value={value === null || value === undefined ? '' : String(value)}
          disabled={disabled}
          aria-describedby={described}
          onInput={(e) => onChange(e.currentTarget.value === '' ? null : Number(e.currentTarget.value))}
        />
        {hint}
      </div>
    );
  if (types.length === 1 && types[0] === 'string')
    return (
      <div class="field">
        <label for={id}>{name}</label>
        <input
          id={id}
          value={String(value ?? '')}
          disabled={disabled}
          aria-describedby={described}
          onInput={(e) => onChange(e.currentTarget.value === '' && nullable ? null : e.currentTarget.value)}
        />
        {hint}
      </div>
    );
  // Lists and objects: edited as JSON.
  return (
    <div class="field">
      <label for={id}>{name} (JSON)</label>
      <textarea
        id={id}
        rows={2}
        disabled={disabled}
        aria-describedby={described}
        value={JSON.stringify(value ?? null)}
        onInput={(e) => {
          try {
            onChange(JSON.parse(e.currentTarget.value));
          } catch {
            // Not JSON yet: keep typing.
          }
        }}
      />
      {hint}
    </div>
  );
}

export function SettingsTab({ connection, canWrite }: TabProps) {
  const id = connection.id;
  const loaded = useLoad(async () => {
    const [answer, schema] = await Promise.all([
      call<Record<string, unknown>>('GET', `connections/${id}/settings`),
      settingsSchema(),
    ]);
    return { settings: answer.body, etag: answer.headers.get('etag') ?? undefined, schema };
  }, [id]);
  const [draft, setDraft] = useState<Record<string, unknown>>({});
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (loaded.data) setDraft({ ...loaded.data.settings });
  }, [loaded.data]);
  const save = useAction(async () => {
    const before = loaded.data!.settings;
    const changed = Object.fromEntries(
      Object.entries(draft).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(before[k])),
    );
    await call('PATCH', `connections/${id}/settings`, {
      body: changed,
      contentType: 'application/merge-patch+json',
      headers: loaded.data?.etag ? { 'if-match': loaded.data.etag } : {},
    });
    setSaved(true);
    loaded.reload();
  });
  if (loaded.error) return <ErrorBox error={loaded.error} />;
  if (!loaded.data) return <Loading what="the settings" />;
  const { schema } = loaded.data;
  const grouped = new Set(GROUPS.flatMap((g) => g.settings));
  const others = Object.keys(schema).filter((k) => !grouped.has(k));
  const groups = [...GROUPS, ...(others.length ? [{ title: 'Other', settings: others }] : [])];
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        setSaved(false);
        void save.run();
      }}
    >
      {groups.map((g) => (
        <fieldset key={g.title}>
          <legend>{g.title}</legend>
          {g.settings
            .filter((name) => schema[name])
            .map((name) => (
              <SettingField
                key={name}
                name={name}
                schema={schema[name]!}
                value={draft[name]}
                disabled={!canWrite}
                onChange={(v) => {
                  setSaved(false);
                  setDraft((d) => ({ ...d, [name]: v }));
                }}
              />
            ))}
        </fieldset>
      ))}
      <ErrorBox error={save.error} />
      {saved ? <Banner kind="success">Settings saved.</Banner> : null}
      {canWrite ? (
        <div class="actions">
          <button type="submit" class="primary" disabled={save.running}>
            Save settings
          </button>
        </div>
      ) : null}
    </form>
  );
}
