// Connections: every connection with its status and reason, what needs an admin (quarantine, staged deletions,
// a secret about to expire), its last reconciliation run and its users per status.
import { get } from '../api';
import { href } from '../router';
import type { Connection, Run, UserList } from '../types';
import { ErrorBox, Loading, StatusBadge, useLoad, When } from '../ui';

const secretWarning = (c: Connection) =>
  c.lastTest?.checks.find((check) => check.name === 'clientSecretExpiry' && (!check.ok || check.warning));

/** The banners a connection raises, each with the action that settles it. */
export function ConnectionBanners({ c }: { c: Connection }) {
  const secret = secretWarning(c);
  return (
    <>
      {c.quarantine ? (
        <div class="banner error" role="alert">
          <strong>Quarantined</strong> since <When at={c.quarantine.since} />: {c.quarantine.reason}.{' '}
          <a href={href('connections', c.id)}>Test the connection</a> to lift it.
        </div>
      ) : null}
      {c.stagedOperations ? (
        <div class="banner warning" role="status">
          <strong>{c.stagedOperations.count} staged deletion(s)</strong> await a decision (held by the
          accidental-deletion threshold).{' '}
          <a href={href('connections', c.id, 'reconciliation')}>Review staged deletions</a>
        </div>
      ) : null}
      {secret ? (
        <div class="banner warning" role="status">
          <strong>Client secret</strong>: {secret.detail}
        </div>
      ) : null}
    </>
  );
}

function ConnectionRow({ c }: { c: Connection }) {
  const extra = useLoad(async () => {
    const [runs, users] = await Promise.all([
      get<{ value: Run[] }>(`connections/${c.id}/runs?limit=1`),
      get<UserList>(`connections/${c.id}/users?limit=1`),
    ]);
    return { run: runs.value[0], counts: users.counts };
  }, [c.id]);
  const counts = extra.data?.counts;
  return (
    <tr>
      <th scope="row">
        <a href={href('connections', c.id)}>{c.name}</a>
        <div class="muted small">{c.domain}</div>
      </th>
      <td>
        <StatusBadge status={c.status} />
        {c.statusReason ? <div class="small">{c.statusReason}</div> : null}
        {c.quarantine ? <div class="small warning-text">quarantined</div> : null}
        {c.stagedOperations ? (
          <div class="small warning-text">
            <a href={href('connections', c.id, 'reconciliation')}>{c.stagedOperations.count} staged</a>
          </div>
        ) : null}
        {secretWarning(c) ? <div class="small warning-text">secret expiring</div> : null}
      </td>
      <td>
        {extra.data?.run ? (
          <>
            <StatusBadge status={extra.data.run.status} />{' '}
            <When at={extra.data.run.endedAt ?? extra.data.run.requestedAt} />
          </>
        ) : (
          <span class="muted">{extra.loading ? '…' : 'none yet'}</span>
        )}
      </td>
      <td>
        {counts ? (
          <span class="counts">
            {Object.entries(counts)
              .filter(([k, v]) => k !== 'total' && v > 0)
              .map(([k, v]) => `${v} ${k}`)
              .join(', ') || 'no users'}{' '}
            <span class="muted">({counts.total ?? 0} in all)</span>
          </span>
        ) : (
          <span class="muted">…</span>
        )}
      </td>
    </tr>
  );
}

export function ConnectionsScreen({ canWrite }: { canWrite: boolean }) {
  const list = useLoad(() => get<{ value: Connection[] }>('connections'), []);
  return (
    <section>
      <div class="title-row">
        <h1>Connections</h1>
        {canWrite ? (
          <a class="button primary" href={href('connections', 'new')}>
            New connection
          </a>
        ) : null}
      </div>
      <ErrorBox error={list.error} />
      {list.data?.value.map((c) => (
        <ConnectionBanners key={c.id} c={c} />
      ))}
      {list.loading && !list.data ? <Loading what="connections" /> : null}
      {list.data && list.data.value.length === 0 ? (
        <p>No connection yet. A connection is one Microsoft 365 tenant this service provisions.</p>
      ) : null}
      {list.data && list.data.value.length > 0 ? (
        <table>
          <caption class="sr-only">Connections</caption>
          <thead>
            <tr>
              <th scope="col">Connection</th>
              <th scope="col">Status</th>
              <th scope="col">Last run</th>
              <th scope="col">Users</th>
            </tr>
          </thead>
          <tbody>
            {list.data.value.map((c) => (
              <ConnectionRow key={c.id} c={c} />
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
