import type { Principal } from './auth';

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

/** Amount in cents as "450.00 USD", when the params carry one. */
export function amount(params: Record<string, unknown>): string {
  const cents = params.amountCents;
  if (typeof cents !== 'number') return '';
  return `${(cents / 100).toFixed(2)}${typeof params.currency === 'string' ? ` ${params.currency}` : ''}`;
}

/** "in 3m 20s" / "expired 5s ago"; the page script keeps it current. */
export function timeLeft(deadline: string, now = Date.now()): string {
  const ms = Date.parse(deadline) - now;
  const s = Math.round(Math.abs(ms) / 1000);
  const text =
    s < 60
      ? `${s}s`
      : s < 3600
        ? `${Math.floor(s / 60)}m ${s % 60}s`
        : `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return ms > 0 ? `in ${text}` : `expired ${text} ago`;
}

export function paramsList(params: Record<string, unknown>): string {
  const rows = Object.entries(params)
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(typeof v === 'string' ? v : JSON.stringify(v))}</dd>`)
    .join('');
  return `<dl class="params">${rows}</dl>`;
}
