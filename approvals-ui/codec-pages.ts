import type { Principal } from './auth';
import { esc } from './html';

/**
 * The codec server's one page: sign in with a token (or see who is signed in and sign out), and how
 * to make the Temporal Web UI use the session. No script and no style: the CSP allows neither.
 */
export function codecHomePage(o: {
  principal?: Principal;
  roles: string[];
  webUiUrl?: string;
  error?: string;
}): string {
  const ui = o.webUiUrl ? `<a href="${esc(o.webUiUrl)}">the Temporal Web UI</a>` : 'the Temporal Web UI';
  const body = o.principal
    ? `<p data-testid="who">Signed in as <strong>${esc(o.principal.subject)}</strong> (${esc(o.principal.roles.join(', '))}).</p>
<p>In ${ui}, open the Codec Server settings and turn on <em>Include cross-origin credentials</em>: payloads then
show decoded for as long as this session lasts (8 hours).</p>
<form method="post" action="/logout"><button type="submit">Sign out</button></form>`
    : `${o.error ? `<p role="alert">${esc(o.error)}</p>` : ''}
<p>Sign in with a token that carries the role ${o.roles.map((r) => `<code>${esc(r)}</code>`).join(' or ')}
(<code>npx mandate token create --subject you@example.com --roles ${esc(o.roles[0] ?? 'decrypt')}</code>).</p>
<form method="post" action="/login"><label>Token <input name="token" type="password" autocomplete="off" required></label>
<button type="submit">Sign in</button></form>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Mandate codec server</title></head>
<body><h1>Mandate codec server</h1>
<p>Decrypts mission payloads for ${ui} and <code>temporal workflow show --codec-endpoint</code>, for authorised people only.</p>
${body}</body></html>`;
}
