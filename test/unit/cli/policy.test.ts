import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../support/run-cli';

/** `mandate policy test|explain` need no Temporal server: the real binary, run as a user would. */
const mandate = (...args: string[]) => runCli({}, args);

test('policy test runs the mission policy table and exits 0 when every case holds', async () => {
  const run = await mandate('policy', 'test', 'customer-refund');
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/customer-refund: \d+ passed, 0 failed \(policy [0-9a-f]{12}\)/);
});

test('policy explain decides one action from a file given by absolute path, and says why', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'mandate-explain-')), 'action.json');
  const params = { orderId: 'ORD-5010', caseId: 'CASE-1010', amountCents: 240000, currency: 'USD', reason: 'x' };
  // Without a system of record to load them from, the facts the policy decides on come with the action.
  const facts = {
    caseStatus: 'open',
    customerId: 'CUST-10',
    orderAgeDays: 10,
    orderTotalCents: 300000,
    orderCurrency: 'USD',
    refundedCents: 0,
    refundCount: 0,
  };
  writeFileSync(file, JSON.stringify({ operation: 'refunds.issue', params }));
  const missing = await runCli({ MANDATE_ENTERPRISE_DB: join(tmpdir(), 'no-such-enterprise.db') }, [
    'policy',
    'explain',
    'customer-refund',
    '--action',
    file,
  ]);
  expect(missing.code).not.toBe(0);
  expect(missing.stderr).toContain('give them as "facts" in the action file');
  writeFileSync(file, JSON.stringify({ operation: 'refunds.issue', params, facts }));
  const run = await mandate('policy', 'explain', 'customer-refund', '--action', file, '--json');
  expect(run.code).toBe(0);
  expect(JSON.parse(run.stdout)).toMatchObject({
    outcome: 'require_approval',
    tier: 'finance',
    ruleIds: ['refund-large-finance'],
  });
  const denied = await mandate('policy', 'explain', 'customer-refund', '--action', file, '--prior-actions', '1');
  expect(denied.stdout).toMatch(/outcome: deny[\s\S]*refund-once-per-mission/);
});
