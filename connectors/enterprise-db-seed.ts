import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Creates and seeds the sample enterprise database. Dates are relative to `now` so the same seed
 * gives the same story on any day. The demo and the tests rely on these cases:
 *
 * | case      | order    | refund asked | story                                      |
 * |-----------|----------|--------------|--------------------------------------------|
 * | CASE-1001 | ORD-5001 |      45.99   | small: policy allows it, no human          |
 * | CASE-1002 | ORD-5002 |     450.00   | above 100.00: waits for a supervisor       |
 * | CASE-1003 | ORD-5003 |     820.00   | above 100.00: waits (the demo rejects it)  |
 * | CASE-1004 | ORD-5004 |      60.00   | order 200 days old: declined by the check  |
 * | CASE-1005 | ORD-5005 |      30.00   | already refunded: declined                 |
 * | CASE-1006 | ORD-5006 |   9,000.00   | above 5,000.00: policy denies              |
 * | CASE-1007 | ORD-5007 |      20.00   | case closed: declined                      |
 * | CASE-1008 | ORD-5008 |     250.00   | above 100.00: waits (spare for tests)      |
 * | CASE-1009 | ORD-5009 |     175.00   | above 100.00: waits (spare for tests)      |
 * | CASE-1010 | ORD-5010 |   2,400.00   | above 1,000.00: waits for finance (quorum) |
 *
 * `extraSmallCases: n` adds CASE-2000… with their own orders, each a small auto-allowed refund
 * (the benchmark uses them).
 */
export interface SeedOptions {
  now?: Date;
  extraSmallCases?: number;
  /** Replace an existing file's data (default: leave an existing database as it is). */
  reset?: boolean;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS customers (customer_id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orders (order_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL REFERENCES customers,
  placed_at TEXT NOT NULL, total_cents INTEGER NOT NULL, currency TEXT NOT NULL, status TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS payments (payment_id TEXT PRIMARY KEY, order_id TEXT NOT NULL REFERENCES orders,
  amount_cents INTEGER NOT NULL, method TEXT NOT NULL, captured_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cases (case_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL REFERENCES customers,
  order_id TEXT NOT NULL REFERENCES orders, subject TEXT NOT NULL, requested_refund_cents INTEGER NOT NULL,
  status TEXT NOT NULL, opened_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS refunds (refund_id TEXT PRIMARY KEY, order_id TEXT NOT NULL REFERENCES orders,
  case_id TEXT NOT NULL, amount_cents INTEGER NOT NULL, currency TEXT NOT NULL, reason TEXT NOT NULL,
  action_key TEXT NOT NULL UNIQUE, mission_id TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS grants_used (grant_id TEXT PRIMARY KEY, action_key TEXT NOT NULL, used_at TEXT NOT NULL);
`;

type CaseSeed = [
  caseNo: number,
  orderNo: number,
  totalCents: number,
  refundCents: number,
  ageDays: number,
  status: string,
  subject: string,
];

const CASES: CaseSeed[] = [
  [1001, 5001, 4599, 4599, 10, 'open', 'Kettle arrived broken'],
  [1002, 5002, 45000, 45000, 20, 'open', 'Espresso machine leaks'],
  [1003, 5003, 82000, 82000, 15, 'open', 'Laptop screen dead on arrival'],
  [1004, 5004, 6000, 6000, 200, 'open', 'Headphones stopped working'],
  [1005, 5005, 3000, 3000, 5, 'open', 'Duplicate charge'],
  [1006, 5006, 900000, 900000, 12, 'open', 'Corporate order cancelled'],
  [1007, 5007, 2000, 2000, 8, 'closed', 'Late delivery'],
  [1008, 5008, 25000, 25000, 30, 'open', 'Wrong size delivered'],
  [1009, 5009, 17500, 17500, 40, 'open', 'Item never arrived'],
  [1010, 5010, 240000, 240000, 6, 'open', 'Office chairs returned'],
];

export function seedEnterpriseDb(path: string, options: SeedOptions = {}): void {
  const now = options.now ?? new Date();
  mkdirSync(dirname(path), { recursive: true });
  const fresh = !existsSync(path);
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.exec(SCHEMA);
    if (!fresh && !options.reset) return;
    const daysAgo = (days: number) => new Date(now.getTime() - days * 86_400_000).toISOString();
    const seedAll = db.transaction(() => {
      for (const table of ['grants_used', 'refunds', 'cases', 'payments', 'orders', 'customers'])
        db.exec(`DELETE FROM ${table}`);
      const customer = db.prepare('INSERT INTO customers VALUES (?, ?, ?)');
      const order = db.prepare('INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?)');
      const payment = db.prepare('INSERT INTO payments VALUES (?, ?, ?, ?, ?)');
      const kase = db.prepare('INSERT INTO cases VALUES (?, ?, ?, ?, ?, ?, ?)');
      const all = [...CASES];
      for (let i = 0; i < (options.extraSmallCases ?? 0); i++)
        all.push([2000 + i, 7000 + i, 2500, 1500, 3, 'open', 'Bench refund']);
      for (const [caseNo, orderNo, total, refund, age, status, subject] of all) {
        const customerId = `CUS-${caseNo}`;
        customer.run(customerId, `Customer ${caseNo}`, `customer${caseNo}@example.com`);
        order.run(`ORD-${orderNo}`, customerId, daysAgo(age), total, 'USD', 'delivered');
        payment.run(`PAY-${orderNo}`, `ORD-${orderNo}`, total, 'card', daysAgo(age));
        kase.run(
          `CASE-${caseNo}`,
          customerId,
          `ORD-${orderNo}`,
          subject,
          refund,
          status,
          daysAgo(Math.max(age - 2, 0)),
        );
      }
      db.prepare('INSERT INTO refunds VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
        'RF-SEEDED01',
        'ORD-5005',
        'CASE-0999',
        3000,
        'USD',
        'Earlier refund',
        'seed/1',
        'seed',
        daysAgo(4),
      );
    });
    seedAll();
  } finally {
    db.close();
  }
}
