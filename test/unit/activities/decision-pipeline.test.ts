import Database from 'better-sqlite3';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stillHolds } from '../../../activities/decision-pipeline';
import { createMissionActivities } from '../../../activities/mission';
import { Catalog, DEFAULT_CATALOG_DIR } from '../../../catalog/catalog';
import { seedEnterpriseDb } from '../../../connectors/enterprise-db-seed';
import type { BoundDecision } from '../../../contract/mission';
import { buildWorkerDeps } from '../../../workers/deps';

/**
 * The decision step end to end on a real database: params, subject, facts from the system of record,
 * Cedar, then the connector's dry run. Every refusal is a `deny` that names its rule or check.
 */
const dir = mkdtempSync(join(tmpdir(), 'mandate-pipeline-'));
const dbPath = join(dir, 'enterprise.db');
seedEnterpriseDb(dbPath);
const deps = buildWorkerDeps({ enterpriseDb: dbPath, trustedSigners: [] });
const activities = createMissionActivities(deps);
const definitionVersion = Catalog.load().get('customer-refund').definitionVersion;
afterAll(() => {
  deps.close();
  rmSync(dir, { recursive: true, force: true });
});

const CASES: Record<string, string> = { 'CASE-1001': 'ORD-5001', 'CASE-1002': 'ORD-5002', 'CASE-1004': 'ORD-5004' };
const refund = (caseId: string, amountCents: number, overrides: Record<string, unknown> = {}) => ({
  orderId: CASES[caseId] ?? `ORD-${Number(caseId.slice(5)) + 4000}`,
  caseId,
  amountCents,
  currency: 'USD',
  reason: 'broken',
  ...overrides,
});
const decide = (subjectCase: string, params: Record<string, unknown>, priorActions = 0) =>
  activities.decideAction({
    missionId: 'm-1',
    missionType: 'customer-refund',
    definitionVersion,
    initiator: 'dana',
    priorActions,
    action: { actionId: 'a1', operation: 'refunds.issue', params, rationale: 'test' },
    subject: { type: 'case', id: subjectCase },
  });

test('a refund of another case’s order is refused before policy, naming the subject; no facts are read', async () => {
  const decision = await decide('CASE-1001', refund('CASE-1006', 2000));
  expect(decision).toMatchObject({ outcome: 'deny', check: 'subject', ruleIds: [] });
  expect(decision.reasons[0]).toMatch(
    /^refused: outside the mission's subject: orderId ORD-5006 is not an order of the mission's subject \(case CASE-1001\)/,
  );
  expect(decision.facts).toBeUndefined();
  // The case of the subject with another case's order is refused too.
  expect(await decide('CASE-1001', refund('CASE-1001', 2000, { orderId: 'ORD-5006' }))).toMatchObject({
    check: 'subject',
  });
});

test.each([
  ['a closed case', 'CASE-1007', 2000, {}, 'refund-case-not-open'],
  ['an order 200 days old', 'CASE-1004', 2000, {}, 'refund-order-too-old'],
  ['more than the order total', 'CASE-1001', 6000, {}, 'refund-exceeds-order-total'],
  ['an order already refunded in full', 'CASE-1005', 3000, {}, 'refund-exceeds-order-total'],
  ['another currency than the order’s', 'CASE-1001', 2000, { currency: 'EUR' }, 'refund-currency-mismatch'],
])('a refund on %s is denied by its rule, on facts from the system of record', async (_w, caseId, cents, o, rule) => {
  const decision = await decide(caseId, refund(caseId, cents, o));
  expect(decision).toMatchObject({ outcome: 'deny', ruleIds: [rule] });
  expect(decision.check).toBeUndefined();
  expect(decision.facts).toMatchObject({ orderCurrency: 'USD' });
});

test('refunds already issued on the order add up: past 100.00 in all, a supervisor is asked', async () => {
  const small = await decide('CASE-1002', refund('CASE-1002', 6000));
  expect(small).toMatchObject({ outcome: 'allow', ruleIds: ['refund-small-auto'], facts: { refundedCents: 0 } });
  const db = new Database(dbPath);
  db.prepare(
    `INSERT INTO refunds VALUES ('RF-EARLIER', 'ORD-5002', 'CASE-1002', 6000, 'USD', 'earlier', 'other/a1', 'other', ?)`,
  ).run(new Date().toISOString());
  db.close();
  const again = await decide('CASE-1002', refund('CASE-1002', 6000));
  expect(again).toMatchObject({
    outcome: 'require_approval',
    tier: 'supervisor',
    ruleIds: ['refund-order-cumulative-supervisor'],
    facts: { refundedCents: 6000, refundCount: 1 },
  });
});

test('facts that cannot be loaded deny, naming what is missing', async () => {
  const decision = await decide('CASE-1001', refund('CASE-1001', 2000, { orderId: 'ORD-5001', caseId: 'CASE-1001' }));
  expect(decision.outcome).toBe('allow');
  const ghost = await activities.decideAction({
    missionId: 'm-1',
    missionType: 'customer-refund',
    definitionVersion,
    initiator: 'dana',
    priorActions: 0,
    action: { actionId: 'a1', operation: 'refunds.issue', params: refund('CASE-9999', 100), rationale: 'x' },
  });
  expect(ghost).toMatchObject({ outcome: 'deny', check: 'facts' });
  expect(ghost.reasons[0]).toMatch(/the facts for refunds.issue could not be loaded: case CASE-9999 does not exist/);
});

describe('with a policy that forgets a rule the system of record enforces', () => {
  const catalogDir = mkdtempSync(join(tmpdir(), 'mandate-catalog-'));
  cpSync(DEFAULT_CATALOG_DIR, catalogDir, { recursive: true });
  const policyPath = join(catalogDir, 'customer-refund', 'policy.cedar');
  const text = readFileSync(policyPath, 'utf8');
  writeFileSync(policyPath, text.slice(0, text.indexOf('@id("refund-exceeds-order-total")')));
  const loose = buildWorkerDeps({ enterpriseDb: dbPath, trustedSigners: [], catalogDir });
  const looseActivities = createMissionActivities(loose);
  afterAll(() => loose.close());

  test('the connector’s dry run denies what Cedar allowed, so no grant is ever asked for', async () => {
    const decision = await looseActivities.decideAction({
      missionId: 'm-1',
      missionType: 'customer-refund',
      definitionVersion: Catalog.load(catalogDir).get('customer-refund').definitionVersion,
      initiator: 'dana',
      priorActions: 0,
      action: { actionId: 'a1', operation: 'refunds.issue', params: refund('CASE-1001', 6000), rationale: 'x' },
    });
    expect(decision).toMatchObject({ outcome: 'deny', check: 'validate', ruleIds: [] });
    expect(decision.reasons[0]).toBe(
      "the system of record refuses refunds.issue: refund would exceed order ORD-5001's total",
    );
  });

  test('and the grant step runs the dry run again: no grant for an action that cannot run', async () => {
    const failure = await looseActivities
      .mintGrant({
        missionId: 'm-1',
        action: { actionId: 'a1', operation: 'refunds.issue', params: refund('CASE-1001', 6000), rationale: 'x' },
        policyVersion: 'p',
        approvers: [],
        integration: 'enterprise-db',
      })
      .catch((err: unknown) => err);
    expect(failure).toMatchObject({ type: 'ActionRefused', nonRetryable: true });
    expect((failure as Error).message).toMatch(/^no grant for a1: the system of record refuses refunds.issue/);
  });
});

test('a worker whose catalog names a subject its connector cannot resolve does not start', () => {
  const catalogDir = mkdtempSync(join(tmpdir(), 'mandate-catalog-'));
  cpSync(DEFAULT_CATALOG_DIR, catalogDir, { recursive: true });
  const path = join(catalogDir, 'customer-refund', 'definition.json');
  const definition = JSON.parse(readFileSync(path, 'utf8'));
  definition.subject = { type: 'tenant', input: 'caseId' };
  writeFileSync(path, JSON.stringify(definition));
  expect(() => buildWorkerDeps({ enterpriseDb: dbPath, trustedSigners: [], catalogDir })).toThrow(
    /customer-refund: connector enterprise-db cannot resolve a subject of type tenant/,
  );
});

test('a worker whose policy reads a fact the connector does not load does not start', () => {
  const catalogDir = mkdtempSync(join(tmpdir(), 'mandate-catalog-'));
  cpSync(DEFAULT_CATALOG_DIR, catalogDir, { recursive: true });
  const path = join(catalogDir, 'customer-refund', 'policy.cedarschema');
  writeFileSync(
    path,
    readFileSync(path, 'utf8').replace('refundCount: Long,', 'refundCount: Long, chargebacks: Long,'),
  );
  expect(() => buildWorkerDeps({ enterpriseDb: dbPath, trustedSigners: [], catalogDir })).toThrow(
    /its policy reads context\.facts\.chargebacks for refunds\.issue, which enterprise-db does not load/,
  );
});

describe('stillHolds: the decision made again inside the effect’s transaction', () => {
  const decision = (outcome: BoundDecision['outcome'], tier?: string): BoundDecision => ({
    outcome,
    ...(tier ? { tier } : {}),
    ruleIds: ['r'],
    reasons: ['r: why'],
    policyVersion: 'p',
    errors: [],
    paramsHash: 'h',
    engine: 'cedar',
  });
  const tiers = ['supervisor', 'finance'];
  test.each([
    ['allowed outright, still allowed', decision('allow'), undefined, undefined],
    [
      'allowed outright, now needs approval',
      decision('require_approval', 'supervisor'),
      undefined,
      /now requires supervisor/,
    ],
    ['approved by a supervisor, still supervisor', decision('require_approval', 'supervisor'), 'supervisor', undefined],
    ['approved by finance, now supervisor', decision('require_approval', 'supervisor'), 'finance', undefined],
    [
      'approved by a supervisor, now finance',
      decision('require_approval', 'finance'),
      'supervisor',
      /above the supervisor/,
    ],
    ['anything, now denied', decision('deny'), 'finance', /policy now denies it \(r: why\)/],
  ])('%s', (_what, again, approvedTier, problem) => {
    const result = stillHolds(again, approvedTier, tiers);
    if (problem) expect(result).toMatch(problem);
    else expect(result).toBeUndefined();
  });
});
