import { createTestContext } from '../harness/context';
import type { RunningWorker, TestContext } from '../harness/context';
import { awaitingApproval, kinds, observations, result, startRefund, waitForState } from './helpers';
import { VoteRefused } from '../../client/errors';
import { pendingAction } from '../../client/votes';
import { voteSignal } from '../../contract/messages';
import { castSigned, signedVote } from '../support/trust';

let t: TestContext;
let worker: RunningWorker;

beforeAll(async () => {
  t = await createTestContext('approval');
  worker = await t.startWorker();
});
afterAll(async () => t?.close());

const refundsFor = (missionId: string) => t.query('SELECT * FROM refunds WHERE mission_id = ?', missionId);

test('a small refund is allowed by policy and executes without a human', async () => {
  const id = await startRefund(t.client, t.taskQueue, 'CASE-1001');
  const res = await result(t.client, id);
  expect(res).toMatchObject({ verdict: 'completed', executedActions: ['a1'] });
  expect(refundsFor(id)).toHaveLength(1);
  const obs = await observations(t.client, id);
  expect(kinds(obs)).toEqual(
    expect.arrayContaining(['mission', 'read', 'proposal', 'decision', 'execution', 'finish']),
  );
  expect(kinds(obs)).not.toContain('approval_requested');
  expect(obs.find((o) => o.kind === 'decision')?.detail).toMatchObject({
    outcome: 'allow',
    ruleIds: ['refund-small-auto'],
  });
});

test('a large refund waits for approval, executes once when approved, and a repeated approval changes nothing', async () => {
  const id = await startRefund(t.client, t.taskQueue, 'CASE-1002');
  const state = await waitForState(t.client, id, awaitingApproval);
  expect(state.pending[0]).toMatchObject({ actionId: 'a1', operation: 'refunds.issue', tier: 'supervisor' });
  expect(refundsFor(id)).toHaveLength(0);

  const recorded = await castSigned(t.client, id, {
    actionId: 'a1',
    decision: 'approve',
    approver: 'sam.supervisor@example.com',
    roles: ['supervisor'],
  });
  expect(recorded).toMatchObject({
    actionId: 'a1',
    decision: 'approve',
    approver: 'sam.supervisor@example.com',
    outcome: 'approved',
  });
  await expect(
    castSigned(t.client, id, {
      actionId: 'a1',
      decision: 'approve',
      approver: 'sam.supervisor@example.com',
      roles: ['supervisor'],
    }),
  ).rejects.toThrow(/already taken.*approved by sam.supervisor@example.com/);

  await expect(result(t.client, id)).resolves.toMatchObject({ verdict: 'completed', executedActions: ['a1'] });
  expect(refundsFor(id)).toHaveLength(1);
  expect(refundsFor(id)[0]).toMatchObject({ amount_cents: 45000, order_id: 'ORD-5002' });
});

test('a rejected refund ends rejected with nothing executed; the reason is recorded', async () => {
  const id = await startRefund(t.client, t.taskQueue, 'CASE-1003');
  await waitForState(t.client, id, awaitingApproval);
  await expect(
    castSigned(t.client, id, {
      actionId: 'a1',
      decision: 'reject',
      approver: 'sam.supervisor@example.com',
      roles: ['supervisor'],
    }),
  ).rejects.toThrow(/reason is required to reject/);
  await castSigned(t.client, id, {
    actionId: 'a1',
    decision: 'reject',
    approver: 'sam.supervisor@example.com',
    roles: ['supervisor'],
    reason: 'needs RMA first',
  });
  await expect(result(t.client, id)).resolves.toMatchObject({ verdict: 'rejected', executedActions: [] });
  expect(refundsFor(id)).toHaveLength(0);
  const obs = await observations(t.client, id);
  expect(obs.find((o) => o.kind === 'approval')?.summary).toMatch(/rejected a1: needs RMA first/);
});

test('decisions for a wrong actionId, by the initiator, or malformed are refused at once and change nothing', async () => {
  const id = await startRefund(t.client, t.taskQueue, 'CASE-1008', 'ines.initiator@example.com');
  await waitForState(t.client, id, awaitingApproval);
  await expect(
    castSigned(t.client, id, {
      actionId: 'a9',
      decision: 'approve',
      approver: 'sam@example.com',
      roles: ['supervisor'],
    }),
  ).rejects.toThrow(/unknown action a9.*pending: a1/);
  await expect(
    castSigned(t.client, id, {
      actionId: 'a1',
      decision: 'approve',
      approver: 'ines.initiator@example.com',
      roles: ['supervisor'],
    }),
  ).rejects.toThrow(/separation of duties/);
  await expect(
    castSigned(t.client, id, { actionId: 'a1', decision: 'approve', approver: '', roles: ['supervisor'] }),
  ).rejects.toThrow(VoteRefused);
  const still = await waitForState(t.client, id, awaitingApproval);
  expect(still.settled).toHaveLength(0);
  expect(refundsFor(id)).toHaveLength(0);

  // The same vote through a Signal: an invalid one becomes a refused observation, a valid one counts.
  // A signal carries its own binding (params hash, policy version, step) and its signature.
  const handle = t.client.workflow.getHandle(id);
  const { paramsHash, policyVersion } = (await pendingAction(t.client, id, 'a1'))!;
  const vote = {
    decision: 'approve' as const,
    approver: 'sam@example.com',
    roles: ['supervisor'],
    paramsHash,
    policyVersion,
    step: 0,
  };
  await handle.signal(voteSignal, await signedVote(t.client, id, { actionId: 'a7', ...vote }));
  await handle.signal(voteSignal, { actionId: 'a1', ...vote, voteId: 'v-typed' }); // typed, not signed
  await handle.signal(voteSignal, await signedVote(t.client, id, { actionId: 'a1', ...vote }));
  await expect(result(t.client, id)).resolves.toMatchObject({ verdict: 'completed', executedActions: ['a1'] });
  const obs = await observations(t.client, id);
  expect(obs.filter((o) => o.kind === 'approval_refused').map((o) => o.summary)).toEqual([
    expect.stringMatching(/unknown action a7/),
    expect.stringMatching(/vote refused: no attestation/),
  ]);
  expect(obs.find((o) => o.kind === 'approval')?.detail).toMatchObject({ via: 'signal', approver: 'sam@example.com' });
  expect(refundsFor(id)).toHaveLength(1);
});

test('an approval that never comes rejects the action when the timeout passes (fail closed)', async () => {
  await worker.stop();
  worker = await t.startWorker({ overrides: { 'customer-refund': { approval: { timeoutSeconds: 2 } } } });
  const id = await startRefund(t.client, t.taskQueue, 'CASE-1009');
  await expect(result(t.client, id)).resolves.toMatchObject({ verdict: 'rejected', executedActions: [] });
  expect(refundsFor(id)).toHaveLength(0);
  const obs = await observations(t.client, id);
  expect(obs.find((o) => o.kind === 'approval_timeout')?.summary).toMatch(
    /no decision within 2s \(1 ladder step\(s\)\): rejected \(fail closed\)/,
  );
  await expect(
    castSigned(t.client, id, {
      actionId: 'a1',
      decision: 'approve',
      approver: 'late@example.com',
      roles: ['supervisor'],
    }),
  ).rejects.toThrow(/already taken: action a1 was rejected by the approval timeout.*closed/);
});
