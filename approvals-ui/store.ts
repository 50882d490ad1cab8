// Static imports: the CLI runs through tsx's require hook, which does not resolve dynamic import().
import { PostgresStore } from './store-postgres';
import { SqliteStore } from './store-sqlite';

/**
 * What the approvals service keeps outside Temporal — sessions, sign-in flows, rate-limit counters
 * and each approver's recent decisions — behind one small interface, so that it survives a restart
 * and several instances behind a load balancer share it. Two implementations: embedded SQLite in
 * the data dir (the default; instances on one host may share the file) and PostgreSQL (instances on
 * several hosts). Values are strings (JSON); keys name their purpose (`session:…`, `rate:…`).
 */
export interface ApprovalsStore {
  /** The value under `key`, unless it expired. */
  get(key: string): Promise<string | undefined>;
  /** Sets `key` to `value` for `ttlMs`. */
  put(key: string, value: string, ttlMs: number): Promise<void>;
  /** Removes `key` and returns its value (unless it had expired): a one-time read, atomic across instances. */
  take(key: string): Promise<string | undefined>;
  delete(key: string): Promise<void>;
  /** Counts one hit in a fixed window of `windowMs` that starts at the first hit; atomic across instances. */
  increment(key: string, windowMs: number): Promise<{ count: number; resetAt: number }>;
  /** Adds `value` at the head of the list `key`, keeping the newest `keep` entries. */
  prepend(key: string, value: string, keep: number): Promise<void>;
  /** The list `key`, newest first. */
  list(key: string): Promise<string[]>;
  close(): Promise<void>;
}

/** Where the store lives: `sqlite:<path>` (`sqlite::memory:` for one process) or a PostgreSQL URL. */
export async function openStore(location: string): Promise<ApprovalsStore> {
  if (location.startsWith('sqlite:')) {
    return new SqliteStore(location.slice('sqlite:'.length));
  }
  if (/^postgres(ql)?:\/\//.test(location)) {
    return PostgresStore.connect(location);
  }
  throw new Error(`approvals store ${location}: expected sqlite:<path> or postgres://…`);
}

/** Expired rows are swept on every this-many writes, so the tables stay small without a timer. */
export const SWEEP_EVERY = 200;
