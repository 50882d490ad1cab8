import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sendControl } from '../../client/controls';
import { createTestContext } from '../harness/context';
import type { TestContext } from '../harness/context';
import { awaitingApproval, kinds, observations, result, startRefund, waitForState } from './helpers';
import { haltAll } from '../../client/controls';
import { pendingAction } from '../../client/votes';
import { SEARCH_ATTRIBUTES } from '../../contract/search-attributes';
import { castSigned, operatorSigner } from '../support/trust';

/** A control signed with the test operator's break-glass key, for someone holding the operator role. */
const control = (missionId: string, kind: 'halt' | 'pause' | 'resume', by: string, reason: string) =>
  operatorSigner.signControl(missionId, kind, { by, roles: ['operator'], reason });

/** Approval ladders, quorum, binding and the kill switch, on a real dev server. */
let t: TestContext;

beforeAll(async () => {
  t = await createTestContext('governance');
  await t.startWorker({
    overrides: {
      'customer-refund': {
        approval: {
          timeoutSeconds: 60,
          ladders: {
            supervisor: [
              { roles: ['supervisor'], quorum: 1, timeoutSeconds: 3 },
              { roles: ['support-manager'], quorum: 1, timeoutSeconds: 3 },
            ],
            finance: [{ roles: ['finance'], quorum: 2, timeoutSeconds: 120 }],
          },
        },
      },
    },
  });
});
afterAll(async () => t?.close());

const refundsFor = (missionId: string) => t.query('SELECT * FROM refunds WHERE mission_id = ?', missionId);
const notices = (missionId: string) =>
  readFileSync(join(t.dbPath, '..', 'approval-notices.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line))
    .filter((n) => n.missionId === missionId);

test('no decision at step 1 escalates to step 2 (observation, notice, search attribute); no decision there rejects', async () => {
  const id = await startRefund(t.client, t.taskQueue, 'CASE-1009');
  const first = await waitForState(t.client, id, (s) => s.pending[0]?.step === 0);
  const second = await waitForState(t.client, id, (s) => s.pending[0]?.step === 1, 30_000);
  expect(second.pending[0]).toMatchObject({ roles: ['support-manager'], steps: 2 });
  expect(Date.parse(second.pending[0].deadline)).toBeGreaterThan(Date.parse(first.pending[0].deadline));
  const description = await t.client.workflow.getHandle(id).describe();
  expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.pendingApproval)).toBe(true);
  // A step-1 role no longer counts once escalated.
  await expect(
    castSigned(t.client, id, { actionId: 'a1', decision: 'approve', approver: 'sam', roles: ['supervisor'] }),
  ).rejects.toThrow(/holds none of the roles of step 2 of 2 \(support-manager\)/);

  await expect(result(t.client, id)).resolves.toMatchObject({ verdict: 'rejected', executedActions: [] });
  expect(refundsFor(id)).toHaveLength(0);
  const obs = await observations(t.client, id);
  expect(kinds(obs)).toEqual(expect.arrayContaining(['approval_requested', 'approval_escalated', 'approval_timeout']));
  expect(notices(id).map((n) => n.event)).toEqual(['approval.requested', 'approval.escalated']);
  expect(notices(id)[1]).toMatchObject({ step: 2, roles: ['support-manager'] });
});

test('quorum 2: one approval waits, the same person twice and the initiator are refused, a second approver executes once', async () => {
  const id = await startRefund(t.client, t.taskQueue, 'CASE-1010', 'ines.initiator');
  const state = await waitForState(t.client, id, awaitingApproval);
  expect(state.pending[0]).toMatchObject({ tier: 'finance', quorum: 2, roles: ['finance'] });

  const finance = (approver: string) => ({
    actionId: 'a1',
    decision: 'approve' as const,
    approver,
    roles: ['finance'],
  });
  await expect(castSigned(t.client, id, finance('fiona'))).resolves.toMatchObject({
    outcome: 'pending',
    approvals: 1,
    quorum: 2,
  });
  await expect(castSigned(t.client, id, finance('fiona'))).rejects.toThrow(
    /one person, one vote: fiona has already voted/,
  );
  await expect(castSigned(t.client, id, finance('ines.initiator'))).rejects.toThrow(/separation of duties/);
  await expect(castSigned(t.client, id, { ...finance('sam'), roles: ['supervisor'] })).rejects.toThrow(
    /holds none of the roles/,
  );
  expect(refundsFor(id)).toHaveLength(0);

  await expect(castSigned(t.client, id, finance('frank'))).resolves.toMatchObject({
    outcome: 'approved',
    approvals: 2,
  });
  await expect(result(t.client, id)).resolves.toMatchObject({ verdict: 'completed', executedActions: ['a1'] });
  expect(refundsFor(id)).toHaveLength(1);
  const obs = await observations(t.client, id);
  expect(obs.find((o) => o.kind === 'grant')?.detail).toMatchObject({ approvers: ['fiona', 'frank'] });
});

test('a decision bound to other params or another policy version is refused; after rejection nothing is accepted', async () => {
  const id = await startRefund(t.client, t.taskQueue, 'CASE-1002');
  await waitForState(t.client, id, awaitingApproval);
  const pending = (await pendingAction(t.client, id, 'a1'))!;
  const vote = { actionId: 'a1', decision: 'approve' as const, approver: 'sam', roles: ['supervisor'] };
  await expect(
    castSigned(t.client, id, { ...vote, paramsHash: '0'.repeat(64), policyVersion: pending.policyVersion }),
  ).rejects.toThrow(/bound to other params/);
  await expect(
    castSigned(t.client, id, { ...vote, paramsHash: pending.paramsHash, policyVersion: 'f'.repeat(64) }),
  ).rejects.toThrow(/bound to policy version/);
  await castSigned(t.client, id, {
    ...vote,
    decision: 'reject',
    reason: 'no receipt',
    paramsHash: pending.paramsHash,
    policyVersion: pending.policyVersion,
  });
  await expect(result(t.client, id)).resolves.toMatchObject({ verdict: 'rejected' });
  await expect(castSigned(t.client, id, vote)).rejects.toThrow(/already taken: action a1 was rejected by sam/);
  expect(refundsFor(id)).toHaveLength(0);
});

test('pause stops a waiting mission (status paused); resume lets it be approved and executed', async () => {
  const id = await startRefund(t.client, t.taskQueue, 'CASE-1008');
  await waitForState(t.client, id, awaitingApproval);
  await sendControl(t.client, id, 'pause', control(id, 'pause', 'ops', 'incident review'));
  await waitForState(t.client, id, (s) => s.paused);
  // Longer than the step's 3 s budget: the paused clock does not escalate.
  await new Promise((r) => setTimeout(r, 4000));
  const paused = await waitForState(t.client, id, (s) => s.paused);
  expect(paused.pending[0]).toMatchObject({ step: 0 });
  await sendControl(t.client, id, 'resume', control(id, 'resume', 'ops', 'review done'));
  await castSigned(t.client, id, { actionId: 'a1', decision: 'approve', approver: 'sam', roles: ['supervisor'] });
  await expect(result(t.client, id)).resolves.toMatchObject({ verdict: 'completed', executedActions: ['a1'] });
  expect(kinds(await observations(t.client, id))).toEqual(expect.arrayContaining(['paused', 'resumed']));
});

// Scoped to this suite's task queue: the dev server is shared with other suites' missions.
test('halt --all with 20 running missions: all end halted, zero actions executed', async () => {
  const ids = await Promise.all(Array.from({ length: 20 }, () => startRefund(t.client, t.taskQueue, 'CASE-1003')));
  // Bounded generously: 20 missions each take several workflow tasks, slow on a busy 2-core machine.
  await Promise.all(ids.map((id) => waitForState(t.client, id, awaitingApproval, 300_000)));
  // Visibility is eventually consistent: wait until the batch query sees all 20.
  let halted: string[] = [];
  for (let i = 0; i < 50 && ids.some((id) => !halted.includes(id)); i++) {
    halted = [
      ...new Set([
        ...halted,
        ...(await haltAll(
          t.client,
          (id) => control(id, 'halt', 'ops', 'kill switch drill'),
          'customer-refund',
          t.taskQueue,
        )),
      ]),
    ];
    if (ids.some((id) => !halted.includes(id))) await new Promise((r) => setTimeout(r, 200));
  }
  const results = await Promise.all(ids.map((id) => result(t.client, id)));
  expect(results.map((r) => r.verdict)).toEqual(Array(20).fill('halted'));
  expect(results.every((r) => r.executedActions.length === 0)).toBe(true);
  expect(results[0].summary).toBe('halted by ops: kill switch drill');
  for (const id of ids) expect(refundsFor(id)).toHaveLength(0);
  await expect(
    castSigned(t.client, ids[0], { actionId: 'a1', decision: 'approve', approver: 'sam', roles: ['supervisor'] }),
  ).rejects.toThrow(/closed/);
}, 600_000);
