// Provisioning logs: filters (result, action, user, time), paging, export of what the filters select as CSV or JSON.
import { useState } from 'preact/hooks';
import { operationActions, operationResults } from '../../../shared/domain/user-state';
import { get, query } from '../api';
import { href, navigate } from '../router';
import type { LogRecord } from '../types';
import { download, ErrorBox, Loading, StatusBadge, useAction, useLoad, When } from '../ui';
import type { TabProps } from './connection';

/** Records an export reads at most (500 a page). */
const EXPORT_LIMIT = 10_000;
const CSV_COLUMNS = [
  'time',
  'externalId',
  'objectType',
  'action',
  'result',
  'reason',
  'changedProperties',
  'durationMs',
  'operationId',
  'version',
] as const;

const csvCell = (v: unknown): string => {
  const text =
    v === undefined || v === null
      ? ''
      : Array.isArray(v)
        ? v.join(' ')
        : typeof v === 'object'
          ? JSON.stringify(v)
          : String(v);
  // Quoted always; a leading = + - @ is prefixed so a spreadsheet never runs it as a formula.
  return `"${(/^[=+\-@]/.test(text) ? `'${text}` : text).replaceAll('"', '""')}"`;
};

export function toCsv(records: LogRecord[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of records) lines.push(CSV_COLUMNS.map((c) => csvCell(r[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** Log records as a table: when, who, what, the outcome and why. */
export function LogTable({
  connectionId,
  records,
  label,
}: {
  connectionId: string;
  records: LogRecord[];
  label: string;
}) {
  return (
    <table aria-label={label}>
      <thead>
        <tr>
          <th scope="col">Time</th>
          <th scope="col">User</th>
          <th scope="col">Action</th>
          <th scope="col">Result</th>
          <th scope="col">Details</th>
        </tr>
      </thead>
      <tbody>
        {records.map((r) => (
          <tr key={`${r.operationId}-${r.time}`}>
            <td>
              <When at={r.time} />
            </td>
            <td>
              <a href={href('connections', connectionId, 'users', r.externalId)}>{r.externalId}</a>
              {r.objectType === 'group' ? ' (group)' : ''}
            </td>
            <td>{r.action}</td>
            <td>
              <StatusBadge status={r.result} />
            </td>
            <td>
              {r.reason ?? ''}
              {r.error ? ` ${r.error.code}: ${r.error.message}` : ''}
              {r.changedProperties.length ? ` changed ${r.changedProperties.join(', ')}` : ''}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** datetime-local (local time) → ISO 8601 with offset, as the API wants. */
const isoOf = (local: string) => (local ? new Date(local).toISOString() : '');

export function LogsTab({ connection, params }: TabProps) {
  const filters = {
    result: params.get('result') ?? '',
    action: params.get('action') ?? '',
    externalId: params.get('externalId') ?? '',
    since: params.get('since') ?? '',
    until: params.get('until') ?? '',
  };
  const [form, setForm] = useState(filters);
  const [pages, setPages] = useState<string[]>([]);
  const continuation = pages.at(-1);
  const key = JSON.stringify(filters);
  const q = { ...filters, since: isoOf(filters.since), until: isoOf(filters.until) };
  const logs = useLoad(
    () =>
      get<{ value: LogRecord[]; continuation: string | null }>(
        `connections/${connection.id}/logs${query({ ...q, limit: 50, continuation })}`,
      ),
    [connection.id, key, continuation],
  );
  const exporter = useAction(async (format: 'csv' | 'json') => {
    const all: LogRecord[] = [];
    let next: string | undefined;
    do {
      const page = await get<{ value: LogRecord[]; continuation: string | null }>(
        `connections/${connection.id}/logs${query({ ...q, limit: 500, continuation: next })}`,
      );
      all.push(...page.value);
      next = page.continuation ?? undefined;
    } while (next && all.length < EXPORT_LIMIT);
    const name = `provisioning-log-${connection.name.replace(/[^A-Za-z0-9]+/g, '-')}`;
    if (format === 'csv') download(`${name}.csv`, 'text/csv', toCsv(all));
    else download(`${name}.json`, 'application/json', JSON.stringify(all, null, 2));
    return all.length;
  });
  return (
    <>
      <form
        class="filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setPages([]);
          const p = new URLSearchParams(Object.entries(form).filter(([, v]) => v));
          navigate(`${href('connections', connection.id, 'logs')}${p.size ? `?${p.toString()}` : ''}`);
        }}
      >
        <div class="field">
          <label for="log-result">Result</label>
          <select
            id="log-result"
            value={form.result}
            onChange={(e) => setForm({ ...form, result: e.currentTarget.value })}
          >
            <option value="">Any</option>
            {operationResults.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="log-action">Action</label>
          <select
            id="log-action"
            value={form.action}
            onChange={(e) => setForm({ ...form, action: e.currentTarget.value })}
          >
            <option value="">Any</option>
            {operationActions.map((a) => (
              <option key={a}>{a}</option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="log-user">User (external ID)</label>
          <input
            id="log-user"
            value={form.externalId}
            onInput={(e) => setForm({ ...form, externalId: e.currentTarget.value })}
          />
        </div>
        <div class="field">
          <label for="log-since">From</label>
          <input
            id="log-since"
            type="datetime-local"
            value={form.since}
            onInput={(e) => setForm({ ...form, since: e.currentTarget.value })}
          />
        </div>
        <div class="field">
          <label for="log-until">To</label>
          <input
            id="log-until"
            type="datetime-local"
            value={form.until}
            onInput={(e) => setForm({ ...form, until: e.currentTarget.value })}
          />
        </div>
        <button type="submit">Apply filters</button>
      </form>
      <div class="actions">
        <button type="button" disabled={exporter.running} onClick={() => void exporter.run('csv')}>
          Export CSV
        </button>
        <button type="button" disabled={exporter.running} onClick={() => void exporter.run('json')}>
          Export JSON
        </button>
        {exporter.result !== undefined ? <span role="status">{exporter.result} records exported.</span> : null}
      </div>
      <ErrorBox error={logs.error ?? exporter.error} />
      {logs.loading && !logs.data ? <Loading what="the log" /> : null}
      {logs.data ? <LogTable connectionId={connection.id} records={logs.data.value} label="Provisioning log" /> : null}
      {logs.data && logs.data.value.length === 0 ? <p>No log record matches.</p> : null}
      <div class="actions">
        {pages.length > 0 ? (
          <button type="button" onClick={() => setPages(pages.slice(0, -1))}>
            Newer records
          </button>
        ) : null}
        {logs.data?.continuation ? (
          <button type="button" onClick={() => setPages([...pages, logs.data!.continuation!])}>
            Older records
          </button>
        ) : null}
      </div>
    </>
  );
}
