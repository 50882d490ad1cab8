import type Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEnterpriseDb } from '../../../connectors/enterprise-db';
import { seedEnterpriseDb } from '../../../connectors/enterprise-db-seed';
import { ConnectorError, runRead, runWrite } from '../../../connectors/connector';
import type { Connector, Facts, OperationContext } from '../../../connectors/connector';
import { actionParamsHash, mintGrant } from '../../../core/grant';
import { generateEd25519KeyPair } from '../../../core/ed25519';

/**
 * Row-level scopes, facts and dry runs of the sample enterprise database: a mission confined to its
 * subject's rows, the facts policy decides on read from the system of record, and a write whose facts
 * no longer support its decision refused inside the effect's own transaction.
 */
const NOW = new Date('2025-03-01T09:30:00.000Z');
const SCOPES = ['cases:read', 'orders:read', 'refunds:read'];
const KEYS = generateEd25519KeyPair();
const CASE_1001 = { type: 'case', id: 'CASE-1001' };

let dir: string;
let db: Connector & { db: Database.Database };
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mandate-lp-'));
  const path = join(dir, 'enterprise.db');
  seedEnterpriseDb(path, { now: NOW });
  db = createEnterpriseDb(path);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const ctx = (extra: Partial<OperationContext> = {}): OperationContext => ({ missionId: 'm-1', now: NOW, ...extra });
const refusal = (fn: () => unknown): ConnectorError => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConnectorError);
    return err as ConnectorError;
  }
  throw new Error('expected a ConnectorError');
};
const spec = (operation: string) => db.operations[operation];
const refund = (overrides: Record<string, unknown> = {}) => ({
  orderId: 'ORD-5001',
  caseId: 'CASE-1001',
  amountCents: 2000,
  currency: 'USD',
  reason: 'Kettle arrived broken',
  ...overrides,
});
let grants = 0;
function granted(params: Record<string, unknown>, actionId: string, extra: Partial<OperationContext> = {}) {
  const value = mintGrant(
    {
      v: 1,
      grantId: `g-${++grants}`,
      missionId: 'm-1',
      actionId,
      operation: 'refunds.issue',
      paramsHash: actionParamsHash('refunds.issue', params),
      policyVersion: 'p1',
      approvers: [],
      issuedAt: NOW.toISOString(),
      expiresAt: new Date(NOW.getTime() + 60_000).toISOString(),
    },
    KEYS,
    NOW,
  );
  const grant = { value, publicKeys: { [KEYS.keyId]: KEYS.publicKeyPem }, policyVersion: 'p1' };
  return runWrite(db, 'refunds.issue', params, ctx({ actionId, grant, ...extra }));
}

describe('row-level scopes', () => {
  it('resolves a case subject to its case, order and customer, and a customer to all of theirs', () => {
    expect(db.subjects?.case('CASE-1001', ctx())).toEqual({
      case: ['CASE-1001'],
      order: ['ORD-5001'],
      customer: ['CUS-1001'],
    });
    expect(db.subjects?.customer('CUS-1006', ctx())).toEqual({
      customer: ['CUS-1006'],
      case: ['CASE-1006'],
      order: ['ORD-5006'],
    });
    expect(db.subjects?.case('CASE-9999', ctx())).toBeUndefined();
  });

  it('reads the subject’s own rows', () => {
    const subject = CASE_1001;
    expect(runRead(db, 'cases.get', { caseId: 'CASE-1001' }, SCOPES, ctx({ subject }))).toMatchObject({
      customer: { customerId: 'CUS-1001' },
    });
    expect(runRead(db, 'orders.get', { orderId: 'ORD-5001' }, SCOPES, ctx({ subject }))).toMatchObject({
      orderId: 'ORD-5001',
    });
    expect(runRead(db, 'refunds.listForOrder', { orderId: 'ORD-5001' }, SCOPES, ctx({ subject }))).toMatchObject({
      count: 0,
    });
  });

  it.each([
    [
      'cases.get',
      { caseId: 'CASE-1006' },
      /caseId CASE-1006 is not a case of the mission's subject \(case CASE-1001\)/,
    ],
    ['orders.get', { orderId: 'ORD-5006' }, /orderId ORD-5006 is not an order of the mission's subject/],
    ['refunds.listForOrder', { orderId: 'ORD-5005' }, /orderId ORD-5005 is not an order/],
  ])('refuses %s of another customer’s rows (%j)', (operation, params, message) => {
    const err = refusal(() => runRead(db, operation, params, SCOPES, ctx({ subject: CASE_1001 })));
    expect(err.code).toBe('outside_subject');
    expect(err.message).toMatch(message);
  });

  it('fails closed on a subject that does not exist or a type the connector cannot resolve', () => {
    const ghost = refusal(() =>
      runRead(db, 'cases.get', { caseId: 'CASE-9999' }, SCOPES, ctx({ subject: { type: 'case', id: 'CASE-9999' } })),
    );
    expect(ghost.message).toMatch(/subject case CASE-9999 does not exist/);
    const odd = refusal(() =>
      runRead(db, 'cases.get', { caseId: 'CASE-1001' }, SCOPES, ctx({ subject: { type: 'tenant', id: 't' } })),
    );
    expect(odd.message).toMatch(/cannot resolve a subject of type tenant/);
  });

  it('without a subject, reads are scoped per table only (missions that name none)', () => {
    expect(runRead(db, 'cases.get', { caseId: 'CASE-1006' }, SCOPES, ctx())).toMatchObject({ caseId: 'CASE-1006' });
  });
});

describe('facts and the dry run of refunds.issue', () => {
  it('loads the facts policy decides on from the system of record', () => {
    const facts = spec('refunds.issue').facts!.load(
      refund({ orderId: 'ORD-5005', caseId: 'CASE-1005' }) as never,
      ctx(),
    );
    expect(facts).toEqual({
      caseStatus: 'open',
      customerId: 'CUS-1005',
      orderAgeDays: 5,
      orderTotalCents: 3000,
      orderCurrency: 'USD',
      refundedCents: 3000,
      refundCount: 1,
    });
    expect(spec('refunds.issue').facts!.names).toEqual(Object.keys(facts));
    const closed = spec('refunds.issue').facts!.load(
      refund({ orderId: 'ORD-5007', caseId: 'CASE-1007' }) as never,
      ctx(),
    );
    expect(closed).toMatchObject({ caseStatus: 'closed', orderAgeDays: 8 });
  });

  it('reports missing rows as not_found rather than inventing facts', () => {
    const err = refusal(() => spec('refunds.issue').facts!.load(refund({ caseId: 'CASE-9999' }) as never, ctx()));
    expect([err.code, err.message]).toEqual(['not_found', 'case CASE-9999 does not exist']);
  });

  it.each([
    ['above the order total', { amountCents: 4600 }, "refund would exceed order ORD-5001's total"],
    ['in another currency', { currency: 'EUR' }, 'order ORD-5001 is in USD, not EUR'],
    ['on an order already refunded in full', { orderId: 'ORD-5005', caseId: 'CASE-1005', amountCents: 1 }, /exceed/],
  ])('the dry run refuses a refund %s, and changes nothing', (_what, overrides, message) => {
    const err = refusal(() => spec('refunds.issue').validate!(refund(overrides) as never, ctx()));
    expect(err.code).toBe('refused');
    expect(err.message).toMatch(message);
    expect(db.db.prepare('SELECT COUNT(*) AS n FROM refunds').get()).toEqual({ n: 1 });
  });

  it('the dry run accepts a refund that can run', () => {
    expect(() => spec('refunds.issue').validate!(refund() as never, ctx())).not.toThrow();
  });
});

describe('the re-check inside the effect’s transaction', () => {
  it('sees the facts as they are in the transaction and refuses when policy no longer holds, writing nothing', () => {
    const seen: Facts[] = [];
    // A stand-in for policy: at most 30.00 refunded on an order without a human.
    const recheck = (facts: Facts) => {
      seen.push(facts);
      return Number(facts.refundedCents) + 2000 > 3000 ? 'policy now requires supervisor approval' : undefined;
    };
    expect(granted(refund(), 'a1', { recheck })).toMatchObject({ alreadyExecuted: false });
    const err = refusal(() => granted(refund(), 'a2', { recheck }));
    expect([err.code, err.message]).toEqual([
      'refused',
      'refunds.issue refused: policy now requires supervisor approval',
    ]);
    expect(seen.map((f) => f.refundedCents)).toEqual([0, 2000]);
    const rows = db.db.prepare("SELECT COUNT(*) AS n FROM refunds WHERE order_id = 'ORD-5001'").get();
    expect(rows).toEqual({ n: 1 });
    // The refused action's grant was not spent (the transaction rolled back).
    expect(db.db.prepare('SELECT COUNT(*) AS n FROM grants_used').get()).toEqual({ n: 1 });
  });

  it('a retry of an action that already took effect returns it without re-checking', () => {
    granted(refund(), 'a1');
    const refuseAll = () => 'should not be asked';
    expect(granted(refund(), 'a1', { recheck: refuseAll })).toMatchObject({ alreadyExecuted: true });
  });
});
