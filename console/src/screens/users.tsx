// Users (and groups): the list with status filters, search and paging; a user's detail with the desired state next
// to what Microsoft 365 holds (the saved mapping previewed on the user), its history, Provision on demand with the
// step trace, retry, unlink and re-match.
import { useState } from 'preact/hooks';
import { userStatuses } from '../../../shared/domain/user-state';
import { get, post, query } from '../api';
import { href, navigate } from '../router';
import type { LogRecord, Outcome, PreviewedProperty, UserList, UserView } from '../types';
import { Banner, ErrorBox, Loading, StatusBadge, useAction, useLoad, Value, When } from '../ui';
import type { TabProps } from './connection';
import { LogTable } from './logs';

interface Preview {
  linked: { objectId: string } | null;
  microsoft365Error?: string;
  properties: PreviewedProperty[];
}

function UsersList({ connection, params }: TabProps) {
  const kind = params.get('kind') === 'groups' ? 'groups' : 'users';
  const status = params.get('status') ?? '';
  const q = params.get('q') ?? '';
  const [search, setSearch] = useState(q);
  const [pages, setPages] = useState<string[]>([]);
  const continuation = pages.at(-1);
  const list = useLoad(
    () => get<UserList>(`connections/${connection.id}/${kind}${query({ status, q, limit: 50, continuation })}`),
    [connection.id, kind, status, q, continuation],
  );
  const go = (next: Record<string, string>) => {
    setPages([]);
    const p = new URLSearchParams({ kind, status, q, ...next });
    for (const [k, v] of [...p]) if (!v || (k === 'kind' && v === 'users')) p.delete(k);
    const s = p.toString();
    navigate(`${href('connections', connection.id, 'users')}${s ? `?${s}` : ''}`);
  };
  const counts = list.data?.counts;
  return (
    <>
      <div class="filters" role="search">
        <div class="field">
          <label for="list-kind">Show</label>
          <select id="list-kind" value={kind} onChange={(e) => go({ kind: e.currentTarget.value })}>
            <option value="users">Users</option>
            <option value="groups">Groups</option>
          </select>
        </div>
        <div class="field">
          <label for="status-filter">Status</label>
          <select id="status-filter" value={status} onChange={(e) => go({ status: e.currentTarget.value })}>
            <option value="">All{counts ? ` (${counts.total ?? 0})` : ''}</option>
            {userStatuses.map((s) => (
              <option key={s} value={s}>
                {s}
                {counts ? ` (${counts[s]})` : ''}
              </option>
            ))}
          </select>
        </div>
        <form
          class="filters"
          onSubmit={(e) => {
            e.preventDefault();
            go({ q: search });
          }}
        >
          <div class="field">
            <label for="user-search">Search (id, UPN or name)</label>
            <input id="user-search" type="search" value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
          </div>
          <button type="submit">Search</button>
        </form>
      </div>
      <ErrorBox error={list.error} />
      {list.loading && !list.data ? <Loading what={kind} /> : null}
      {list.data ? (
        <table>
          <caption class="sr-only">{kind}</caption>
          <thead>
            <tr>
              <th scope="col">External ID</th>
              <th scope="col">Status</th>
              <th scope="col">Microsoft 365 account</th>
              <th scope="col">In sync</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {list.data.value.map((u) => (
              <tr key={u.externalId}>
                <th scope="row">
                  <a
                    href={`${href('connections', connection.id, 'users', u.externalId)}${kind === 'groups' ? '?kind=groups' : ''}`}
                  >
                    {u.externalId}
                  </a>
                </th>
                <td>
                  <StatusBadge status={u.status} />
                </td>
                <td>
                  {u.link ? (u.link.userPrincipalName ?? u.link.objectId) : <span class="muted">not linked</span>}
                </td>
                <td>{u.inSync ? 'yes' : 'no'}</td>
                <td>
                  <When at={u.updatedAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {list.data && list.data.value.length === 0 ? <p>No {kind} on this page.</p> : null}
      <div class="actions">
        {pages.length > 0 ? (
          <button type="button" onClick={() => setPages(pages.slice(0, -1))}>
            Previous page
          </button>
        ) : null}
        {list.data?.continuation ? (
          <button type="button" onClick={() => setPages([...pages, list.data!.continuation!])}>
            Next page
          </button>
        ) : null}
      </div>
    </>
  );
}

export function Trace({ outcome }: { outcome: Outcome }) {
  return (
    <section aria-label="Provisioning steps" class="panel">
      <p>
        <StatusBadge status={outcome.result} /> {outcome.action}
        {outcome.reason ? ` — ${outcome.reason}` : ''}
        {outcome.error ? ` — ${outcome.error.code}: ${outcome.error.message}` : ''}
      </p>
      <ol class="trace">
        {outcome.trace.map((s, i) => (
          <li key={i}>
            <strong>{s.step}</strong>: {s.detail}
          </li>
        ))}
      </ol>
      {outcome.changedProperties.length ? <p>Changed: {outcome.changedProperties.join(', ')}</p> : null}
    </section>
  );
}

function UserDetail({ connection, rest, params, canWrite }: TabProps) {
  const externalId = rest[0]!;
  const kind = params.get('kind') === 'groups' ? 'groups' : 'users';
  const base = `connections/${connection.id}/${kind}/${encodeURIComponent(externalId)}`;
  const user = useLoad(() => get<UserView>(base), [base]);
  const side = useLoad(
    () =>
      kind === 'users'
        ? post<Preview>(`connections/${connection.id}/mapping/preview`, { externalId })
        : Promise.resolve(undefined),
    [connection.id, externalId, kind],
  );
  const history = useLoad(
    () => get<{ value: LogRecord[] }>(`connections/${connection.id}/logs${query({ externalId, limit: 20 })}`),
    [connection.id, externalId],
  );
  const reloadAll = () => {
    user.reload();
    side.reload();
    history.reload();
  };
  const provision = useAction(async () => {
    const outcome = await post<Outcome>(`${base}/provision`);
    reloadAll();
    return outcome;
  });
  const [rematchTo, setRematchTo] = useState('');
  const act = useAction(async (what: 'retry' | 'unlink' | 'rematch') => {
    // Re-match links the account an admin names, else runs the matching rules.
    const body = what === 'rematch' && rematchTo.trim() ? { objectId: rematchTo.trim() } : undefined;
    const answer = await post<Outcome | UserView>(`${base}/${what}`, body);
    reloadAll();
    return { what, answer };
  });
  const u = user.data;
  return (
    <>
      <p>
        <a href={`${href('connections', connection.id, 'users')}${kind === 'groups' ? '?kind=groups' : ''}`}>
          ← All {kind}
        </a>
      </p>
      <h2>{externalId}</h2>
      <ErrorBox error={user.error} />
      {u ? (
        <dl class="facts">
          <dt>Status</dt>
          <dd>
            <StatusBadge status={u.status} /> {u.statusReason ?? ''}
          </dd>
          <dt>In sync</dt>
          <dd>{u.inSync ? 'yes' : 'no'}</dd>
          <dt>Microsoft 365 account</dt>
          <dd>{u.link ? `${u.link.userPrincipalName ?? ''} (${u.link.objectId})` : 'not linked'}</dd>
          <dt>Lifecycle</dt>
          <dd>{u.desired?.lifecycle?.state ?? '—'}</dd>
          <dt>Last error</dt>
          <dd>{u.lastError ? `${u.lastError.code}: ${u.lastError.message}` : 'none'}</dd>
          {u.blockedBy ? (
            <>
              <dt>Held back by policy</dt>
              <dd>{u.blockedBy.map((b) => `${b.setting}: ${b.properties.join(', ')}`).join('; ')}</dd>
            </>
          ) : null}
        </dl>
      ) : null}
      {canWrite && u ? (
        <div class="actions">
          <button type="button" class="primary" disabled={provision.running} onClick={() => void provision.run()}>
            {provision.running ? 'Provisioning…' : 'Provision on demand'}
          </button>
          <button type="button" disabled={act.running} onClick={() => void act.run('retry')}>
            Retry
          </button>
          {kind === 'users' && u.link ? (
            <button type="button" disabled={act.running} onClick={() => void act.run('unlink')}>
              Unlink
            </button>
          ) : null}
          {kind === 'users' ? (
            <>
              <label for="rematch-object-id">Account object ID to link (optional)</label>
              <input
                id="rematch-object-id"
                value={rematchTo}
                onInput={(e) => setRematchTo(e.currentTarget.value)}
                size={38}
              />
              <button type="button" disabled={act.running} onClick={() => void act.run('rematch')}>
                Re-match
              </button>
            </>
          ) : null}
        </div>
      ) : null}
      <ErrorBox error={provision.error ?? act.error} />
      {act.result ? <Banner kind="success">{act.result.what} done.</Banner> : null}
      {provision.result ? (
        <>
          <h3>Provision on demand</h3>
          <Trace outcome={provision.result} />
        </>
      ) : null}
      {act.result && 'trace' in act.result.answer ? <Trace outcome={act.result.answer} /> : null}
      <h3>Desired state and Microsoft 365</h3>
      {kind === 'users' ? (
        side.data ? (
          <>
            {side.data.microsoft365Error ? <Banner kind="warning">{side.data.microsoft365Error}</Banner> : null}
            <table aria-label="Desired and Microsoft 365 values">
              <thead>
                <tr>
                  <th scope="col">Property</th>
                  <th scope="col">Desired (mapped)</th>
                  <th scope="col">Microsoft 365</th>
                </tr>
              </thead>
              <tbody>
                {side.data.properties.map((p) => (
                  <tr key={p.property} class={p.differs ? 'differs' : ''}>
                    <th scope="row">{p.property}</th>
                    <td>
                      {p.error ? (
                        p.error
                      ) : p.unresolved ? (
                        <span class="muted">(no value)</span>
                      ) : (
                        <Value value={p.value} />
                      )}
                    </td>
                    <td>
                      {'microsoft365' in p ? <Value value={p.microsoft365} /> : <span class="muted">—</span>}
                      {p.differs ? <span class="badge status-held">differs</span> : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        ) : (
          <ErrorBox error={side.error} />
        )
      ) : u?.desired?.profile ? (
        <pre>{JSON.stringify(u.desired.profile.attributes, null, 2)}</pre>
      ) : null}
      <h3>History</h3>
      <ErrorBox error={history.error} />
      {history.data ? <LogTable connectionId={connection.id} records={history.data.value} label="History" /> : null}
      <p>
        <a href={`${href('connections', connection.id, 'logs')}?externalId=${encodeURIComponent(externalId)}`}>
          All log records of {externalId}
        </a>
      </p>
    </>
  );
}

export function UsersTab(props: TabProps) {
  return props.rest.length > 0 ? <UserDetail {...props} /> : <UsersList {...props} />;
}
