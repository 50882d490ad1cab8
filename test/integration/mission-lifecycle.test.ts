import { WorkflowFailedError } from '@temporalio/client';
import { InvalidMissionInput } from '../../catalog/catalog';
import { startMission } from '../../client/missions';
import { createTestContext } from '../harness/context';
import type { TestContext } from '../harness/context';
import { awaitingApproval, catalog, kinds, observations, result, startRefund, waitForState } from './helpers';
import { MISSION_WORKFLOW_TYPE } from '../../contract/names';
import { approvalsSigner, castSigned } from '../support/trust';

let t: TestContext;

beforeAll(async () => {
  t = await createTestContext('lifecycle');
});
afterAll(async () => t?.close());

const refundsFor = (missionId: string) => t.query('SELECT * FROM refunds WHERE mission_id = ?', missionId);

describe('with one worker', () => {
  beforeAll(async () => {
    await t.startWorker();
  });
  afterAll(async () => {
    // Stop every worker this block started; later blocks start their own.
    await t.close();
    t = await createTestContext('lifecycle');
  });

  test('malformed input is refused before start, naming the bad field', async () => {
    const start = (input: unknown) =>
      startMission(t.client, {
        catalog,
        taskQueue: t.taskQueue,
        missionType: 'customer-refund',
        input,
        initiator: 'x',
        signer: approvalsSigner,
      });
    await expect(start({ caseId: 'order 12' })).rejects.toThrow(InvalidMissionInput);
    await expect(start({ caseId: 'order 12' })).rejects.toThrow(/caseId: .*pattern/);
    await expect(start({})).rejects.toThrow(/caseId/);
    await expect(start({ caseId: 'CASE-1001', amount: 5 })).rejects.toThrow(/amount/);
    await expect(start('CASE-1001')).rejects.toThrow(/invalid input for mission "customer-refund"/);
    await expect(
      startMission(t.client, {
        catalog,
        taskQueue: t.taskQueue,
        missionType: 'nope',
        input: {},
        initiator: 'x',
        signer: approvalsSigner,
      }),
    ).rejects.toThrow(/unknown mission type "nope"; known types: customer-refund/);
  });

  test('a mission started around the client check fails closed on the same validation, naming the field', async () => {
    const handle = await t.client.workflow.start(MISSION_WORKFLOW_TYPE, {
      workflowId: `bad-input-${Date.now()}`,
      taskQueue: t.taskQueue,
      args: [{ missionType: 'customer-refund', input: { caseId: 42 }, initiator: 'x' }],
    });
    const failure = await handle.result().catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(((failure as WorkflowFailedError).cause as Error).message).toMatch(/caseId: .*expected string/);
    const obs = await observations(t.client, handle.workflowId);
    expect(obs.at(-1)).toMatchObject({ kind: 'error', detail: { type: 'InvalidMissionInput' } });
  });

  test.each([
    ['CASE-1004', 'declined', /outside the 90-day refund window/],
    ['CASE-1005', 'declined', /already refunded/],
    ['CASE-1007', 'declined', /is closed/],
    ['CASE-1006', 'denied', /never issued by a mission/],
  ])('%s ends %s without executing anything', async (caseId, verdict, summary) => {
    const id = await startRefund(t.client, t.taskQueue, caseId);
    const res = await result(t.client, id);
    expect(res.verdict).toBe(verdict);
    expect(res.summary).toMatch(summary);
    expect(res.executedActions).toEqual([]);
    expect(refundsFor(id)).toHaveLength(0);
  });
});

test('a worker restarted while the mission waits: the new worker resumes it and executes the action once', async () => {
  const first = await t.startWorker();
  const id = await startRefund(t.client, t.taskQueue, 'CASE-1002');
  await waitForState(t.client, id, awaitingApproval);
  await first.stop();

  const second = await t.startWorker();
  await castSigned(t.client, id, {
    actionId: 'a1',
    decision: 'approve',
    approver: 'sam@example.com',
    roles: ['supervisor'],
  });
  await expect(result(t.client, id)).resolves.toMatchObject({ verdict: 'completed', executedActions: ['a1'] });
  expect(refundsFor(id)).toHaveLength(1);
  await second.stop();
});

test('a worker failing after the write committed: the retried action is idempotent and executes once', async () => {
  const w = await t.startWorker({ faults: { failAfterWriteOnce: true } });
  const id = await startRefund(t.client, t.taskQueue, 'CASE-1001');
  const res = await result(t.client, id);
  expect(res).toMatchObject({ verdict: 'completed', executedActions: ['a1'] });
  const rows = refundsFor(id);
  expect(rows).toHaveLength(1);
  const obs = await observations(t.client, id);
  expect(obs.find((o) => o.kind === 'execution')?.detail).toMatchObject({ result: { alreadyExecuted: true } });
  await w.stop();
});

test('a long mission continues as new and keeps its state, rail and single execution', async () => {
  const w = await t.startWorker({ overrides: { 'customer-refund': { limits: { continueAsNewAfterSteps: 2 } } } });
  const id = await startRefund(t.client, t.taskQueue, 'CASE-1008');
  await waitForState(t.client, id, awaitingApproval);
  await castSigned(t.client, id, {
    actionId: 'a1',
    decision: 'approve',
    approver: 'sam@example.com',
    roles: ['supervisor'],
  });
  await expect(result(t.client, id)).resolves.toMatchObject({ verdict: 'completed', executedActions: ['a1'] });
  const runs = [];
  for await (const e of t.client.workflow.list({ query: `WorkflowId = '${id}'` })) runs.push(e.runId);
  expect(runs.length).toBeGreaterThanOrEqual(2);
  const obs = await observations(t.client, id);
  expect(obs.map((o) => o.seq)).toEqual(obs.map((_, i) => i + 1));
  expect(kinds(obs).filter((k) => k === 'mission')).toHaveLength(1);
  expect(refundsFor(id)).toHaveLength(1);
  await w.stop();
});
