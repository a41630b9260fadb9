// Small building blocks shared by the screens. Everything from the API is rendered as text through JSX (escaped by
// Preact); nothing is ever set as HTML.
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError } from './api';

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` now and whenever a dependency changes; `reload()` runs it again. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, error: undefined, loading: false }),
      (error: unknown) => live && setState({ data: undefined, error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** An action button's state: running, its error, its result. */
export function useAction<A extends unknown[], T>(action: (...args: A) => Promise<T>) {
  const [state, setState] = useState<{ running: boolean; error: unknown; result: T | undefined }>({
    running: false,
    error: undefined,
    result: undefined,
  });
  const run = async (...args: A): Promise<T | undefined> => {
    setState({ running: true, error: undefined, result: undefined });
    try {
      const result = await action(...args);
      setState({ running: false, error: undefined, result });
      return result;
    } catch (error) {
      setState({ running: false, error, result: undefined });
      return undefined;
    }
  };
  return { ...state, run };
}

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const problem = error instanceof ApiError ? error.problem : undefined;
  return (
    <div class="banner error" role="alert">
      <strong>{problem?.title ?? 'Something went wrong'}</strong>
      {problem?.code ? <span class="code"> ({problem.code})</span> : null}
      <p>{error instanceof Error ? error.message : String(error)}</p>
      {problem?.errors?.length ? (
        <ul>
          {problem.errors.map((e) => (
            <li key={e.field}>
              <code>{e.field}</code>: {e.message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" role="status">
      Loading {what}…
    </p>
  );
}

export function Banner({
  kind,
  children,
}: {
  kind: 'info' | 'warning' | 'error' | 'success';
  children: ComponentChildren;
}) {
  return (
    <div class={`banner ${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}

export const StatusBadge = ({ status }: { status: string }) => <span class={`badge status-${status}`}>{status}</span>;

export function When({ at }: { at: string | undefined }) {
  if (!at) return <span class="muted">—</span>;
  return <time dateTime={at}>{new Date(at).toLocaleString()}</time>;
}

/** A value of unknown shape, shown as text. */
export function Value({ value }: { value: unknown }) {
  if (value === undefined) return <span class="muted">(none)</span>;
  if (value === null) return <span class="muted">null</span>;
  if (typeof value === 'string') return <span>{value}</span>;
  return <code>{JSON.stringify(value)}</code>;
}

/** Triggers a download of `content` (export). */
export function download(filename: string, type: string, content: string): void {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  URL.revokeObjectURL(url);
}
