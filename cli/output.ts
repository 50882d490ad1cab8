import { displayText } from '../core/format';

/** Output helpers: human-readable tables by default, JSON with --json. */

export interface Column<T> {
  header: string;
  value: (row: T) => string | number | boolean | undefined | null;
}

/** A plain-text table sized to its content; a cell can never break its line (see `displayText`). */
export function table<T>(rows: T[], columns: Column<T>[]): string {
  if (rows.length === 0) return '(none)';
  const cells = rows.map((row) => columns.map((c) => displayText(String(c.value(row) ?? ''), Infinity)));
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

/**
 * A failed command whose JSON document (carrying the failure) is already printed when `reported`:
 * main() then prints the message to stderr only, so --json output stays one document.
 */
export function reportedFailure(message: string, reported: boolean): Error & { reported: boolean } {
  return Object.assign(new Error(message), { reported });
}
