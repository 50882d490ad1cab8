/** Formatting every person-facing surface shares (the CLI, the approvals pages, reports). */

/** An amount in minor units as "450.00 USD", when the params carry `amountCents` (and maybe `currency`). */
export function formatAmount(params: Record<string, unknown>): string {
  const cents = params.amountCents;
  if (typeof cents !== 'number') return '';
  return `${(cents / 100).toFixed(2)}${typeof params.currency === 'string' ? ` ${params.currency}` : ''}`;
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
