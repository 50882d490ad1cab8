/** Output helpers: human-readable tables by default, JSON with --json. */

export interface Column<T> {
  header: string;
  value: (row: T) => string | number | boolean | undefined | null;
}

/** A plain-text table sized to its content. */
export function table<T>(rows: T[], columns: Column<T>[]): string {
  if (rows.length === 0) return '(none)';
  const cells = rows.map((row) => columns.map((c) => String(c.value(row) ?? '')));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i].length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header.toUpperCase())), ...cells.map(line)].join('\n');
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Amount in cents as a decimal string, when the params carry one. */
export function amountOf(params: Record<string, unknown>): string {
  const cents = params.amountCents;
  if (typeof cents !== 'number') return '';
  const currency = typeof params.currency === 'string' ? ` ${params.currency}` : '';
  return `${(cents / 100).toFixed(2)}${currency}`;
}

/** "in 3m 20s" / "5s ago" relative to now. */
export function relative(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '';
  const ms = Date.parse(iso) - now;
  const abs = Math.abs(ms);
  const s = Math.round(abs / 1000);
  const text =
    s < 60
      ? `${s}s`
      : s < 3600
        ? `${Math.floor(s / 60)}m ${s % 60}s`
        : `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}
