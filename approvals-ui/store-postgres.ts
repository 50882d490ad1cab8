import { Pool } from 'pg';
import type { ApprovalsStore } from './store';
import { SWEEP_EVERY } from './store';

/**
 * The shared store for several instances on several hosts: PostgreSQL (the same server a production
 * Temporal cluster runs on will do; the tables are prefixed `mandate_approvals_`). Each operation
 * is a single statement, so it is atomic without explicit transactions.
 */
export class PostgresStore implements ApprovalsStore {
  private writes = 0;

  private constructor(private readonly pool: Pool) {}

  static async connect(url: string): Promise<PostgresStore> {
    const pool = new Pool({ connectionString: url, max: 5, connectionTimeoutMillis: 10_000 });
    // Instances starting together: the advisory lock lets one create the tables while the others wait.
    await pool.query(`
      BEGIN;
      SELECT pg_advisory_xact_lock(7270010);
      CREATE TABLE IF NOT EXISTS mandate_approvals_kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at BIGINT NOT NULL);
      CREATE TABLE IF NOT EXISTS mandate_approvals_counters (key TEXT PRIMARY KEY, count INTEGER NOT NULL, reset_at BIGINT NOT NULL);
      CREATE TABLE IF NOT EXISTS mandate_approvals_lists (id BIGSERIAL PRIMARY KEY, key TEXT NOT NULL, value TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS mandate_approvals_lists_key ON mandate_approvals_lists (key, id);
      COMMIT;`);
    return new PostgresStore(pool);
  }

  async get(key: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ value: string }>(
      'SELECT value FROM mandate_approvals_kv WHERE key = $1 AND expires_at > $2',
      [key, Date.now()],
    );
    return rows[0]?.value;
  }

  async put(key: string, value: string, ttlMs: number): Promise<void> {
    await this.sweep();
    await this.pool.query(
      `INSERT INTO mandate_approvals_kv (key, value, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
      [key, value, Date.now() + ttlMs],
    );
  }

  async take(key: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ value: string; expires_at: string }>(
      'DELETE FROM mandate_approvals_kv WHERE key = $1 RETURNING value, expires_at',
      [key],
    );
    return rows[0] && Number(rows[0].expires_at) > Date.now() ? rows[0].value : undefined;
  }

  async delete(key: string): Promise<void> {
    await this.pool.query('DELETE FROM mandate_approvals_kv WHERE key = $1', [key]);
  }

  async increment(key: string, windowMs: number): Promise<{ count: number; resetAt: number }> {
    await this.sweep();
    const now = Date.now();
    const { rows } = await this.pool.query<{ count: number; reset_at: string }>(
      `INSERT INTO mandate_approvals_counters AS c (key, count, reset_at) VALUES ($1, 1, $3) ON CONFLICT (key) DO UPDATE SET
         count = CASE WHEN c.reset_at <= $2 THEN 1 ELSE c.count + 1 END,
         reset_at = CASE WHEN c.reset_at <= $2 THEN $3 ELSE c.reset_at END
       RETURNING count, reset_at`,
      [key, now, now + windowMs],
    );
    return { count: rows[0].count, resetAt: Number(rows[0].reset_at) };
  }

  async prepend(key: string, value: string, keep: number): Promise<void> {
    await this.pool.query('INSERT INTO mandate_approvals_lists (key, value) VALUES ($1, $2)', [key, value]);
    await this.pool.query(
      `DELETE FROM mandate_approvals_lists WHERE key = $1 AND id NOT IN
         (SELECT id FROM mandate_approvals_lists WHERE key = $1 ORDER BY id DESC LIMIT $2)`,
      [key, keep],
    );
  }

  async list(key: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ value: string }>(
      'SELECT value FROM mandate_approvals_lists WHERE key = $1 ORDER BY id DESC',
      [key],
    );
    return rows.map((r) => r.value);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async sweep(): Promise<void> {
    if (++this.writes % SWEEP_EVERY !== 0) return;
    const now = Date.now();
    await this.pool.query('DELETE FROM mandate_approvals_kv WHERE expires_at <= $1', [now]);
    await this.pool.query('DELETE FROM mandate_approvals_counters WHERE reset_at <= $1', [now]);
  }
}
