// The sign-in page of the authorize endpoint, shown when the app asks for an interaction: v2-oauth2-auth-code-flow,
// "prompt": `login` makes the user enter their credentials, `select_account` lets them choose or enter an account.
// Without `prompt` (or with `none`) the simulated user signs in at once, as with a single sign-on session. The page
// is a form posting every parameter of the request back to the authorize endpoint with the username in `login`
// (no password: the simulated tenant has none); an unknown username gets the page again with Entra's words.
import { escapeHtml, htmlResponse, type SimResponse } from '../http.js';

/** The `prompt` values that need the page. */
export const INTERACTIVE_PROMPTS = new Set(['login', 'select_account']);

/** The form's username field (not an authorize parameter: Entra posts its own form fields to its own endpoints). */
export const USERNAME_FIELD = 'login';

export function signInPage(action: string, q: URLSearchParams, error?: string): SimResponse {
  const hidden = [...q]
    .filter(([name]) => name !== USERNAME_FIELD && name !== 'prompt')
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('\n');
  const username = q.get(USERNAME_FIELD) ?? q.get('login_hint') ?? '';
  return htmlResponse(
    200,
    `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in to your account</title></head>
<body>
<main>
<h1>Sign in</h1>
<form method="post" action="${escapeHtml(action)}">
${hidden}
<label for="login">Email, phone, or Skype</label>
<input id="login" name="${USERNAME_FIELD}" type="email" autocomplete="username" required value="${escapeHtml(username)}"${error ? ' aria-describedby="login-error" aria-invalid="true"' : ''}>
${error ? `<p id="login-error" role="alert">${escapeHtml(error)}</p>` : ''}
<button type="submit">Next</button>
</form>
</main>
</body>
</html>`,
  );
}
