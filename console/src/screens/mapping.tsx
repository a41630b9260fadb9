// Mapping editor (Entra's attribute mapping, Zoho's field mapping): each Microsoft 365 property from a source
// attribute, a constant ("hard-coded value") or an expression, optionally on create only; targets come from Graph's
// metadata (writable only), sources from the attributes received changes carried; a live preview on a chosen real
// user shows what the draft gives and what Microsoft 365 holds now. Validation errors are shown on their row.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, call, get, post } from '../api';
import type { MappingTarget, PreviewedProperty, UserList } from '../types';
import { Banner, ErrorBox, Loading, useAction, useLoad, Value } from '../ui';
import type { TabProps } from './connection';

type Kind = 'source' | 'constant' | 'expression';
interface Rule {
  source?: string;
  constant?: unknown;
  expression?: string;
  applyOn?: 'always' | 'create';
}
interface Mapping {
  properties: Record<string, Rule>;
  generatePassword?: boolean;
  forceChangePasswordNextSignIn?: boolean;
}
interface Metadata {
  targets: MappingTarget[];
  functions: { name: string; minArgs: number; maxArgs: number | null }[];
  sourceAttributes: string[];
}
interface Preview {
  linked: { objectId: string; userPrincipalName: string | null } | null;
  issues: { field: string; message: string }[];
  microsoft365Error?: string;
  properties: PreviewedProperty[];
}

const kindOf = (r: Rule): Kind => ('expression' in r ? 'expression' : 'constant' in r ? 'constant' : 'source');

/** The text a rule shows in its value box. */
function ruleText(r: Rule): string {
  const kind = kindOf(r);
  if (kind === 'source') return r.source ?? '';
  if (kind === 'expression') return r.expression ?? '';
  const c = r.constant;
  return Array.isArray(c) ? c.join(', ') : c === null || c === undefined ? '' : String(c);
}

/** A constant typed for its target (Graph refuses "true" for a Boolean). */
function typedConstant(text: string, target: MappingTarget | undefined): unknown {
  if (!target) return text;
  if (target.collection)
    return text
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  if (target.type === 'Edm.Boolean') return text === 'true' ? true : text === 'false' ? false : text;
  if (/^Edm\.(Int|Double|Decimal)/.test(target.type) && text.trim() !== '' && !Number.isNaN(Number(text)))
    return Number(text);
  return text;
}

function makeRule(kind: Kind, text: string, createOnly: boolean, target: MappingTarget | undefined): Rule {
  const applyOn = createOnly ? { applyOn: 'create' as const } : {};
  if (kind === 'source') return { source: text, ...applyOn };
  if (kind === 'expression') return { expression: text, ...applyOn };
  return { constant: typedConstant(text, target), ...applyOn };
}

/** Problems from the API (field `properties.<target>…` or `<target>`) by target property. */
function issuesByTarget(issues: { field: string; message: string }[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const i of issues) {
    const target = i.field
      .replace(/^mapping\./, '')
      .replace(/^properties\./, '')
      .replace(/\.(source|constant|expression|applyOn)$/, '');
    out.set(target, [...(out.get(target) ?? []), i.message]);
  }
  return out;
}

const FUNCTION_HELP: Record<string, string> = {
  lower: 'lower case',
  upper: 'upper case',
  trim: 'without leading and trailing spaces',
  normalizeDiacritics: 'Zoë → Zoe',
  coalesce: 'the first argument that has a value',
  default: 'the value, or a fallback when it has none',
  left: 'the first n characters',
  replace: 'every occurrence of a text replaced',
  concat: 'the arguments joined',
  localPart: 'the part before the last @',
  upnSafe: 'made valid for a userPrincipalName',
  mailNicknameSafe: 'made valid for a mail nickname',
};

export function MappingTab({ connection, canWrite }: TabProps) {
  const id = connection.id;
  const loaded = useLoad(async () => {
    const [answer, metadata, users] = await Promise.all([
      call<{ mapping: Mapping; isDefault: boolean }>('GET', `connections/${id}/mapping`),
      get<Metadata>(`connections/${id}/mapping/metadata`),
      get<UserList>(`connections/${id}/users?limit=200`),
    ]);
    return { ...answer.body, etag: answer.headers.get('etag') ?? undefined, metadata, users: users.value };
  }, [id]);
  const [draft, setDraft] = useState<Mapping | undefined>();
  const [saveIssues, setSaveIssues] = useState<{ field: string; message: string }[]>([]);
  const [previewUser, setPreviewUser] = useState('');
  const [preview, setPreview] = useState<Preview | undefined>();
  const [previewError, setPreviewError] = useState<unknown>();
  const [added, setAdded] = useState({ target: '', kind: 'constant' as Kind, text: '' });
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (loaded.data) setDraft(structuredClone(loaded.data.mapping));
  }, [loaded.data]);
  const targets = useMemo(() => new Map((loaded.data?.metadata.targets ?? []).map((t) => [t.name, t])), [loaded.data]);

  // Live preview: the draft on the chosen user, again after each edit (debounced).
  useEffect(() => {
    if (!draft || !previewUser) return;
    const timer = setTimeout(() => {
      post<Preview>(`connections/${id}/mapping/preview`, { externalId: previewUser, mapping: draft }).then(
        (p) => {
          setPreview(p);
          setPreviewError(undefined);
        },
        (e: unknown) => setPreviewError(e),
      );
    }, 300);
    return () => clearTimeout(timer);
  }, [draft, previewUser, id]);

  const save = useAction(async () => {
    setSaved(false);
    try {
      await call('PUT', `connections/${id}/mapping`, {
        body: draft,
        headers: loaded.data?.etag ? { 'if-match': loaded.data.etag } : {},
      });
      setSaveIssues([]);
      setSaved(true);
      loaded.reload();
    } catch (e) {
      if (e instanceof ApiError && e.problem.errors) setSaveIssues(e.problem.errors);
      throw e;
    }
  });

  if (loaded.error) return <ErrorBox error={loaded.error} />;
  if (!loaded.data || !draft) return <Loading what="the mapping" />;
  const { metadata } = loaded.data;
  const problems = issuesByTarget([...saveIssues, ...(preview?.issues ?? [])]);
  const previewOf = new Map((preview?.properties ?? []).map((p) => [p.property, p]));
  const setRule = (target: string, rule: Rule | undefined) => {
    setSaved(false);
    setDraft((d) => {
      const properties = { ...d!.properties };
      if (rule) properties[target] = rule;
      else delete properties[target];
      return { ...d!, properties };
    });
  };
  const unmapped = metadata.targets.filter((t) => !(t.name in draft.properties));
  return (
    <>
      <h2>Attribute mapping</h2>
      <p>
        Each Microsoft 365 property gets its value from a source attribute, a constant or an expression.
        {loaded.data.isDefault ? ' This is the default mapping (not saved yet).' : ''}
      </p>
      <datalist id="source-attributes">
        {metadata.sourceAttributes.map((a) => (
          <option key={a} value={a} />
        ))}
      </datalist>
      <div class="field">
        <label for="preview-user">Preview on user</label>
        <select id="preview-user" value={previewUser} onChange={(e) => setPreviewUser(e.currentTarget.value)}>
          <option value="">(choose a user to preview the mapping on)</option>
          {loaded.data.users.map((u) => (
            <option key={u.externalId} value={u.externalId}>
              {u.externalId}
              {u.link?.userPrincipalName ? ` (${u.link.userPrincipalName})` : ''}
            </option>
          ))}
        </select>
        <p class="hint">The values update as you edit; nothing is written until you save.</p>
      </div>
      <ErrorBox error={previewError} />
      {preview?.microsoft365Error ? <Banner kind="warning">{preview.microsoft365Error}</Banner> : null}
      {preview && !preview.linked ? (
        <Banner kind="info">
          This user is not linked to a Microsoft 365 account yet: the values are what would be created.
        </Banner>
      ) : null}
      <table class="mapping">
        <caption class="sr-only">Mapping rules</caption>
        <thead>
          <tr>
            <th scope="col">Microsoft 365 property</th>
            <th scope="col">Mapping type</th>
            <th scope="col">Value</th>
            <th scope="col">Create only</th>
            {previewUser ? <th scope="col">Preview</th> : null}
            {previewUser ? <th scope="col">Microsoft 365 now</th> : null}
            {canWrite ? <th scope="col">Actions</th> : null}
          </tr>
        </thead>
        <tbody>
          {Object.entries(draft.properties).map(([target, rule]) => {
            const kind = kindOf(rule);
            const p = previewOf.get(target);
            const safe = target.replace(/[^A-Za-z0-9]/g, '-');
            const errors = problems.get(target);
            return (
              <tr key={target} data-target={target}>
                <th scope="row">
                  {target}
                  {targets.get(target)?.requiredOnCreate ? <span class="muted small"> (required)</span> : null}
                  {errors ? (
                    <ul class="field-error" id={`rule-${safe}-error`}>
                      {errors.map((m) => (
                        <li key={m}>{m}</li>
                      ))}
                    </ul>
                  ) : null}
                </th>
                <td>
                  <select
                    aria-label={`Mapping type of ${target}`}
                    value={kind}
                    disabled={!canWrite}
                    onChange={(e) =>
                      setRule(
                        target,
                        makeRule(
                          e.currentTarget.value as Kind,
                          ruleText(rule),
                          rule.applyOn === 'create',
                          targets.get(target),
                        ),
                      )
                    }
                  >
                    <option value="source">Source attribute</option>
                    <option value="constant">Constant</option>
                    <option value="expression">Expression</option>
                  </select>
                </td>
                <td>
                  <input
                    aria-label={`Value of ${target}`}
                    value={ruleText(rule)}
                    disabled={!canWrite}
                    list={kind === 'source' ? 'source-attributes' : undefined}
                    aria-invalid={errors ? true : undefined}
                    aria-describedby={errors ? `rule-${safe}-error` : undefined}
                    onInput={(e) =>
                      setRule(
                        target,
                        makeRule(kind, e.currentTarget.value, rule.applyOn === 'create', targets.get(target)),
                      )
                    }
                  />
                </td>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Apply ${target} on create only`}
                    checked={rule.applyOn === 'create'}
                    disabled={!canWrite}
                    onChange={(e) =>
                      setRule(target, makeRule(kind, ruleText(rule), e.currentTarget.checked, targets.get(target)))
                    }
                  />
                </td>
                {previewUser ? (
                  <td class="preview-value">
                    {p?.error ? (
                      <span class="field-error">{p.error}</span>
                    ) : p?.unresolved ? (
                      <span class="muted">(no value: an attribute is missing)</span>
                    ) : p ? (
                      <Value value={p.value} />
                    ) : (
                      '…'
                    )}
                  </td>
                ) : null}
                {previewUser ? (
                  <td>
                    {p && 'microsoft365' in p ? <Value value={p.microsoft365} /> : <span class="muted">—</span>}
                    {p?.differs ? <span class="badge status-held"> would change</span> : null}
                  </td>
                ) : null}
                {canWrite ? (
                  <td>
                    <button
                      type="button"
                      class="danger"
                      aria-label={`Remove ${target}`}
                      onClick={() => setRule(target, undefined)}
                    >
                      Remove
                    </button>
                  </td>
                ) : null}
              </tr>
            );
          })}
        </tbody>
      </table>
      {canWrite ? (
        <form
          class="panel"
          aria-label="Add a mapping"
          onSubmit={(e) => {
            e.preventDefault();
            if (!added.target) return;
            setRule(added.target, makeRule(added.kind, added.text, false, targets.get(added.target)));
            setAdded({ target: '', kind: 'constant', text: '' });
          }}
        >
          <h3>Add a mapping</h3>
          <div class="filters">
            <div class="field">
              <label for="add-target">Microsoft 365 property</label>
              <select
                id="add-target"
                value={added.target}
                onChange={(e) => setAdded({ ...added, target: e.currentTarget.value })}
              >
                <option value="">(choose)</option>
                {unmapped.map((t) => (
                  <option key={t.name} value={t.name}>
                    {t.name} ({t.type.replace('Edm.', '')}
                    {t.collection ? ' list' : ''}
                    {t.maxLength ? `, ≤ ${t.maxLength}` : ''})
                  </option>
                ))}
              </select>
            </div>
            <div class="field">
              <label for="add-kind">Mapping type</label>
              <select
                id="add-kind"
                value={added.kind}
                onChange={(e) => setAdded({ ...added, kind: e.currentTarget.value as Kind })}
              >
                <option value="source">Source attribute</option>
                <option value="constant">Constant</option>
                <option value="expression">Expression</option>
              </select>
            </div>
            <div class="field">
              <label for="add-value">Value</label>
              <input
                id="add-value"
                value={added.text}
                list={added.kind === 'source' ? 'source-attributes' : undefined}
                onInput={(e) => setAdded({ ...added, text: e.currentTarget.value })}
              />
            </div>
            <button type="submit">Add mapping</button>
          </div>
        </form>
      ) : null}
      <details>
        <summary>Expression functions</summary>
        <p>
          Templates like <code>{'"{givenName}.{familyName}@{domain}"'}</code>, attribute names and these functions,
          nested:
        </p>
        <ul>
          {metadata.functions.map((f) => (
            <li key={f.name}>
              <code>
                {f.name}({f.minArgs}
                {f.maxArgs === null ? '+' : f.maxArgs !== f.minArgs ? `–${f.maxArgs}` : ''} arguments)
              </code>
              {FUNCTION_HELP[f.name] ? ` — ${FUNCTION_HELP[f.name]}` : ''}
            </li>
          ))}
        </ul>
      </details>
      <ErrorBox error={save.error} />
      {saved ? <Banner kind="success">Mapping saved.</Banner> : null}
      {canWrite ? (
        <div class="actions">
          <button type="button" class="primary" disabled={save.running} onClick={() => void save.run()}>
            Save mapping
          </button>
          <button type="button" onClick={() => loaded.data && setDraft(structuredClone(loaded.data.mapping))}>
            Discard changes
          </button>
        </div>
      ) : null}
    </>
  );
}
