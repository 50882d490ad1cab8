import { displayText, relativeTime } from '../core/format';
import type { Principal } from './auth';

export { formatAmount as amount } from '../core/format';

/** Control characters and bidirectional overrides, which could disguise text a person reads. */
const DISGUISING = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
/** The most a single value from a model or an integration may fill on a page. */
const DATA_MAX_CHARS = 600;

/**
 * Text that came from a model or an integration: data, not layout. Disguising characters become
 * U+FFFD, the length is bounded, and the result is escaped.
 */
export function data(value: unknown, max = DATA_MAX_CHARS): string {
  const text = (typeof value === 'string' ? value : (JSON.stringify(value) ?? '')).replace(DISGUISING, '\ufffd');
  return esc(text.length > max ? `${text.slice(0, max)}… (${text.length - max} more characters)` : text);
}
/**
 * HTML building blocks: every interpolated value goes through {@link esc}, which also shows control,
 * invisible and bidirectional-override characters as visible escapes (data never reorders or breaks a line).
 */
export function esc(value: unknown): string {
  return displayText(String(value ?? ''), Infinity).replace(
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

/** A record as a definition list; every name and value is data. */
export function paramsList(params: Record<string, unknown>, className = 'params'): string {
  const rows = Object.entries(params)
    .map(([k, v]) => `<dt>${data(k, 80)}</dt><dd>${data(v)}</dd>`)
    .join('');
  return `<dl class="${className}">${rows}</dl>`;
}
