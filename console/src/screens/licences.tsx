// Licences: the tenant's subscriptions with seats used and free, and the users whose licences this connection
// assigned.
import { get } from '../api';
import { href } from '../router';
import type { LicenceOverview } from '../types';
import { ErrorBox, Loading, useLoad } from '../ui';
import type { TabProps } from './connection';

export function LicencesTab({ connection }: TabProps) {
  const data = useLoad(() => get<LicenceOverview>(`connections/${connection.id}/licences`), [connection.id]);
  if (data.error) return <ErrorBox error={data.error} />;
  if (!data.data) return <Loading what="the licences" />;
  const { skus, licensedUsers, licensedUserCount } = data.data;
  return (
    <>
      <h2>Subscriptions</h2>
      <table>
        <caption class="sr-only">Subscriptions</caption>
        <thead>
          <tr>
            <th scope="col">Product (SKU)</th>
            <th scope="col">Seats</th>
            <th scope="col">Used</th>
            <th scope="col">Free</th>
            <th scope="col">Usage</th>
          </tr>
        </thead>
        <tbody>
          {skus.map((s) => (
            <tr key={s.skuId}>
              <th scope="row">{s.skuPartNumber}</th>
              <td>{s.enabled}</td>
              <td>{s.consumed}</td>
              <td class={s.free === 0 ? 'warning-text' : ''}>{s.free}</td>
              <td>
                <meter
                  min={0}
                  max={Math.max(1, s.enabled)}
                  value={s.consumed}
                  aria-label={`${s.skuPartNumber} seats used`}
                >
                  {s.consumed} of {s.enabled}
                </meter>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Licensed by this connection ({licensedUserCount})</h2>
      {licensedUsers.length ? (
        <table>
          <caption class="sr-only">Users this connection licensed</caption>
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col">Account</th>
              <th scope="col">Licences</th>
            </tr>
          </thead>
          <tbody>
            {licensedUsers.map((u) => (
              <tr key={u.externalId}>
                <th scope="row">
                  <a href={href('connections', connection.id, 'users', u.externalId)}>{u.externalId}</a>
                </th>
                <td>{u.userPrincipalName ?? '—'}</td>
                <td>{u.skus.map((s) => s.skuPartNumber ?? s.skuId).join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p class="muted">This connection has assigned no licence.</p>
      )}
    </>
  );
}
