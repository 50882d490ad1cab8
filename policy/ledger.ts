import Database from 'better-sqlite3';
import type { AggregateScope, AggregateSpec, LedgerEntry } from '../core/aggregates';
import { windowMs } from '../core/aggregates';

/**
 * The action ledger: a small, durable record of executed actions, from which the decision step gives
 * policy rolling aggregates (count and sum per operation over a window, per initiator, mission type or
 * customer). Embedded SQLite by default; the interface is what a shared store (PostgreSQL) implements.
 * Recording is idempotent on (missionId, actionId), so a retried execution is counted once.
 */
export interface ActionLedger {
  record(entry: LedgerEntry): void;
  /** The value of each aggregate for a decision about `scope` (0 when nothing matches). */
  aggregates(specs: readonly AggregateSpec[], scope: AggregateScope): Record<string, number>;
  close(): void;
}

const COLUMN: Record<AggregateSpec['by'], string> = {
  initiator: 'initiator',
  missionType: 'mission_type',
  customer: 'customer',
};

export function openSqliteLedger(path: string): ActionLedger {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.exec(`CREATE TABLE IF NOT EXISTS ledger (
    mission_id TEXT NOT NULL, action_id TEXT NOT NULL, mission_type TEXT NOT NULL, initiator TEXT NOT NULL,
    operation TEXT NOT NULL, customer TEXT, amounts TEXT NOT NULL, executed_at TEXT NOT NULL,
    PRIMARY KEY (mission_id, action_id));
  CREATE INDEX IF NOT EXISTS ledger_by_operation ON ledger (operation, executed_at);`);
  const insert = db.prepare(
    `INSERT OR IGNORE INTO ledger VALUES (@missionId, @actionId, @missionType, @initiator, @operation, @customer, @amounts, @executedAt)`,
  );
  const queries = new Map<string, Database.Statement>();
  const query = (by: AggregateSpec['by']) => {
    let statement = queries.get(by);
    if (!statement) {
      // The column comes from a fixed table, never from input.
      statement = db.prepare(
        `SELECT amounts FROM ledger WHERE operation = ? AND ${COLUMN[by]} = ? AND executed_at > ? AND executed_at <= ?`,
      );
      queries.set(by, statement);
    }
    return statement;
  };
  return {
    record(entry) {
      insert.run({ ...entry, customer: entry.customer ?? null, amounts: JSON.stringify(entry.amounts) });
    },
    aggregates(specs, scope) {
      const out: Record<string, number> = {};
      for (const spec of specs) {
        const key = scope[spec.by];
        if (key === undefined) {
          out[spec.name] = 0;
          continue;
        }
        const since = new Date(scope.now.getTime() - windowMs(spec.window)).toISOString();
        const rows = query(spec.by).all(spec.operation, key, since, scope.now.toISOString()) as { amounts: string }[];
        out[spec.name] =
          spec.measure === 'count'
            ? rows.length
            : rows.reduce(
                (sum, r) => sum + (Number((JSON.parse(r.amounts) as Record<string, number>)[spec.field!]) || 0),
                0,
              );
      }
      return out;
    },
    close: () => db.close(),
  };
}
