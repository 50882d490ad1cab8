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
CREATE TABLE IF NOT EXISTS customers (customer_id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL,
  phone TEXT, address TEXT);
CREATE TABLE IF NOT EXISTS orders (order_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL REFERENCES customers,
  placed_at TEXT NOT NULL, total_cents INTEGER NOT NULL, currency TEXT NOT NULL, status TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS payments (payment_id TEXT PRIMARY KEY, order_id TEXT NOT NULL REFERENCES orders,
  amount_cents INTEGER NOT NULL, method TEXT NOT NULL, captured_at TEXT NOT NULL, card_number TEXT);
CREATE TABLE IF NOT EXISTS cases (case_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL REFERENCES customers,
  order_id TEXT NOT NULL REFERENCES orders, subject TEXT NOT NULL, requested_refund_cents INTEGER NOT NULL,
  status TEXT NOT NULL, opened_at TEXT NOT NULL, description TEXT);
CREATE TABLE IF NOT EXISTS refunds (refund_id TEXT PRIMARY KEY, order_id TEXT NOT NULL REFERENCES orders,
  case_id TEXT NOT NULL, amount_cents INTEGER NOT NULL, currency TEXT NOT NULL, reason TEXT NOT NULL,
  action_key TEXT NOT NULL UNIQUE, mission_id TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS grants_used (grant_id TEXT PRIMARY KEY, action_key TEXT NOT NULL, used_at TEXT NOT NULL);
`;

/** Columns added after the first release: an older database file gains them (empty) when opened. */
const ADDED_COLUMNS: [table: string, column: string][] = [
  ['customers', 'phone'],
  ['customers', 'address'],
  ['payments', 'card_number'],
  ['cases', 'description'],
];

/**
 * The people behind the cases, as a support system holds them: name, email, phone, postal address, the
 * card the order was paid with, and the customer's own words (free text, with personal data in it).
 */
const PEOPLE: Record<number, [name: string, email: string, phone: string, address: string, card: string, note: string]> = {
  1001: ['Jane Doe', 'jane.doe@example.com', '+1 415 555 0132', '12 Harbour Road, Leeds LS1 4AB', '4111 1111 1111 1111',
    'Hi, Jane Doe here. The kettle arrived broken. Call me on 4155550132 or write to jane dot doe at example dot com.'],
  1002: ['Jürgen Müller', 'jürgen@müller.de', '+49 30 901820', 'Hauptstraße 5, 10115 Berlin', '5555 5555 5555 4444',
    'Die Maschine leckt. Erreichbar unter 030 901820, Jürgen Müller.'],
  1003: ["Aoife O'Brien", 'aoife.obrien@example.ie', '+353 87 123 4567', '14 Quay Street, Galway H91 X2YZ', '3782 822463 10005',
    "Screen dead on arrival. Refund to my card please. Aoife O'Brien, +353 87 123 4567."],
  1004: ['Li Wei', 'li.wei@example.cn', '+44 7911 123456', '221B Baker Street, London NW1 6XE', '6011 1111 1111 1117',
    'Headphones stopped working after a week. Li Wei, 07911 123456.'],
  1005: ['María José García', 'maria.garcia@example.es', '+34 612 345 678', 'Calle Mayor 10, 28013 Madrid', '4000 0566 5566 5556',
    'I was charged twice, see my bank: ES91 2100 0418 4502 0005 1332.'],
  1006: ['Oluwaseun Adeyemi', 'oluwaseun.adeyemi@example.ng', '+1 212 555 0199', '350 Fifth Avenue, New York, NY 10118', '5200 8282 8282 8210',
    'Corporate order cancelled by our procurement team. Contact oluwaseun.adeyemi@example.ng.'],
  1007: ['Min-jun Park', 'minjun.park@example.kr', '+1 646 555 0147', '1600 Amphitheatre Parkway, Mountain View, CA 94043', '3530 1113 3330 0000',
    'Delivery was late. Min-jun Park.'],
  1008: ['Rose Miller', 'rose.miller@example.co.uk', '+44 113 496 0000', '7 Park Lane, Leeds LS3 1EP', '4111 1111 1111 1111',
    'Wrong size delivered. Rose Miller, NI QQ 12 34 56 C, phone 0113 496 0000.'],
  1009: ['Tomás Silva', 'tomas.silva@example.pt', '+1 312 555 0178', '88 Lake Shore Drive, Chicago, IL 60611', '5555 5555 5555 4444',
    'Item never arrived. SSN 219-09-9999 is on my account if you need to verify me.'],
  1010: ['Priya Natarajan', 'priya.natarajan@example.in', '+44 20 7946 0958', '1 Canada Square, London E14 5AB', '3782 822463 10005',
    'We returned the office chairs. Priya Natarajan, procurement, +44 20 7946 0958.'],
}; // prettier-ignore

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
    for (const [table, column] of ADDED_COLUMNS) {
      const has = (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).some(
        (c) => c.name === column,
      );
      if (!has) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} TEXT`);
    }
    if (!fresh && !options.reset) return;
    const daysAgo = (days: number) => new Date(now.getTime() - days * 86_400_000).toISOString();
    const seedAll = db.transaction(() => {
      for (const table of ['grants_used', 'refunds', 'cases', 'payments', 'orders', 'customers'])
        db.exec(`DELETE FROM ${table}`);
      const customer = db.prepare('INSERT INTO customers VALUES (?, ?, ?, ?, ?)');
      const order = db.prepare('INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?)');
      const payment = db.prepare('INSERT INTO payments VALUES (?, ?, ?, ?, ?, ?)');
      const kase = db.prepare('INSERT INTO cases VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
      const all = [...CASES];
      for (let i = 0; i < (options.extraSmallCases ?? 0); i++)
        all.push([2000 + i, 7000 + i, 2500, 1500, 3, 'open', 'Bench refund']);
      for (const [caseNo, orderNo, total, refund, age, status, subject] of all) {
        const customerId = `CUS-${caseNo}`;
        const [name, email, phone, address, card, note] = PEOPLE[caseNo] ?? [
          `Customer ${caseNo}`,
          `customer${caseNo}@example.com`,
          null,
          null,
          null,
          null,
        ];
        customer.run(customerId, name, email, phone, address);
        order.run(`ORD-${orderNo}`, customerId, daysAgo(age), total, 'USD', 'delivered');
        payment.run(`PAY-${orderNo}`, `ORD-${orderNo}`, total, 'card', daysAgo(age), card);
        kase.run(
          `CASE-${caseNo}`,
          customerId,
          `ORD-${orderNo}`,
          subject,
          refund,
          status,
          daysAgo(Math.max(age - 2, 0)),
          note,
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
