// Import from Microsoft 365 (Zoho's step 14): the four lists with their counts, each row's differences, checkboxes,
// Confirm, and what happened to each selected user.
import { useState } from 'preact/hooks';
import { get, post, query } from '../api';
import type { ImportEntry } from '../types';
import { Banner, ErrorBox, Loading, StatusBadge, useAction, useLoad, Value } from '../ui';
import type { TabProps } from './connection';

const LISTS = [
  { id: 'new', title: 'New', help: 'Accounts no directory user matches: imported as linked directory users' },
  { id: 'update', title: 'Update', help: 'Both exist and mapped values differ: choose which side wins' },
  { id: 'activate', title: 'Activate', help: 'Inactive in the directory, enabled in Microsoft 365' },
  { id: 'deactivate', title: 'Deactivate', help: 'Active in the directory, disabled in Microsoft 365' },
] as const;
type ListId = (typeof LISTS)[number]['id'];

type Entry = ImportEntry;
interface Preview {
  counts: Record<ListId, number>;
  lists: Partial<Record<ListId, Entry[]>>;
}
interface Result {
  list: string;
  objectId?: string;
  externalId?: string;
  result: string;
  detail: string;
}

/** A row's key in its list: the account for `new`, the directory user otherwise. */
const keyOf = (list: ListId, e: Entry) => (list === 'new' ? e.account.objectId : e.externalId!);

export function ImportTab({ connection, canWrite }: TabProps) {
  const preview = useLoad(
    () => get<Preview>(`connections/${connection.id}/import${query({ limit: 200 })}`),
    [connection.id],
  );
  const [selected, setSelected] = useState<Record<ListId, Set<string>>>({
    new: new Set(),
    update: new Set(),
    activate: new Set(),
    deactivate: new Set(),
  });
  const [updateSource, setUpdateSource] = useState<Record<string, 'directory' | 'microsoft365'>>({});
  const confirm = useAction(async () => {
    const body = {
      new: [...selected.new].map((objectId) => ({ objectId })),
      update: [...selected.update].map((externalId) => ({
        externalId,
        source: updateSource[externalId] ?? 'directory',
      })),
      activate: [...selected.activate],
      deactivate: [...selected.deactivate],
    };
    const answer = await post<{ summary: Record<string, number>; results: Result[] }>(
      `connections/${connection.id}/import`,
      body,
    );
    setSelected({ new: new Set(), update: new Set(), activate: new Set(), deactivate: new Set() });
    preview.reload();
    return answer;
  });
  const toggle = (list: ListId, key: string, on: boolean) =>
    setSelected((s) => {
      const next = new Set(s[list]);
      if (on) next.add(key);
      else next.delete(key);
      return { ...s, [list]: next };
    });
  const total = Object.values(selected).reduce((n, s) => n + s.size, 0);
  if (preview.error) return <ErrorBox error={preview.error} />;
  if (!preview.data) return <Loading what="the accounts in Microsoft 365 (the whole tenant is read)" />;
  const data = preview.data;
  return (
    <>
      <p>
        Every Microsoft 365 account matched to this connection's directory users. Choose what to import, then Confirm.
      </p>
      {LISTS.map((l) => {
        const entries = data.lists[l.id] ?? [];
        return (
          <section key={l.id} aria-labelledby={`import-${l.id}`}>
            <h2 id={`import-${l.id}`}>
              {l.title} ({data.counts[l.id]})
            </h2>
            <p class="hint">{l.help}</p>
            {entries.length ? (
              <table>
                <thead>
                  <tr>
                    <th scope="col">Select</th>
                    <th scope="col">Microsoft 365 account</th>
                    <th scope="col">Directory user</th>
                    <th scope="col">Differences</th>
                    {l.id === 'update' ? <th scope="col">Keep</th> : null}
                  </tr>
                </thead>
                <tbody>
                  {entries.map((e) => {
                    const key = keyOf(l.id, e);
                    const name = e.account.userPrincipalName ?? e.account.objectId;
                    return (
                      <tr key={key}>
                        <td>
                          <input
                            type="checkbox"
                            aria-label={`Select ${name} (${l.title})`}
                            disabled={!canWrite}
                            checked={selected[l.id].has(key)}
                            onChange={(ev) => toggle(l.id, key, ev.currentTarget.checked)}
                          />
                        </td>
                        <th scope="row">
                          {name}
                          {e.account.displayName ? <div class="muted small">{e.account.displayName}</div> : null}
                        </th>
                        <td>{e.externalId ?? <span class="muted">(new)</span>}</td>
                        <td>
                          {e.differences?.length ? (
                            <ul>
                              {e.differences.map((d) => (
                                <li key={d.property}>
                                  {d.property}: directory <Value value={d.directory} />, Microsoft 365{' '}
                                  <Value value={d.microsoft365} />
                                </li>
                              ))}
                            </ul>
                          ) : e.wouldChange?.length ? (
                            `would still change: ${e.wouldChange.join(', ')}`
                          ) : (
                            <span class="muted">—</span>
                          )}
                        </td>
                        {l.id === 'update' ? (
                          <td>
                            <select
                              aria-label={`Which side wins for ${name}`}
                              value={updateSource[key] ?? 'directory'}
                              onChange={(ev) =>
                                setUpdateSource({
                                  ...updateSource,
                                  [key]: ev.currentTarget.value as 'directory' | 'microsoft365',
                                })
                              }
                            >
                              <option value="directory">Directory (update Microsoft 365)</option>
                              <option value="microsoft365">Microsoft 365 (update the directory)</option>
                            </select>
                          </td>
                        ) : null}
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            ) : (
              <p class="muted">Nothing in this list.</p>
            )}
            {data.counts[l.id] > entries.length ? (
              <p class="hint">
                Showing the first {entries.length} of {data.counts[l.id]}.
              </p>
            ) : null}
          </section>
        );
      })}
      {canWrite ? (
        <div class="actions">
          <button
            type="button"
            class="primary"
            disabled={total === 0 || confirm.running}
            onClick={() => void confirm.run()}
          >
            Confirm ({total} selected)
          </button>
        </div>
      ) : null}
      <ErrorBox error={confirm.error} />
      {confirm.result ? (
        <>
          <Banner kind="success">
            Import done:{' '}
            {Object.entries(confirm.result.summary)
              .map(([k, v]) => `${v} ${k}`)
              .join(', ')}
            .
          </Banner>
          <table aria-label="Import results">
            <thead>
              <tr>
                <th scope="col">List</th>
                <th scope="col">User</th>
                <th scope="col">Result</th>
                <th scope="col">Detail</th>
              </tr>
            </thead>
            <tbody>
              {confirm.result.results.map((r, i) => (
                <tr key={i}>
                  <td>{r.list}</td>
                  <td>{r.externalId ?? r.objectId}</td>
                  <td>
                    <StatusBadge status={r.result} />
                  </td>
                  <td>{r.detail}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </>
  );
}
