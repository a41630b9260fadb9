// One connection: its tabs (each one a URL) and the overview — details, banners, Test connection with each check
// and what to do, Authorize / admin consent (a round trip through the tenant's consent page that comes back here),
// and editing the credentials.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { call, get, patch, post } from '../api';
import { href } from '../router';
import type { Connection, TestCheck, TestResult } from '../types';
import { Banner, ErrorBox, Loading, StatusBadge, useAction, useLoad, When } from '../ui';
import { ConnectionBanners } from './connections';
import { TextField } from './new-connection';

export interface TabProps {
  connection: Connection;
  reloadConnection: () => void;
  params: URLSearchParams;
  rest: string[];
  canWrite: boolean;
}

/** A page of a connection: its URL segment (`''` for the overview), its name and what it shows. */
export interface Tab {
  id: string;
  label: string;
  render: (p: TabProps) => ComponentChildren;
}

export const overviewTab: Tab = { id: '', label: 'Overview', render: (p) => <Overview {...p} /> };

/** What an admin does about a failed check. */
const remedy: Record<string, string> = {
  token:
    'Check the tenant ID, client ID and secret (Edit credentials below); an authorization_code connection must be authorized first.',
  permissions:
    'Add the missing Microsoft Graph application permissions to the app registration, then grant admin consent.',
  verifiedDomain: 'Use a domain the tenant has verified (Entra admin center → Custom domain names).',
  readUsers: 'Grant User.ReadWrite.All and admin consent.',
  clientSecretExpiry: 'Create a new client secret on the app registration and enter it under Edit credentials.',
  groupLicensing: 'Grant Group.ReadWrite.All, or switch licensingMode back to direct.',
};

export function Checks({ checks }: { checks: TestCheck[] }) {
  return (
    <ul class="checks" aria-label="Connection checks">
      {checks.map((c) => (
        <li key={c.name} class={c.ok ? (c.warning ? 'warn' : 'ok') : 'fail'}>
          <span class="check-mark" aria-hidden="true">
            {c.ok ? (c.warning ? '!' : '✓') : '✗'}
          </span>
          <strong>{c.name}</strong>: {c.ok ? (c.warning ? 'warning' : 'passed') : 'failed'} — {c.detail}
          {!c.ok && remedy[c.name] ? <div class="remedy">What to do: {remedy[c.name]}</div> : null}
        </li>
      ))}
    </ul>
  );
}

function Overview({ connection: c, reloadConnection, canWrite }: TabProps) {
  const [editing, setEditing] = useState(false);
  const [secret, setSecret] = useState('');
  const [clientId, setClientId] = useState(c.clientId);
  const test = useAction(async () => {
    const result = await post<TestResult>(`connections/${c.id}/test`);
    reloadConnection();
    return result;
  });
  const consent = useAction(async (kind: 'authorize' | 'admin-consent') => {
    // The API answers the consent URL as JSON to the console (a fetch cannot follow the 302 across origins);
    // the browser goes there and the callback page brings it back to this screen.
    const answer = await call<{ url: string }>('GET', `connections/${c.id}/${kind}`, {
      headers: { accept: 'application/json' },
    });
    location.assign(answer.body.url);
    return answer.body;
  });
  const save = useAction(async () => {
    const body: Record<string, string> = {};
    if (secret) body.clientSecret = secret;
    if (clientId !== c.clientId) body.clientId = clientId;
    await patch(`connections/${c.id}`, body);
    setEditing(false);
    setSecret('');
    reloadConnection();
  });
  const checks = test.result?.checks ?? c.lastTest?.checks;
  return (
    <>
      <dl class="facts">
        <dt>Status</dt>
        <dd>
          <StatusBadge status={c.status} /> {c.statusReason ?? ''}
        </dd>
        <dt>Domain</dt>
        <dd>{c.domain}</dd>
        <dt>Tenant ID</dt>
        <dd>{c.tenantId}</dd>
        <dt>Client ID</dt>
        <dd>{c.clientId}</dd>
        <dt>Client secret</dt>
        <dd>
          set, last changed <When at={c.clientSecret.updatedAt} />
        </dd>
        <dt>Sign-in</dt>
        <dd>
          {c.authMode === 'authorization_code' ? 'Delegated (authorization code)' : 'Application permissions'} ·{' '}
          {c.cloud}
        </dd>
        <dt>Authorization</dt>
        <dd>
          {c.authorization.status}
          {c.adminConsent ? (
            <>
              {' '}
              · admin consent granted <When at={c.adminConsent.at} />
            </>
          ) : null}
        </dd>
      </dl>
      {c.lastAuthorizationError ? (
        <Banner kind="error">
          Last authorization failed: {c.lastAuthorizationError.error} — {c.lastAuthorizationError.description}
        </Banner>
      ) : null}
      {canWrite ? (
        <div class="actions">
          <button type="button" class="primary" onClick={() => void test.run()} disabled={test.running}>
            {test.running ? 'Testing…' : 'Test connection'}
          </button>
          {c.authMode === 'authorization_code' ? (
            <button type="button" onClick={() => void consent.run('authorize')} disabled={consent.running}>
              Authorize
            </button>
          ) : (
            <button type="button" onClick={() => void consent.run('admin-consent')} disabled={consent.running}>
              Grant admin consent
            </button>
          )}
          <button type="button" onClick={() => setEditing(!editing)} aria-expanded={editing}>
            Edit credentials
          </button>
          <a class="button" href={href('connections', c.id, 'mapping')}>
            Next: mapping
          </a>
        </div>
      ) : null}
      <ErrorBox error={test.error ?? consent.error} />
      {editing ? (
        <form
          class="panel"
          aria-label="Edit credentials"
          onSubmit={(e) => {
            e.preventDefault();
            void save.run();
          }}
        >
          <TextField id="edit-clientId" label="Application (client) ID" value={clientId} onInput={setClientId} />
          <TextField
            id="edit-clientSecret"
            label="New client secret"
            type="password"
            hint="Leave empty to keep the current one. A new secret sends the connection back to draft: test it again."
            value={secret}
            onInput={setSecret}
          />
          <ErrorBox error={save.error} />
          <button type="submit" class="primary" disabled={save.running}>
            Save credentials
          </button>
        </form>
      ) : null}
      <h2>Test connection</h2>
      {test.result ? (
        <Banner kind={test.result.ok ? 'success' : 'error'}>
          {test.result.ok ? 'All checks passed' : 'Some checks failed'}: the connection is now {test.result.status}.
        </Banner>
      ) : c.lastTest ? (
        <p>
          Last tested <When at={c.lastTest.testedAt} />: {c.lastTest.ok ? 'passed' : 'failed'}.
        </p>
      ) : (
        <p>Not tested yet.</p>
      )}
      {checks ? <Checks checks={checks} /> : null}
    </>
  );
}

export function ConnectionScreen(props: {
  id: string;
  tab: string[];
  tabs: Tab[];
  params: URLSearchParams;
  canWrite: boolean;
}) {
  const connection = useLoad(() => get<Connection>(`connections/${props.id}`), [props.id]);
  const [tabId = '', ...rest] = props.tab;
  const tab = props.tabs.find((t) => t.id === tabId);
  const c = connection.data;
  return (
    <section>
      <p class="crumbs">
        <a href={href('connections')}>Connections</a> ›
      </p>
      <h1>{c ? c.name : 'Connection'}</h1>
      <ErrorBox error={connection.error} />
      {c ? <ConnectionBanners c={c} /> : null}
      <nav aria-label="Connection">
        <ul class="tabs">
          {props.tabs.map((t) => (
            <li key={t.id}>
              <a
                href={t.id ? href('connections', props.id, t.id) : href('connections', props.id)}
                aria-current={t.id === tabId ? 'page' : undefined}
              >
                {t.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {!c && connection.loading ? <Loading what="the connection" /> : null}
      {c && tab
        ? tab.render({
            connection: c,
            reloadConnection: connection.reload,
            params: props.params,
            rest,
            canWrite: props.canWrite,
          })
        : null}
      {c && !tab ? <p>No such page. Choose one of the tabs above.</p> : null}
    </section>
  );
}
