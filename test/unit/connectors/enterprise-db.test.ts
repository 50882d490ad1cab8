import type Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEnterpriseDb } from '../../../connectors/enterprise-db';
import type { RefundResult } from '../../../connectors/enterprise-db';
import { seedEnterpriseDb } from '../../../connectors/enterprise-db-seed';
import { ConnectorError, runRead, runWrite } from '../../../connectors/connector';
import type { Connector, OperationContext } from '../../../connectors/connector';
import { actionParamsHash, mintGrant } from '../../../core/grant';
import { generateEd25519KeyPair } from '../../../core/ed25519';

const NOW = new Date('2025-03-01T09:30:00.000Z');
const DAY_MS = 86_400_000;
const SCOPES = ['cases:read', 'orders:read', 'refunds:read'];
const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY_MS).toISOString();

let dir: string;
let path: string;
let db: Connector & { db: Database.Database };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mandate-edb-'));
  path = join(dir, 'nested', 'enterprise.db');
  seedEnterpriseDb(path, { now: NOW });
  db = createEnterpriseDb(path);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const ctx = (extra: Partial<OperationContext> = {}): OperationContext => ({
  missionId: 'mission-1',
  now: NOW,
  ...extra,
});
const read = (operation: string, params: unknown, scopes: readonly string[] = SCOPES) =>
  runRead(db, operation, params, scopes, ctx());
const count = (sql: string, ...args: unknown[]): number => (db.db.prepare(sql).get(...args) as { n: number }).n;
const refundCount = () => count('SELECT COUNT(*) AS n FROM refunds');
const grantsUsed = () => db.db.prepare('SELECT * FROM grants_used ORDER BY grant_id').all();

const KEYS = generateEd25519KeyPair();
const POLICY_VERSION = 'policy-v1';
let grantSeq = 0;

/**
 * A write context with a fresh, valid execution grant for exactly this action (a new grant id each
 * call: the integration refuses a grant id it has already used).
 */
function writeCtx(params: unknown, actionId = 'action-1', missionId = 'mission-1'): OperationContext {
  grantSeq += 1;
  const value = mintGrant(
    {
      v: 1,
      grantId: `grant-${grantSeq}`,
      missionId,
      actionId,
      operation: 'refunds.issue',
      paramsHash: actionParamsHash('refunds.issue', params),
      policyVersion: POLICY_VERSION,
      approvers: [],
      issuedAt: NOW.toISOString(),
      expiresAt: new Date(NOW.getTime() + 60_000).toISOString(),
    },
    KEYS,
    NOW,
  );
  return {
    missionId,
    actionId,
    now: NOW,
    grant: { value, publicKeys: { [KEYS.keyId]: KEYS.publicKeyPem }, policyVersion: POLICY_VERSION },
  };
}

/** The ConnectorError thrown by fn, failing the test when nothing (or something else) was thrown. */
function failure(fn: () => unknown): ConnectorError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConnectorError);
    return err as ConnectorError;
  }
  throw new Error('expected an ConnectorError');
}

const refundParams = (overrides: Record<string, unknown> = {}) => ({
  orderId: 'ORD-5002',
  caseId: 'CASE-1002',
  amountCents: 20_000,
  currency: 'USD',
  reason: 'Espresso machine leaks',
  ...overrides,
});

describe('enterprise-db reads', () => {
  it('declares its operations with scopes and kinds', () => {
    expect(db.name).toBe('enterprise-db');
    expect(
      Object.fromEntries(Object.entries(db.operations).map(([name, spec]) => [name, [spec.kind, spec.scope]])),
    ).toEqual({
      'cases.get': ['read', 'cases:read'],
      'orders.get': ['read', 'orders:read'],
      'refunds.listForOrder': ['read', 'refunds:read'],
      'refunds.issue': ['write', 'refunds:write'],
    });
  });

  it('declares personal data only on fields its reads return', () => {
    const declared = (operation: string) => Object.keys(db.operations[operation].personalData ?? {});
    const has = (value: unknown, path: string): boolean => {
      const [head, ...rest] = path.split('.');
      if (Array.isArray(value)) return value.length > 0 && value.every((item) => has(item, path));
      if (value === null || typeof value !== 'object' || !Object.hasOwn(value, head)) return false;
      return rest.length === 0 || has((value as Record<string, unknown>)[head], rest.join('.'));
    };
    const caseRow = read('cases.get', { caseId: 'CASE-1001' });
    const order = read('orders.get', { orderId: 'ORD-5001' });
    expect(declared('cases.get').filter((p) => !has(caseRow, p))).toEqual([]);
    expect(declared('orders.get').filter((p) => !has(order, p))).toEqual([]);
    expect(declared('cases.get')).toEqual(
      expect.arrayContaining(['customer.name', 'customer.email', 'customer.phone', 'customer.address', 'description']),
    );
  });

  it('brings a database seeded before personal data columns existed up to date', () => {
    db.close();
    const old = join(dir, 'old.db');
    const Sqlite = jest.requireActual<typeof Database>('better-sqlite3');
    const raw = new Sqlite(old);
    raw.exec('CREATE TABLE customers (customer_id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL)');
    raw.close();
    seedEnterpriseDb(old, { now: NOW });
    db = createEnterpriseDb(old);
    const columns = (db.db.prepare('PRAGMA table_info(customers)').all() as { name: string }[]).map((c) => c.name);
    expect(columns).toEqual(['customer_id', 'name', 'email', 'phone', 'address']);
  });

  it('cases.get returns the case with its customer', () => {
    expect(read('cases.get', { caseId: 'CASE-1002' })).toEqual({
      caseId: 'CASE-1002',
      orderId: 'ORD-5002',
      subject: 'Espresso machine leaks',
      description: 'Die Maschine leckt. Erreichbar unter 030 901820, Jürgen Müller.',
      requestedRefundCents: 45000,
      status: 'open',
      openedAt: daysAgo(18),
      customer: {
        customerId: 'CUS-1002',
        name: 'Jürgen Müller',
        email: 'jürgen@müller.de',
        phone: '+49 30 901820',
        address: 'Hauptstraße 5, 10115 Berlin',
      },
    });
    expect(read('cases.get', { caseId: 'CASE-1007' })).toMatchObject({ status: 'closed', requestedRefundCents: 2000 });
  });

  it('orders.get returns the order with its payments and an age computed from ctx.now', () => {
    expect(read('orders.get', { orderId: 'ORD-5004' })).toEqual({
      orderId: 'ORD-5004',
      customerId: 'CUS-1004',
      placedAt: daysAgo(200),
      ageDays: 200,
      totalCents: 6000,
      currency: 'USD',
      status: 'delivered',
      payments: [
        {
          payment_id: 'PAY-5004',
          amount_cents: 6000,
          method: 'card',
          card_number: '6011 1111 1111 1117',
          captured_at: daysAgo(200),
        },
      ],
    });
    // The age follows the clock of the caller, not the clock of the seed.
    const later = runRead(
      db,
      'orders.get',
      { orderId: 'ORD-5001' },
      SCOPES,
      ctx({ now: new Date(NOW.getTime() + 5.5 * DAY_MS) }),
    );
    expect((later as { ageDays: number }).ageDays).toBe(15);
    const justBefore = runRead(
      db,
      'orders.get',
      { orderId: 'ORD-5001' },
      SCOPES,
      ctx({ now: new Date(NOW.getTime() - 1) }),
    );
    expect((justBefore as { ageDays: number }).ageDays).toBe(9);
  });

  it('refunds.listForOrder counts and totals prior refunds', () => {
    expect(read('refunds.listForOrder', { orderId: 'ORD-5005' })).toEqual({
      orderId: 'ORD-5005',
      count: 1,
      totalCents: 3000,
      items: [{ refund_id: 'RF-SEEDED01', amount_cents: 3000, created_at: daysAgo(4) }],
    });
    expect(read('refunds.listForOrder', { orderId: 'ORD-5001' })).toEqual({
      orderId: 'ORD-5001',
      count: 0,
      totalCents: 0,
      items: [],
    });
  });

  it('reports a case or order that does not exist as not_found', () => {
    const noCase = failure(() => read('cases.get', { caseId: 'CASE-9999' }));
    expect([noCase.code, noCase.message]).toEqual(['not_found', 'case CASE-9999 does not exist']);
    const noOrder = failure(() => read('orders.get', { orderId: 'ORD-9999' }));
    expect([noOrder.code, noOrder.message]).toEqual(['not_found', 'order ORD-9999 does not exist']);
  });

  it('refuses a read outside the mission’s scopes, naming the scope needed and held', () => {
    const err = failure(() => read('orders.get', { orderId: 'ORD-5001' }, ['cases:read']));
    expect(err.code).toBe('out_of_scope');
    expect(err.message).toBe('orders.get needs scope orders:read; the mission holds cases:read');
    expect(failure(() => read('cases.get', { caseId: 'CASE-1001' }, [])).message).toBe(
      'cases.get needs scope cases:read; the mission holds none',
    );
  });

  it('refuses to run a write as a read, even with the write scope, and changes nothing', () => {
    const err = failure(() => read('refunds.issue', refundParams(), [...SCOPES, 'refunds:write']));
    expect(err.code).toBe('not_a_read');
    expect(err.message).toBe('refunds.issue changes state; it cannot run as a read');
    expect(refundCount()).toBe(1);
  });

  it.each(['orders.delete', 'constructor', 'toString', ''])(
    'refuses the unknown operation %j, listing the known ones',
    (operation) => {
      const err = failure(() => read(operation, {}));
      expect(err.code).toBe('unknown_operation');
      expect(err.message).toBe(
        `enterprise-db has no operation ${operation} (it offers cases.get, orders.get, refunds.listForOrder, refunds.issue)`,
      );
    },
  );

  it.each([
    ['a malformed caseId', 'cases.get', { caseId: 'case-1' }, /^invalid params for cases\.get: caseId: /],
    ['a missing caseId', 'cases.get', {}, /^invalid params for cases\.get: caseId: /],
    ['an extra key', 'orders.get', { orderId: 'ORD-5001', limit: 1 }, /^invalid params for orders\.get: .*"limit"/],
    ['a non-object', 'refunds.listForOrder', 'ORD-5001', /^invalid params for refunds\.listForOrder: params: /],
  ])('refuses %s with invalid_params naming the field', (_label, operation, params, message) => {
    const err = failure(() => read(operation, params));
    expect(err.code).toBe('invalid_params');
    expect(err.message).toMatch(message);
  });
});

describe('enterprise-db refunds.issue', () => {
  const issue = (params: unknown, actionId = 'action-1', missionId = 'mission-1') =>
    runWrite(db, 'refunds.issue', params, writeCtx(params, actionId, missionId)) as RefundResult;

  it('inserts one refund row bound to the mission action', () => {
    const result = issue(refundParams());
    expect(result).toEqual({
      refundId: expect.stringMatching(/^RF-[0-9A-F]{8}$/),
      orderId: 'ORD-5002',
      amountCents: 20_000,
      alreadyExecuted: false,
    });
    expect(db.db.prepare('SELECT * FROM refunds WHERE refund_id = ?').get(result.refundId)).toEqual({
      refund_id: result.refundId,
      order_id: 'ORD-5002',
      case_id: 'CASE-1002',
      amount_cents: 20_000,
      currency: 'USD',
      reason: 'Espresso machine leaks',
      action_key: 'mission-1/action-1',
      mission_id: 'mission-1',
      created_at: NOW.toISOString(),
    });
    expect(refundCount()).toBe(2);
  });

  it('records the grant it acted on in grants_used, in the same transaction as the refund', () => {
    expect(grantsUsed()).toEqual([]);
    const context = writeCtx(refundParams());
    runWrite(db, 'refunds.issue', refundParams(), context);
    const { grantId } = (context.grant?.value as { claims: { grantId: string } }).claims;
    expect(grantsUsed()).toEqual([{ grant_id: grantId, action_key: 'mission-1/action-1', used_at: NOW.toISOString() }]);
    // A write refused inside the transaction rolls the grant record back with it.
    expect(() => issue(refundParams({ amountCents: 45_001 }), 'action-2')).toThrow(ConnectorError);
    expect(grantsUsed()).toHaveLength(1);
  });

  it('is idempotent on missionId/actionId: a repeat returns the first refund and inserts nothing', () => {
    const first = issue(refundParams());
    const again = issue(refundParams());
    expect(again).toEqual({ ...first, alreadyExecuted: true });
    expect(refundCount()).toBe(2);
    // Even a retry whose params would now be refused returns the recorded result.
    expect(issue(refundParams({ amountCents: 45_000 }))).toEqual({ ...first, alreadyExecuted: true });
    expect(refundCount()).toBe(2);
    // Only the grant that executed is recorded; the retries' grants were not consumed.
    expect(grantsUsed()).toHaveLength(1);
  });

  it('inserts again for another actionId or mission while the order total is not exceeded', () => {
    const first = issue(refundParams({ amountCents: 20_000 }), 'action-1');
    const second = issue(refundParams({ amountCents: 20_000 }), 'action-2');
    expect(second.alreadyExecuted).toBe(false);
    expect(second.refundId).not.toBe(first.refundId);
    // Exactly the order total (45000) is allowed; one cent more is not.
    const third = issue(refundParams({ amountCents: 5_000 }), 'action-1', 'mission-2');
    expect(third.alreadyExecuted).toBe(false);
    expect(count('SELECT COUNT(*) AS n FROM refunds WHERE order_id = ?', 'ORD-5002')).toBe(3);
    const over = failure(() => issue(refundParams({ amountCents: 1 }), 'action-3'));
    expect([over.code, over.message]).toEqual(['refused', "refund would exceed order ORD-5002's total"]);
    expect(count('SELECT COUNT(*) AS n FROM refunds WHERE order_id = ?', 'ORD-5002')).toBe(3);
  });

  it('refuses a single refund above the order total and one on an already refunded order', () => {
    expect(failure(() => issue(refundParams({ amountCents: 45_001 }))).message).toBe(
      "refund would exceed order ORD-5002's total",
    );
    expect(failure(() => issue(refundParams({ orderId: 'ORD-5005', caseId: 'CASE-1005', amountCents: 1 }))).code).toBe(
      'refused',
    );
    expect(refundCount()).toBe(1);
  });

  it('refuses a currency that differs from the order’s', () => {
    const err = failure(() => issue(refundParams({ currency: 'EUR' })));
    expect([err.code, err.message]).toEqual(['refused', 'order ORD-5002 is in USD, not EUR']);
    expect(refundCount()).toBe(1);
  });

  it('refuses a refund on an order that does not exist', () => {
    const err = failure(() => issue(refundParams({ orderId: 'ORD-9999' })));
    expect([err.code, err.message]).toEqual(['not_found', 'order ORD-9999 does not exist']);
  });

  it.each([undefined, ''])('refuses a write without an actionId (%j)', (actionId) => {
    const err = failure(() => runWrite(db, 'refunds.issue', refundParams(), { ...writeCtx(refundParams()), actionId }));
    expect([err.code, err.message]).toEqual(['invalid_params', 'refunds.issue needs an actionId for idempotency']);
    expect(refundCount()).toBe(1);
  });

  it.each([
    ['a fractional amount', { amountCents: 10.5 }, 'amountCents'],
    ['a negative amount', { amountCents: -100 }, 'amountCents'],
    ['an amount as a string', { amountCents: '100' }, 'amountCents'],
    ['a lower-case currency', { currency: 'usd' }, 'currency'],
    ['an empty reason', { reason: '' }, 'reason'],
    ['a malformed orderId', { orderId: '5002' }, 'orderId'],
  ])('refuses %s with invalid_params naming the field', (_label, overrides, field) => {
    const err = failure(() => issue(refundParams(overrides)));
    expect(err.code).toBe('invalid_params');
    expect(err.message).toMatch(new RegExp(`^invalid params for refunds\\.issue: ${field}: `));
    expect(refundCount()).toBe(1);
  });

  it('refuses to run a read as a write and an unknown write', () => {
    const asWrite = failure(() => runWrite(db, 'cases.get', { caseId: 'CASE-1001' }, ctx({ actionId: 'a' })));
    expect([asWrite.code, asWrite.message]).toEqual(['not_a_write', 'cases.get is a read, not an action']);
    expect(failure(() => runWrite(db, 'refunds.void', {}, ctx({ actionId: 'a' }))).code).toBe('unknown_operation');
  });
});

describe('seedEnterpriseDb', () => {
  const cases = () => count('SELECT COUNT(*) AS n FROM cases');

  it('seeds the ten documented cases, one customer, order and payment each, and one earlier refund', () => {
    expect(cases()).toBe(10);
    expect(count('SELECT COUNT(*) AS n FROM customers')).toBe(10);
    expect(count('SELECT COUNT(*) AS n FROM orders')).toBe(10);
    expect(count('SELECT COUNT(*) AS n FROM payments')).toBe(10);
    expect(grantsUsed()).toEqual([]);
    expect(refundCount()).toBe(1);
    const rows = db.db
      .prepare('SELECT case_id, order_id, requested_refund_cents AS r FROM cases ORDER BY case_id')
      .all();
    expect(rows.map((row) => Object.values(row as object).join(' '))).toEqual([
      'CASE-1001 ORD-5001 4599',
      'CASE-1002 ORD-5002 45000',
      'CASE-1003 ORD-5003 82000',
      'CASE-1004 ORD-5004 6000',
      'CASE-1005 ORD-5005 3000',
      'CASE-1006 ORD-5006 900000',
      'CASE-1007 ORD-5007 2000',
      'CASE-1008 ORD-5008 25000',
      'CASE-1009 ORD-5009 17500',
      'CASE-1010 ORD-5010 240000',
    ]);
  });

  it('leaves an existing database alone when seeded again without reset', () => {
    issue();
    db.db.prepare("UPDATE cases SET status = 'closed' WHERE case_id = 'CASE-1001'").run();
    seedEnterpriseDb(path, { now: new Date('2030-01-01T00:00:00.000Z'), extraSmallCases: 3 });
    expect(refundCount()).toBe(2);
    expect(cases()).toBe(10);
    expect(read('cases.get', { caseId: 'CASE-1001' })).toMatchObject({ status: 'closed' });
    expect(read('orders.get', { orderId: 'ORD-5001' })).toMatchObject({ placedAt: daysAgo(10) });
  });

  it('restores the seed with reset, relative to the new now', () => {
    issue();
    db.db.prepare("UPDATE cases SET status = 'closed' WHERE case_id = 'CASE-1001'").run();
    const later = new Date('2030-01-01T00:00:00.000Z');
    seedEnterpriseDb(path, { now: later, reset: true });
    expect(refundCount()).toBe(1);
    expect(grantsUsed()).toEqual([]);
    expect(cases()).toBe(10);
    expect(read('cases.get', { caseId: 'CASE-1001' })).toMatchObject({ status: 'open' });
    const order = runRead(db, 'orders.get', { orderId: 'ORD-5001' }, SCOPES, ctx({ now: later }));
    expect(order).toMatchObject({ placedAt: new Date(later.getTime() - 10 * DAY_MS).toISOString(), ageDays: 10 });
  });

  it('adds extraSmallCases as small open cases with their own orders', () => {
    seedEnterpriseDb(path, { now: NOW, reset: true, extraSmallCases: 3 });
    expect(cases()).toBe(13);
    expect(count('SELECT COUNT(*) AS n FROM orders')).toBe(13);
    expect(read('cases.get', { caseId: 'CASE-2002' })).toMatchObject({
      orderId: 'ORD-7002',
      requestedRefundCents: 1500,
      status: 'open',
      customer: { customerId: 'CUS-2002' },
    });
    expect(read('orders.get', { orderId: 'ORD-7000' })).toMatchObject({ totalCents: 2500, ageDays: 3 });
    expect(() => read('cases.get', { caseId: 'CASE-2003' })).toThrow('case CASE-2003 does not exist');
  });

  it('refuses to open a database file that was never seeded', () => {
    expect(() => createEnterpriseDb(join(dir, 'missing.db'))).toThrow();
  });

  function issue(): void {
    runWrite(db, 'refunds.issue', refundParams(), writeCtx(refundParams()));
  }
});
