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
