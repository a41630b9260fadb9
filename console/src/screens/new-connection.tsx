// New connection wizard, in the order of Zoho's and PingOne's pages: name → tenant (domain, tenant ID) →
// credentials (client ID and secret, or the OAuth endpoints) → cloud → create; then the connection's page offers
// Test connection and Authorize, and the mapping.
import { useState } from 'preact/hooks';
import { post } from '../api';
import { href, navigate } from '../router';
import type { Connection } from '../types';
import { ErrorBox, useAction } from '../ui';

interface Draft {
  name: string;
  description: string;
  domain: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  authMode: 'client_credentials' | 'authorization_code';
  authorizationEndpoint: string;
  tokenEndpoint: string;
  cloud: string;
  authorityHost: string;
  graphEndpoint: string;
}

const STEPS = ['Name', 'Tenant', 'Credentials', 'Cloud'] as const;

export function TextField(props: {
  id: string;
  label: string;
  value: string;
  onInput: (v: string) => void;
  hint?: string;
  type?: 'text' | 'password';
  required?: boolean;
  error?: string | undefined;
}) {
  const described = [props.hint ? `${props.id}-hint` : '', props.error ? `${props.id}-error` : ''].filter(Boolean);
  const common = {
    id: props.id,
    value: props.value,
    required: props.required,
    autoComplete: 'off',
    'aria-invalid': props.error ? true : undefined,
    'aria-describedby': described.join(' ') || undefined,
    onInput: (e: Event) => props.onInput((e.currentTarget as HTMLInputElement).value),
  };
  return (
    <div class="field">
      <label for={props.id}>
        {props.label}
        {props.required ? ' (required)' : ''}
      </label>
      {props.type === 'password' ? <input type="password" {...common} /> : <input type="text" {...common} />}
      {props.hint ? (
        <p class="hint" id={`${props.id}-hint`}>
          {props.hint}
        </p>
      ) : null}
      {props.error ? (
        <p class="field-error" id={`${props.id}-error`}>
          {props.error}
        </p>
      ) : null}
    </div>
  );
}

export function NewConnectionScreen({ canWrite }: { canWrite: boolean }) {
  const [step, setStep] = useState(0);
  const [d, setD] = useState<Draft>({
    name: '',
    description: '',
    domain: '',
    tenantId: '',
    clientId: '',
    clientSecret: '',
    authMode: 'client_credentials',
    authorizationEndpoint: '',
    tokenEndpoint: '',
    cloud: 'global',
    authorityHost: '',
    graphEndpoint: '',
  });
  const set = (k: keyof Draft) => (v: string) => setD((old) => ({ ...old, [k]: v }));
  const create = useAction(async () => {
    const body: Record<string, string> = {};
    for (const k of Object.keys(d) as (keyof Draft)[]) if (d[k].trim() !== '') body[k] = d[k].trim();
    const created = await post<Connection>('connections', body);
    navigate(href('connections', created.id));
    return created;
  });
  if (!canWrite) return <p>Your role may read connections but not create them.</p>;
  const fieldError = (field: string) =>
    create.error && typeof create.error === 'object' && 'problem' in create.error
      ? (create.error as { problem: { errors?: { field: string; message: string }[] } }).problem.errors?.find(
          (e) => e.field === field,
        )?.message
      : undefined;
  const last = step === STEPS.length - 1;
  /** A text field of the draft, with the API's error for it. */
  const field = (
    key: Exclude<keyof Draft, 'authMode' | 'cloud'>,
    label: string,
    extra: { required?: boolean; hint?: string; type?: 'password' } = {},
  ) => <TextField id={key} label={label} value={d[key]} onInput={set(key)} error={fieldError(key)} {...extra} />;
  return (
    <section>
      <h1>New connection</h1>
      <ol class="steps" aria-label="Steps">
        {STEPS.map((s, i) => (
          <li key={s} aria-current={i === step ? 'step' : undefined} class={i === step ? 'current' : ''}>
            {i + 1}. {s}
          </li>
        ))}
      </ol>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (last) void create.run();
          else setStep(step + 1);
        }}
      >
        <fieldset>
          <legend>{STEPS[step]}</legend>
          {step === 0 ? (
            <>
              {field('name', 'Name', { required: true })}
              {field('description', 'Description')}
            </>
          ) : null}
          {step === 1 ? (
            <>
              {field('domain', 'Domain', {
                required: true,
                hint: 'The verified domain new users get, e.g. contoso.com',
              })}
              {field('tenantId', 'Directory (tenant) ID', { required: true })}
            </>
          ) : null}
          {step === 2 ? (
            <>
              <div class="field">
                <label for="authMode">Sign-in to Microsoft 365</label>
                <select id="authMode" value={d.authMode} onChange={(e) => set('authMode')(e.currentTarget.value)}>
                  <option value="client_credentials">Application permissions (client ID and secret)</option>
                  <option value="authorization_code">Delegated: an administrator authorizes (OAuth endpoints)</option>
                </select>
              </div>
              {field('clientId', 'Application (client) ID', { required: true })}
              {field('clientSecret', 'Client secret', {
                required: true,
                type: 'password',
                hint: 'Write-only: stored encrypted, never shown again',
              })}
              {d.authMode === 'authorization_code' ? (
                <>
                  {field('authorizationEndpoint', 'Authorization endpoint (optional)', {
                    hint: 'https://login.microsoftonline.com/<tenant ID>/oauth2/v2.0/authorize',
                  })}
                  {field('tokenEndpoint', 'Token endpoint (optional)', {
                    hint: 'https://login.microsoftonline.com/<tenant ID>/oauth2/v2.0/token',
                  })}
                </>
              ) : null}
            </>
          ) : null}
          {step === 3 ? (
            <>
              <div class="field">
                <label for="cloud">Cloud</label>
                <select id="cloud" value={d.cloud} onChange={(e) => set('cloud')(e.currentTarget.value)}>
                  <option value="global">Global (login.microsoftonline.com)</option>
                  <option value="usgov">US Government</option>
                  <option value="china">China (21Vianet)</option>
                </select>
              </div>
              {field('authorityHost', 'Login host override (optional)')}
              {field('graphEndpoint', 'Graph endpoint override (optional)')}
            </>
          ) : null}
        </fieldset>
        <ErrorBox error={create.error} />
        <div class="actions">
          {step > 0 ? (
            <button type="button" onClick={() => setStep(step - 1)}>
              Back
            </button>
          ) : null}
          <button type="submit" class="primary" disabled={create.running}>
            {last ? 'Create connection' : 'Next'}
          </button>
        </div>
      </form>
    </section>
  );
}
