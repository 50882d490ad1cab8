/** Formatting every person-facing surface shares (the CLI, the approvals pages, reports). */

/**
 * An amount in minor units as money in its currency — "450.00 USD", "4500 JPY" — when the params
 * carry `amountCents` (and maybe `currency`, an ISO 4217 code that sets the number of decimals).
 */
export function formatAmount(params: Record<string, unknown>): string {
  const minor = params.amountCents;
  if (typeof minor !== 'number' || !Number.isFinite(minor)) return '';
  const currency = typeof params.currency === 'string' && /^[A-Z]{3}$/.test(params.currency) ? params.currency : '';
  const digits = currency ? minorDigits(currency) : 2;
  return `${(minor / 10 ** digits).toFixed(digits)}${currency ? ` ${currency}` : ''}`;
}

function minorDigits(currency: string): number {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** A duration as "45s", "3m 20s" or "4h 5m". */
export function formatDuration(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

/** How far a time lies from now: "in 3m 20s", or "5s ago" (`pastPrefix` comes before a past one). */
export function relativeTime(iso: string | undefined, now = Date.now(), pastPrefix = ''): string {
  if (!iso) return '';
  const ms = Date.parse(iso) - now;
  return ms > 0 ? `in ${formatDuration(ms)}` : `${pastPrefix}${formatDuration(ms)} ago`;
}

/**
 * Characters that could make data pose as layout on a person's screen: C0/C1 controls (newlines
 * included), bidirectional embeddings, overrides and isolates, invisible separators and joiners.
 */
const UNSAFE_TEXT =
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]/g;
const NAMED_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Text from a model or an integration, made safe to show on one line: every control, bidirectional or
 * invisible formatting character becomes a visible escape (`\n`, `\u202e`), and the text is bounded to
 * `max` characters (saying how many were left out). Shown labelled as data, it cannot forge a line.
 */
export function displayText(text: string, max = 1000): string {
  const safe = text.replace(
    UNSAFE_TEXT,
    (c) => NAMED_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return safe.length <= max ? safe : `${safe.slice(0, max)}… (${safe.length - max} more characters)`;
}
