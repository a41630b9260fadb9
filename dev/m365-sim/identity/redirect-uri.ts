// Redirect URI matching (https://learn.microsoft.com/entra/identity-platform/reply-url): exact match, except
// loopback http URIs whose port is ignored ("Localhost exceptions": http://localhost and http://127.0.0.1
// match any port, so native and dev apps can use an ephemeral port).

function isLoopbackHttp(url: URL): boolean {
  return (
    url.protocol === 'http:' &&
    (url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]')
  );
}

export function redirectUriRegistered(registered: readonly string[], candidate: string): boolean {
  let asked: URL;
  try {
    asked = new URL(candidate);
  } catch {
    return false;
  }
  return registered.some((r) => {
    if (r === candidate) return true;
    const reg = new URL(r);
    return (
      isLoopbackHttp(asked) &&
      isLoopbackHttp(reg) &&
      reg.hostname === asked.hostname &&
      reg.pathname === asked.pathname &&
      reg.search === asked.search
    );
  });
}
