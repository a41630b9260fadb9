// The admin console: a single-page app served by the Functions app (GET /api/console/), calling the same HTTP API.
import './style.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, type Me, whoAmI } from './api';
import {
  type AuthMode,
  authMode,
  initAuth,
  isSignedIn,
  onAuthChange,
  signInWithEntraId,
  signInWithKey,
  signOut,
} from './auth';
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

function FunctionKeySignIn() {
  const [key, setKey] = useState('');
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        if (key.trim()) signInWithKey(key.trim());
      }}
    >
      <label for="function-key">Function key</label>
      <input
        id="function-key"
        type="password"
        autoComplete="off"
        value={key}
        onInput={(e) => setKey(e.currentTarget.value)}
        aria-describedby="function-key-hint"
        required
      />
      <p class="hint" id="function-key-hint">
        Locally, the key <code>npm start</code> printed. It is kept in this tab only and forgotten when the tab closes.
      </p>
      <button type="submit">Sign in</button>
    </form>
  );
}

function EntraIdSignIn() {
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  return (
    <>
      <p class="hint">Sign in with your work account. Administrators can change everything, readers can look.</p>
      <ErrorBox error={error} />
      <button
        type="button"
        disabled={busy}
        onClick={() => {
          setBusy(true);
          signInWithEntraId().catch((e: unknown) => (setError(e), setBusy(false)));
        }}
      >
        Sign in with Microsoft
      </button>
    </>
  );
}

function SignIn({ mode, failure }: { mode: AuthMode; failure?: unknown }) {
  return (
    <main id="main" class="signin">
      <h1>Sign in to the provisioning console</h1>
      {failure ? (
        <div class="banner error" role="alert">
          <strong>The sign-in did not complete</strong>
          <p>{failure instanceof Error ? failure.message : String(failure)}</p>
        </div>
      ) : null}
      {mode.kind === 'entra-id' ? <EntraIdSignIn /> : <FunctionKeySignIn />}
    </main>
  );
}

/** Signed in, but Entra ID assigned this person no app role of the console: say so, and how to get one. */
function NoAccess({ error }: { error: ApiError }) {
  return (
    <main id="main" class="signin">
      <h1>No access to the provisioning console</h1>
      <div class="banner error" role="alert">
        <p>{error.message}</p>
      </div>
      <p>Ask an administrator for the role Provisioning.Reader or Provisioning.Admin, then sign in again.</p>
      <button type="button" onClick={signOut}>
        Sign out
      </button>
    </main>
  );
}

const roleLabel = (me: Me) =>
  me.canWrite ? 'Administrator' : me.roles.includes('Provisioning.Reader') ? 'Reader (read-only)' : 'Read-only';

function actorName(me: Me): string | undefined {
  const actor = me.actor as { type?: string; name?: string } | undefined;
  return actor?.type === 'principal' ? actor.name : undefined;
}

function App() {
  const [mode, setMode] = useState<AuthMode | undefined>();
  const [failure, setFailure] = useState<unknown>();
  const [signedIn, setSignedIn] = useState(false);
  const [me, setMe] = useState<Me | undefined>();
  const [meError, setMeError] = useState<unknown>();
  const route = useRoute();
  useEffect(() => {
    const ready = () => (setMode(authMode()), setSignedIn(isSignedIn()));
    initAuth().then(ready, (e: unknown) => {
      setFailure(e);
      ready();
    });
    return onAuthChange(() => {
      setSignedIn(isSignedIn());
      setMe(undefined);
      setMeError(undefined);
    });
  }, []);
  useEffect(() => {
    if (!signedIn) return;
    whoAmI().then(setMe, setMeError);
  }, [signedIn]);
  if (!mode)
    return (
      <main id="main" class="signin">
        <p role="status">Loading…</p>
      </main>
    );
  if (!signedIn) return <SignIn mode={mode} failure={failure} />;
  if (meError instanceof ApiError && meError.status === 403) return <NoAccess error={meError} />;
  const [first, id, ...rest] = route.path;
  let screen;
  if (!me) screen = meError ? <ErrorBox error={meError} /> : <p role="status">Signing in…</p>;
  else if (first === 'connections' && id === 'new') screen = <NewConnectionScreen canWrite={me.canWrite} />;
  else if (first === 'connections' && id)
    screen = <ConnectionScreen id={id} tab={rest} tabs={tabs} params={route.params} canWrite={me.canWrite} />;
  else screen = <ConnectionsScreen canWrite={me.canWrite} />;
  const name = me && actorName(me);
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={href('connections')}>
          M365 provisioner
        </a>
        <span class="who" data-testid="who">
          {me ? (name ? `${name} · ${roleLabel(me)}` : roleLabel(me)) : ''}
        </span>
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
