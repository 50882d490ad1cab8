import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMissionActivities } from '../../../activities/mission';
import { Catalog, DEFAULT_CATALOG_DIR } from '../../../catalog/catalog';
import { seedEnterpriseDb } from '../../../connectors/enterprise-db-seed';
import { buildWorkerDeps } from '../../../workers/deps';

/**
 * History-aware policy through the real decision step: a definition declares rolling aggregates of the
 * action ledger, the policy reads them, and every executed action is counted. The sample policy here is
 * customer-refund's, given a per-initiator hourly limit on refunds the agent may issue alone.
 */
const dir = mkdtempSync(join(tmpdir(), 'mandate-rolling-'));
const dbPath = join(dir, 'enterprise.db');
seedEnterpriseDb(dbPath);

function catalogWithLimit(declare = true): string {
  const catalogDir = join(mkdtempSync(join(dir, 'catalog-')), 'missions');
  cpSync(DEFAULT_CATALOG_DIR, catalogDir, { recursive: true });
  const at = (file: string) => join(catalogDir, 'customer-refund', file);
  const definition = JSON.parse(readFileSync(at('definition.json'), 'utf8'));
  if (declare) {
    definition.history = {
      customerFact: 'customerId',
      aggregates: [
        { name: 'refundsByInitiator1h', operation: 'refunds.issue', measure: 'count', window: '1h', by: 'initiator' },
      ],
    };
  }
  writeFileSync(at('definition.json'), JSON.stringify(definition));
  const schema = readFileSync(at('policy.cedarschema'), 'utf8');
  writeFileSync(
    at('policy.cedarschema'),
    schema.replace('      now: datetime,', '      now: datetime,\n      aggregates: { refundsByInitiator1h: Long },'),
  );
  const policy = readFileSync(at('policy.cedar'), 'utf8');
  const small = 'when { context.amountCents <= 10000 && context.facts.refundedCents + context.amountCents <= 10000 };';
  if (!policy.includes(small)) throw new Error('the sample policy changed: update this test');
  writeFileSync(
    at('policy.cedar'),
    policy.replace(small, small.replace(' };', ' && context.aggregates.refundsByInitiator1h < 2 };')) +
      `
@id("refund-rolling-limit-supervisor")
@outcome("require_approval")
@tier("supervisor")
@reason("more than 2 refunds by one initiator in an hour need a supervisor")
permit (principal, action == Mandate::Action::"refunds.issue", resource is Mandate::Mission)
when { context.aggregates.refundsByInitiator1h >= 2 };
`,
  );
  return catalogDir;
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('refunds an initiator issues add up in the ledger: past the hourly limit, a supervisor is asked', async () => {
  const catalogDir = catalogWithLimit();
  const deps = buildWorkerDeps({ enterpriseDb: dbPath, trustedSigners: [], catalogDir });
  try {
    const activities = createMissionActivities(deps);
    const definitionVersion = Catalog.load(catalogDir).get('customer-refund').definitionVersion;
    const action = (caseNo: number) => ({
      actionId: 'a1',
      operation: 'refunds.issue',
      params: {
        orderId: `ORD-${caseNo + 4000}`,
        caseId: `CASE-${caseNo}`,
        amountCents: 1000,
        currency: 'USD',
        reason: 'x',
      },
      rationale: 'test',
    });
    const decide = (caseNo: number, missionId: string, initiator = 'dana') =>
      activities.decideAction({
        missionId,
        missionType: 'customer-refund',
        definitionVersion,
        initiator,
        priorActions: 0,
        action: action(caseNo),
        subject: { type: 'case', id: `CASE-${caseNo}` },
      });
    const outcomes: string[] = [];
    for (const [i, caseNo] of [1002, 1003, 1008].entries()) {
      const decision = await decide(caseNo, `m-${i}`);
      outcomes.push(decision.outcome);
      expect(decision.aggregates).toEqual({ refundsByInitiator1h: i });
      // Executed as the workflow would (the grant path is not what this test is about): record it.
      deps.ledger!.record({
        missionId: `m-${i}`,
        actionId: 'a1',
        missionType: 'customer-refund',
        initiator: 'dana',
        operation: 'refunds.issue',
        amounts: { amountCents: 1000 },
        executedAt: new Date().toISOString(),
      });
    }
    expect(outcomes).toEqual(['allow', 'allow', 'require_approval']);
    const third = await decide(1009, 'm-3');
    expect(third).toMatchObject({
      outcome: 'require_approval',
      tier: 'supervisor',
      aggregates: { refundsByInitiator1h: 3 },
    });
    expect(third.ruleIds).toContain('refund-rolling-limit-supervisor');
    // Another initiator has a limit of their own.
    expect(await decide(1009, 'm-4', 'eve')).toMatchObject({
      outcome: 'allow',
      aggregates: { refundsByInitiator1h: 0 },
    });
  } finally {
    deps.close();
  }
});

test('a policy that reads an aggregate its definition does not declare stops the worker', () => {
  const catalogDir = catalogWithLimit(false);
  expect(() => buildWorkerDeps({ enterpriseDb: dbPath, trustedSigners: [], catalogDir })).toThrow(
    /its policy reads context\.aggregates\.refundsByInitiator1h for refunds\.issue, which its definition does not declare/,
  );
});
