/**
 * Visibility queries. Values are quoted here and only here: a single quote cannot be escaped in
 * Temporal's list filter, so it is removed (no id, type or status the project issues contains one).
 */
export function quote(value: string): string {
  return `'${value.replace(/'/g, '')}'`;
}

/** `Name = 'value'` joined with AND; undefined clauses are skipped. */
export function where(...clauses: (string | undefined | false)[]): string {
  return clauses.filter((c): c is string => typeof c === 'string' && c !== '').join(' AND ');
}
