import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMissionActivities } from '../../../activities/mission';
import { seedEnterpriseDb } from '../../../connectors/enterprise-db-seed';
import { Catalog } from '../../../catalog/catalog';
import { buildWorkerDeps } from '../../../workers/deps';

/** decideAction: the integration's params schema first, then Cedar. */
const dir = mkdtempSync(join(tmpdir(), 'mandate-decide-'));
const dbPath = join(dir, 'enterprise.db');
seedEnterpriseDb(dbPath);
const deps = buildWorkerDeps({ enterpriseDb: dbPath, trustedSigners: [] });
const { decideAction } = createMissionActivities(deps);
const definitionVersion = Catalog.load().get('customer-refund').definitionVersion;
afterAll(() => {
  deps.close();
  rmSync(dir, { recursive: true, force: true });
});

const decideFor = (params: Record<string, unknown>) =>
  decideAction({
    missionId: 'm-1',
    missionType: 'customer-refund',
    definitionVersion,
    initiator: 'dana',
    priorActions: 0,
    action: { actionId: 'a1', operation: 'refunds.issue', params, rationale: 'test' },
  });
const refund = { orderId: 'ORD-5001', caseId: 'CASE-1001', amountCents: 4599, currency: 'USD', reason: 'broken' };

test('a small, well-formed refund is allowed by Cedar', async () => {
  await expect(decideFor(refund)).resolves.toMatchObject({
    outcome: 'allow',
    ruleIds: ['refund-small-auto'],
    engine: 'cedar',
  });
});

test.each([
  ['an extra field the model slipped in', { ...refund, approver: 'cfo' }, /Unrecognized key/],
  ['a malformed order id', { ...refund, orderId: 'order 1' }, /orderId/],
  ['a lower-case currency', { ...refund, currency: 'usd' }, /currency/],
])('%s is denied before policy, naming the problem', async (_what, params, problem) => {
  const decision = await decideFor(params);
  expect(decision).toMatchObject({ outcome: 'deny', ruleIds: [] });
  expect(decision.reasons[0]).toMatch(/^params do not satisfy refunds\.issue: /);
  expect(decision.reasons[0]).toMatch(problem);
  expect(decision.policyVersion).toMatch(/^[0-9a-f]{64}$/);
});

test('params naming a pseudonym the mission never issued are denied before policy, with a code', async () => {
  const decision = await decideFor({ ...refund, reason: 'refund for [NAME_K3J9QX2A]' });
  expect(decision).toMatchObject({
    outcome: 'deny',
    ruleIds: [],
    errors: ['unknown_pseudonym'],
    reasons: ['params name pseudonyms this mission never issued: [NAME_K3J9QX2A]'],
  });
});

test('reads and executions refuse such params too', async () => {
  const { readData, executeAction } = createMissionActivities(deps);
  await expect(
    readData({
      missionId: 'm-1',
      integration: 'enterprise-db',
      operation: 'cases.get',
      params: { caseId: '[EMAIL_1]' },
      scopes: ['cases:read'],
    }),
  ).resolves.toEqual({
    ok: false,
    code: 'unknown_pseudonym',
    refused: 'params name pseudonyms this mission never issued: [EMAIL_1]',
  });
  await expect(
    executeAction({
      missionId: 'm-1',
      missionType: 'customer-refund',
      integration: 'enterprise-db',
      action: { actionId: 'a1', operation: 'refunds.issue', params: { ...refund, reason: '[NAME_1]' }, rationale: 'x' },
      grant: {},
    }),
  ).rejects.toMatchObject({ type: 'UnknownPseudonym', nonRetryable: true });
});
