import { relativeTime } from '../core/format';
import type { Principal } from './auth';

export { formatAmount as amount } from '../core/format';

/** HTML building blocks: every interpolated value goes through {@link esc}. */
export function esc(value: unknown): string {
  return String(value ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

export interface LayoutOptions {
  title: string;
  principal?: Principal;
  csrf?: string;
  body: string;
}

/** The page shell: no inline script or style (the CSP forbids both); /static/app.js adds the live parts. */
export function layout(o: LayoutOptions): string {
  const who = o.principal
    ? `<form class="signout" method="post" action="/logout"><input type="hidden" name="_csrf" value="${esc(o.csrf)}">
<span class="who" data-testid="who">${esc(o.principal.subject)} · ${esc(o.principal.roles.join(', ') || 'no roles')}</span>
<button type="submit" class="link">Sign out</button></form>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(o.title)} · Mandate approvals</title>
<link rel="stylesheet" href="/static/app.css"><script src="/static/app.js" defer></script></head>
<body><header class="top"><a class="brand" href="/">Mandate <span>approvals</span></a>${who}</header>
<main>${o.body}</main></body></html>`;
}

/** "in 3m 20s" / "expired 5s ago"; the page script keeps it current. */
export function timeLeft(deadline: string, now = Date.now()): string {
  return relativeTime(deadline, now, 'expired ');
}

export function paramsList(params: Record<string, unknown>): string {
  const rows = Object.entries(params)
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(typeof v === 'string' ? v : JSON.stringify(v))}</dd>`)
    .join('');
  return `<dl class="params">${rows}</dl>`;
}
