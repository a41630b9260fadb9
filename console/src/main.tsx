// The admin console: a single-page app served by the Functions app (GET /api/console/), calling the same HTTP API.
import './style.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { type Me, whoAmI } from './api';
import { isSignedIn, onAuthChange, signIn, signOut } from './auth';
import { href, useRoute } from './router';
import { ConnectionScreen, overviewTab, type Tab } from './screens/connection';
import { ConnectionsScreen } from './screens/connections';
import { ImportTab } from './screens/import';
import { LicencesTab } from './screens/licences';
import { LogsTab } from './screens/logs';
import { MappingTab } from './screens/mapping';
import { NewConnectionScreen } from './screens/new-connection';
import { ReconciliationTab } from './screens/reconciliation';
import { SettingsTab } from './screens/settings';
import { UsersTab } from './screens/users';
import { ErrorBox } from './ui';

/** The pages of a connection, in the order of the issue. */
const tabs: Tab[] = [
  overviewTab,
  { id: 'mapping', label: 'Mapping', render: (p) => <MappingTab {...p} /> },
  { id: 'settings', label: 'Settings', render: (p) => <SettingsTab {...p} /> },
  { id: 'users', label: 'Users and groups', render: (p) => <UsersTab {...p} /> },
  { id: 'logs', label: 'Logs', render: (p) => <LogsTab {...p} /> },
  { id: 'import', label: 'Import', render: (p) => <ImportTab {...p} /> },
  { id: 'reconciliation', label: 'Reconciliation', render: (p) => <ReconciliationTab {...p} /> },
  { id: 'licences', label: 'Licences', render: (p) => <LicencesTab {...p} /> },
];

function SignIn() {
  const [key, setKey] = useState('');
  return (
    <main id="main" class="signin">
      <h1>Sign in to the provisioning console</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (key.trim()) signIn(key.trim());
        }}
      >
        <label for="function-key">Function key</label>
        <input
          id="function-key"
          type="password"
          autoComplete="off"
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
          required
        />
        <p class="hint" id="function-key-hint">
          Locally, the key <code>npm start</code> printed. It is kept in this tab only and forgotten when the tab
          closes.
        </p>
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}

function App() {
  const [signedIn, setSignedIn] = useState(isSignedIn());
  const [me, setMe] = useState<Me | undefined>();
  const [meError, setMeError] = useState<unknown>();
  const route = useRoute();
  useEffect(() => onAuthChange(() => setSignedIn(isSignedIn())), []);
  useEffect(() => {
    if (!signedIn) return;
    whoAmI().then(setMe, setMeError);
  }, [signedIn]);
  if (!signedIn) return <SignIn />;
  const [first, id, ...rest] = route.path;
  let screen;
  if (!me) screen = meError ? <ErrorBox error={meError} /> : <p role="status">Signing in…</p>;
  else if (first === 'connections' && id === 'new') screen = <NewConnectionScreen canWrite={me.canWrite} />;
  else if (first === 'connections' && id)
    screen = <ConnectionScreen id={id} tab={rest} tabs={tabs} params={route.params} canWrite={me.canWrite} />;
  else screen = <ConnectionsScreen canWrite={me.canWrite} />;
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={href('connections')}>
          M365 provisioner
        </a>
        <span class="who">{me ? (me.canWrite ? 'Administrator' : 'Read-only') : ''}</span>
        <button type="button" class="link" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {screen}
      </main>
    </>
  );
}

const root = document.getElementById('app')!;
root.textContent = ''; // the "Loading" placeholder of index.html
render(<App />, root);
