import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { ApprovalsStore } from './store';
import { SWEEP_EVERY } from './store';

/**
 * The embedded store: one SQLite file in the data dir (WAL, so several processes on one host can
 * share it). Every operation is one statement or one immediate transaction, hence atomic across
 * processes too.
 */
export class SqliteStore implements ApprovalsStore {
  private readonly db: Database.Database;
  private writes = 0;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, count INTEGER NOT NULL, reset_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS lists (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, value TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS lists_key ON lists (key, id);`);
  }

  async get(key: string): Promise<string | undefined> {
    const row = this.db.prepare('SELECT value FROM kv WHERE key = ? AND expires_at > ?').get(key, Date.now()) as
      { value: string } | undefined;
    return row?.value;
  }

  async put(key: string, value: string, ttlMs: number): Promise<void> {
    this.sweep();
    this.db
      .prepare(
        'INSERT INTO kv (key, value, expires_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at',
      )
      .run(key, value, Date.now() + ttlMs);
  }

  async take(key: string): Promise<string | undefined> {
    const row = this.db.prepare('DELETE FROM kv WHERE key = ? RETURNING value, expires_at').get(key) as
      { value: string; expires_at: number } | undefined;
    return row && row.expires_at > Date.now() ? row.value : undefined;
  }

  async delete(key: string): Promise<void> {
    this.db.prepare('DELETE FROM kv WHERE key = ?').run(key);
  }

  async increment(key: string, windowMs: number): Promise<{ count: number; resetAt: number }> {
    this.sweep();
    const now = Date.now();
    const row = this.db
      .prepare(
        `INSERT INTO counters (key, count, reset_at) VALUES (@key, 1, @reset) ON CONFLICT (key) DO UPDATE SET
           count = CASE WHEN reset_at <= @now THEN 1 ELSE count + 1 END,
           reset_at = CASE WHEN reset_at <= @now THEN @reset ELSE reset_at END
         RETURNING count, reset_at`,
      )
      .get({ key, now, reset: now + windowMs }) as { count: number; reset_at: number };
    return { count: row.count, resetAt: row.reset_at };
  }

  async prepend(key: string, value: string, keep: number): Promise<void> {
    this.db
      .transaction(() => {
        this.db.prepare('INSERT INTO lists (key, value) VALUES (?, ?)').run(key, value);
        this.db
          .prepare(
            'DELETE FROM lists WHERE key = ? AND id NOT IN (SELECT id FROM lists WHERE key = ? ORDER BY id DESC LIMIT ?)',
          )
          .run(key, key, keep);
      })
      .immediate();
  }

  async list(key: string): Promise<string[]> {
    const rows = this.db.prepare('SELECT value FROM lists WHERE key = ? ORDER BY id DESC').all(key) as {
      value: string;
    }[];
    return rows.map((r) => r.value);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private sweep(): void {
    if (++this.writes % SWEEP_EVERY !== 0) return;
    const now = Date.now();
    this.db.prepare('DELETE FROM kv WHERE expires_at <= ?').run(now);
    this.db.prepare('DELETE FROM counters WHERE reset_at <= ?').run(now);
  }
}
