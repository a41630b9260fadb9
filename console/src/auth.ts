// The one place that says who the console is: the headers every API call carries. Locally that is the function key,
// asked for once and kept in this tab's sessionStorage only (gone when the tab closes, never in a URL or cookie).
// Signing in with Microsoft Entra ID (authorization code + PKCE) replaces this module: authHeaders() then answers
// `authorization: Bearer <token>` and signIn() starts the redirect.
const KEY_ITEM = 'm365prov.functionKey';
const listeners = new Set<() => void>();

export function authHeaders(): Record<string, string> {
  const key = sessionStorage.getItem(KEY_ITEM);
  return key ? { 'x-functions-key': key } : {};
}

export const isSignedIn = (): boolean => sessionStorage.getItem(KEY_ITEM) !== null;

export function signIn(functionKey: string): void {
  sessionStorage.setItem(KEY_ITEM, functionKey);
  listeners.forEach((l) => l());
}

/** Forgets the key (also when the API answered 401: it was wrong or rotated). */
export function signOut(): void {
  sessionStorage.removeItem(KEY_ITEM);
  listeners.forEach((l) => l());
}

export function onAuthChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
