import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Connector, Facts, OperationContext, OperationSpec } from './connector';
import { ConnectorError } from './connector';

/**
 * The sample "enterprise systems": customers, orders, payments, support cases and refunds in one
 * SQLite file. Reads are plain queries; `refunds.issue` is idempotent on `${missionId}/${actionId}`.
 */

const DAY_MS = 86_400_000;
const caseId = z.string().regex(/^CASE-[0-9]{4,}$/);
const orderId = z.string().regex(/^ORD-[0-9]{4,}$/);

export const RefundParams = z
  .object({
    orderId,
    caseId,
    amountCents: z.number().int().positive(),
    currency: z.string().regex(/^[A-Z]{3}$/),
    reason: z.string().min(1).max(500),
  })
  .strict();
export type RefundParams = z.infer<typeof RefundParams>;

export interface RefundResult {
  refundId: string;
  orderId: string;
  amountCents: number;
  alreadyExecuted: boolean;
}

/** Opens the database file (it must have been seeded) and declares its operations. */
export function createEnterpriseDb(path: string): Connector & { db: Database.Database } {
  const db = new Database(path, { fileMustExist: true });
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');

  const op = <P, R>(spec: OperationSpec<P, R>) => spec as unknown as OperationSpec<never, unknown>;

  const getCase = db.prepare(
    `SELECT c.case_id, c.customer_id, c.order_id, c.subject, c.description, c.requested_refund_cents, c.status,
            c.opened_at, cu.name, cu.email, cu.phone, cu.address
       FROM cases c JOIN customers cu ON cu.customer_id = c.customer_id WHERE c.case_id = ?`,
  );
  const getOrder = db.prepare('SELECT * FROM orders WHERE order_id = ?');
  const getPayments = db.prepare(
    'SELECT payment_id, amount_cents, method, card_number, captured_at FROM payments WHERE order_id = ?',
  );
  const getRefunds = db.prepare(
    'SELECT refund_id, amount_cents, created_at FROM refunds WHERE order_id = ? ORDER BY created_at',
  );
  const refundByKey = db.prepare('SELECT * FROM refunds WHERE action_key = ?');
  const caseRow = db.prepare('SELECT case_id, order_id, customer_id, status FROM cases WHERE case_id = ?');
  const customerCases = db.prepare('SELECT case_id, order_id FROM cases WHERE customer_id = ?');
  const customerOrders = db.prepare('SELECT order_id FROM orders WHERE customer_id = ?');
  const insertRefund = db.prepare(
    `INSERT INTO refunds (refund_id, order_id, case_id, amount_cents, currency, reason, action_key, mission_id, created_at)
     VALUES (@refundId, @orderId, @caseId, @amountCents, @currency, @reason, @actionKey, @missionId, @createdAt)`,
  );

  db.exec(
    'CREATE TABLE IF NOT EXISTS grants_used (grant_id TEXT PRIMARY KEY, action_key TEXT NOT NULL, used_at TEXT NOT NULL)',
  );
  const grantUsed = db.prepare('SELECT 1 FROM grants_used WHERE grant_id = ?');
  const useGrant = db.prepare('INSERT INTO grants_used (grant_id, action_key, used_at) VALUES (?, ?, ?)');

  const issueRefund = db.transaction((p: RefundParams, ctx: OperationContext): RefundResult => {
    const actionKey = `${ctx.missionId}/${ctx.actionId}`;
    const existing = refundByKey.get(actionKey) as
      { refund_id: string; order_id: string; amount_cents: number } | undefined;
    if (existing) {
      return {
        refundId: existing.refund_id,
        orderId: existing.order_id,
        amountCents: existing.amount_cents,
        alreadyExecuted: true,
      };
    }
    // Single use: the grant is recorded with the write, in one transaction.
    if (!ctx.grantId) throw new ConnectorError('refunds.issue refused: no verified grant', 'grant_refused');
    if (grantUsed.get(ctx.grantId)) {
      throw new ConnectorError(`refunds.issue refused: grant ${ctx.grantId} was already used`, 'grant_refused');
    }
    useGrant.run(ctx.grantId, actionKey, ctx.now.toISOString());
    checkRefund(p);
    const refundId = `RF-${randomUUID().slice(0, 8).toUpperCase()}`;
    insertRefund.run({ ...p, refundId, actionKey, missionId: ctx.missionId, createdAt: ctx.now.toISOString() });
    return { refundId, orderId: p.orderId, amountCents: p.amountCents, alreadyExecuted: false };
  });

  type OrderRow = { order_id: string; customer_id: string; placed_at: string; total_cents: number; currency: string };
  const refundedOn = (order: string) =>
    (getRefunds.all(order) as { amount_cents: number }[]).reduce((sum, r) => sum + r.amount_cents, 0);

  /** What the system of record needs for a refund to run at all (also checked again inside the write). */
  function checkRefund(p: RefundParams): void {
    if (!caseRow.get(p.caseId)) throw new ConnectorError(`case ${p.caseId} does not exist`, 'not_found');
    const order = getOrder.get(p.orderId) as OrderRow | undefined;
    if (!order) throw new ConnectorError(`order ${p.orderId} does not exist`, 'not_found');
    if (order.currency !== p.currency) {
      throw new ConnectorError(`order ${p.orderId} is in ${order.currency}, not ${p.currency}`, 'refused');
    }
    if (refundedOn(p.orderId) + p.amountCents > order.total_cents) {
      throw new ConnectorError(`refund would exceed order ${p.orderId}'s total`, 'refused');
    }
  }

  /** The facts the refund policy decides on, from the system of record (never from the model's params). */
  function refundFacts(p: RefundParams, ctx: OperationContext): Facts {
    const kase = caseRow.get(p.caseId) as { status: string; customer_id: string } | undefined;
    if (!kase) throw new ConnectorError(`case ${p.caseId} does not exist`, 'not_found');
    const order = getOrder.get(p.orderId) as OrderRow | undefined;
    if (!order) throw new ConnectorError(`order ${p.orderId} does not exist`, 'not_found');
    const refunds = getRefunds.all(p.orderId) as { amount_cents: number }[];
    return {
      caseStatus: kase.status,
      customerId: order.customer_id,
      orderAgeDays: Math.floor((ctx.now.getTime() - Date.parse(order.placed_at)) / DAY_MS),
      orderTotalCents: order.total_cents,
      orderCurrency: order.currency,
      refundedCents: refunds.reduce((sum, r) => sum + r.amount_cents, 0),
      refundCount: refunds.length,
    };
  }

  const operations: Record<string, OperationSpec<never, unknown>> = {
    'cases.get': op({
      kind: 'read',
      scope: 'cases:read',
      description: 'A support case with its customer',
      params: z.object({ caseId }).strict(),
      personalData: {
        'customer.name': 'name',
        'customer.email': 'email',
        'customer.phone': 'phone',
        'customer.address': 'address',
        subject: 'free_text',
        description: 'free_text',
      },
      rows: { caseId: 'case' },
      run: ({ caseId: id }) => {
        const row = getCase.get(id) as Record<string, string | number> | undefined;
        if (!row) throw new ConnectorError(`case ${id} does not exist`, 'not_found');
        return {
          caseId: row.case_id,
          orderId: row.order_id,
          subject: row.subject,
          description: row.description,
          requestedRefundCents: row.requested_refund_cents,
          status: row.status,
          openedAt: row.opened_at,
          customer: {
            customerId: row.customer_id,
            name: row.name,
            email: row.email,
            phone: row.phone,
            address: row.address,
          },
        };
      },
    }),
    'orders.get': op({
      kind: 'read',
      scope: 'orders:read',
      description: 'An order with its payments and age in days',
      params: z.object({ orderId }).strict(),
      personalData: { 'payments.card_number': 'payment' },
      rows: { orderId: 'order' },
      run: ({ orderId: id }, ctx) => {
        const row = getOrder.get(id) as Record<string, string | number> | undefined;
        if (!row) throw new ConnectorError(`order ${id} does not exist`, 'not_found');
        const placedAt = String(row.placed_at);
        return {
          orderId: row.order_id,
          customerId: row.customer_id,
          placedAt,
          ageDays: Math.floor((ctx.now.getTime() - Date.parse(placedAt)) / DAY_MS),
          totalCents: row.total_cents,
          currency: row.currency,
          status: row.status,
          payments: getPayments.all(id),
        };
      },
    }),
    'refunds.listForOrder': op({
      kind: 'read',
      scope: 'refunds:read',
      description: 'Refunds already issued on an order',
      params: z.object({ orderId }).strict(),
      rows: { orderId: 'order' },
      run: ({ orderId: id }) => {
        const items = getRefunds.all(id) as { amount_cents: number }[];
        return { orderId: id, count: items.length, totalCents: items.reduce((s, r) => s + r.amount_cents, 0), items };
      },
    }),
    'refunds.issue': op({
      kind: 'write',
      scope: 'refunds:write',
      description: 'Issue a refund on an order (idempotent per mission action)',
      params: RefundParams,
      rows: { orderId: 'order', caseId: 'case' },
      facts: {
        names: [
          'caseStatus',
          'customerId',
          'orderAgeDays',
          'orderTotalCents',
          'orderCurrency',
          'refundedCents',
          'refundCount',
        ],
        load: refundFacts,
      },
      validate: (p: RefundParams) => checkRefund(p),
      // Immediate: the write lock is taken first, so concurrent refunds on an order are serialised.
      transaction: <T>(fn: () => T): T => db.transaction(fn).immediate(),
      run: (p: RefundParams, ctx) => issueRefund(p, ctx),
      executed: (ctx) => {
        const row = refundByKey.get(`${ctx.missionId}/${ctx.actionId}`) as
          { refund_id: string; order_id: string; amount_cents: number } | undefined;
        return (
          row && {
            refundId: row.refund_id,
            orderId: row.order_id,
            amountCents: row.amount_cents,
            alreadyExecuted: true,
          }
        );
      },
    }),
  };

  /** Subjects of missions on this system: a support case (its case, order and customer), or a customer. */
  const subjects: Connector['subjects'] = {
    case: (id) => {
      const row = caseRow.get(id) as { case_id: string; order_id: string; customer_id: string } | undefined;
      return row && { case: [row.case_id], order: [row.order_id], customer: [row.customer_id] };
    },
    customer: (id) => {
      const cases = customerCases.all(id) as { case_id: string; order_id: string }[];
      const orders = (customerOrders.all(id) as { order_id: string }[]).map((o) => o.order_id);
      if (cases.length === 0 && orders.length === 0) return undefined;
      return {
        customer: [id],
        case: cases.map((c) => c.case_id),
        order: [...new Set([...orders, ...cases.map((c) => c.order_id)])],
      };
    },
  };

  return { name: 'enterprise-db', operations, subjects, db, close: () => db.close() };
}
