import type { SubjectRef } from '../core/mission';
import type { Connector, OperationContext, OperationSpec } from './connector';

/**
 * Row-level scopes. A mission with a subject (the case a refund is for, the person an erasure is
 * for) may read and act only on that subject's rows: the connector resolves them from the system of
 * record, and each operation declares which entity each of its params addresses.
 */

/** The rows that belong to a subject, by entity: `{case: ['CASE-1001'], order: ['ORD-5001'], …}`. */
export type SubjectRows = Record<string, readonly string[]>;

/**
 * Why these params reach outside the mission's subject, or undefined when every row they address is
 * the subject's. Fails closed: an unknown subject type, a subject that does not exist, an operation
 * that does not say how its rows relate to a subject, or a param that is not a string all refuse.
 */
export function subjectProblem(
  connector: Connector,
  spec: OperationSpec<never, unknown>,
  operation: string,
  params: unknown,
  subject: SubjectRef,
  ctx: OperationContext,
): string | undefined {
  const who = `${subject.type} ${subject.id}`;
  if (!spec.rows) return `${operation} does not say how its rows relate to a mission's subject (${who})`;
  const entries = Object.entries(spec.rows);
  if (entries.length === 0) return undefined;
  const resolve = Object.hasOwn(connector.subjects ?? {}, subject.type) ? connector.subjects![subject.type] : undefined;
  if (!resolve) return `${connector.name} cannot resolve a subject of type ${subject.type}`;
  const rows = resolve(subject.id, ctx);
  if (!rows) return `the mission's subject ${who} does not exist`;
  const values = (params ?? {}) as Record<string, unknown>;
  for (const [param, entity] of entries) {
    const value = values[param];
    if (value === undefined) continue;
    const owned = Object.hasOwn(rows, entity) ? rows[entity] : [];
    if (typeof value !== 'string' || !owned.includes(value)) {
      return `${param} ${String(value)} is not ${article(entity)} ${entity} of the mission's subject (${who})`;
    }
  }
  return undefined;
}

const article = (word: string) => (/^[aeiou]/i.test(word) ? 'an' : 'a');
