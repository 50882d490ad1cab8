import { verifyAttestation, voteMessage } from '../../../core/attestation';
import { trustedSigner } from '../../../config/trusted-signers';
import { createTestContext } from '../../harness/context';
import type { TestContext } from '../../harness/context';
import { awaitingApproval, result, startRefund, waitForState } from '../helpers';
import {
  api,
  approveAsShown,
  PEOPLE,
  quickEscalation,
  quickTimeout,
  shownHash,
  startService,
  terminateLeftovers,
  waitForQueue,
} from './fixture';
import type { RunningService } from './fixture';
import type { VoteInput } from '../../../contract/mission';
import { stateQuery } from '../../../contract/messages';
import { castSigned } from '../../support/trust';

/** The JSON API against a real dev server and worker: every refusal path, and a signed decision in history. */
let t: TestContext;
let quick: TestContext;
let escalating: TestContext;
let service: RunningService;
let quickService: RunningService;
let escalatingService: RunningService;

beforeAll(async () => {
  t = await createTestContext('approvals-api');
  await t.startWorker();
  quick = await createTestContext('approvals-api-expiry');
  await quick.startWorker({ overrides: quickTimeout(2) });
  service = await startService(t, { rateLimits: { decide: 1000 } });
  quickService = await startService(quick);
  escalating = await createTestContext('approvals-api-escalation');
  await escalating.startWorker({ overrides: quickEscalation(15) });
  escalatingService = await startService(escalating);
});
afterAll(async () => {
  await service?.close();
  await quickService?.close();
  await terminateLeftovers(t);
  await t?.close();
  await terminateLeftovers(quick);
  await quick?.close();
  await escalatingService?.close();
  await terminateLeftovers(escalating);
  await escalating?.close();
});

const decision = (id: string, action = 'a1') => `/api/missions/${id}/actions/${action}/decision`;
const refundsFor = (id: string) => t.query('SELECT * FROM refunds WHERE mission_id = ?', id);
const pendingOf = async (id: string) => (await t.client.workflow.getHandle(id).query(stateQuery)).pending;

test('without a valid credential every API call is refused with a JSON error', async () => {
  expect(await api(service, '/api/queue')).toEqual({
    status: 401,
    body: { error: { code: 'unauthenticated', message: expect.any(String) } },
  });
  expect((await api(service, '/api/queue', { token: 'mdt_forged' })).status).toBe(401);
  expect((await api(service, decision('x'), { body: { decision: 'approve' } })).status).toBe(401);
  expect((await api(service, '/api/nothing', { token: service.tokens.sam })).body).toMatchObject({
    error: { code: 'not_found' },
  });
  expect((await api(service, '/api/me', { token: service.tokens.sam })).body).toEqual({
    subject: PEOPLE.sam.subject,
    roles: ['supervisor'],
    via: 'token',
    signingKeyId: service.keys.keyId,
  });
});

test('a supervisor approves through the API; the decision reaches history signed, with roles and binding', async () => {
  const id = await startRefund(t.client, t.taskQueue, 'CASE-1002');
  await waitForState(t.client, id, awaitingApproval);
  const queue = await waitForQueue(service, service.tokens.sam, id);
  expect(queue.find((q) => q.missionId === id)).toMatchObject({
    actionId: 'a1',
    operation: 'refunds.issue',
    tier: 'supervisor',
    roles: ['supervisor'],
    initiator: 'agent-desk@example.com',
  });

  const approved = await approveAsShown(service, service.tokens.sam, id, { reason: 'receipt checked' });
  expect(approved).toMatchObject({
    status: 200,
    body: { result: { decision: 'approve', approver: PEOPLE.sam.subject, keyId: service.keys.keyId } },
  });
  await expect(result(t.client, id)).resolves.toMatchObject({ verdict: 'completed' });
  expect(refundsFor(id)).toHaveLength(1);

  // The Update's input in history (encrypted) carries the attestation, and it verifies against the service key.
  const history = await t.client.workflow.getHandle(id).fetchHistory();
  const accepted = history.events?.find((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
  const payload = accepted?.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.args?.payloads?.[0];
  const input = JSON.parse(Buffer.from(t.keyRing.decrypt(payload!).data!).toString('utf8')) as VoteInput;
  expect(input).toMatchObject({ approver: PEOPLE.sam.subject, roles: ['supervisor'], paramsHash: expect.any(String) });
  const serviceKey = trustedSigner(service.keys.publicKeyPem, ['approval'], false);
  expect(verifyAttestation(voteMessage(id, input), input.attestation, [serviceKey], 'approval')).toMatchObject({
    ok: true,
  });

  const again = await api(service, decision(id), {
    token: service.tokens.sam,
    body: { decision: 'approve', paramsHash: 'f'.repeat(64) },
  });
  expect(again).toMatchObject({ status: 409, body: { error: { code: 'already_decided' } } });
  expect((await api(service, '/api/decisions/mine', { token: service.tokens.sam })).body.items).toContainEqual(
    expect.objectContaining({ missionId: id, decision: 'approve' }),
  );
});

test('refusals: wrong tier, initiator, no reason, stale confirmation, unknown mission or action — nothing changes', async () => {
  const id = await startRefund(t.client, t.taskQueue, 'CASE-1003', PEOPLE.ivy.subject);
  await waitForState(t.client, id, awaitingApproval);

  const finQueue = await waitForQueue(service, service.tokens.fin, id, true, true);
  expect(finQueue.find((q) => q.missionId === id)).toMatchObject({ refusal: { code: 'not_your_tier' } });
  expect(
    ((await api(service, '/api/queue', { token: service.tokens.fin })).body.items as { missionId: string }[]).map(
      (i) => i.missionId,
    ),
  ).not.toContain(id);

  const cases: [string, string, Record<string, unknown>, number, string][] = [
    ['fin', service.tokens.fin, { decision: 'approve' }, 403, 'not_your_tier'],
    ['ivy', service.tokens.ivy, { decision: 'approve' }, 403, 'initiator'],
    ['sam', service.tokens.sam, { decision: 'reject' }, 400, 'reason_required'],
    ['sam', service.tokens.sam, { decision: 'reject', reason: '   ' }, 400, 'reason_required'],
    ['sam', service.tokens.sam, { decision: 'approve', paramsHash: 'f'.repeat(64) }, 409, 'stale'],
    // The binding is never filled in: an approval without the confirmed params hash is refused.
    ['sam', service.tokens.sam, { decision: 'approve' }, 400, 'binding_required'],
    ['sam', service.tokens.sam, { decision: 'approve', paramsHash: '' }, 400, 'binding_required'],
    ['sam', service.tokens.sam, { decision: 'maybe' }, 400, 'bad_request'],
  ];
  for (const [who, token, body, status, code] of cases) {
    const res = await api(service, decision(id), { token, body });
    expect({ who, status: res.status, code: (res.body.error as { code: string }).code }).toEqual({ who, status, code });
  }
  expect(
    await api(service, decision('customer-refund-nope'), { token: service.tokens.sam, body: { decision: 'approve' } }),
  ).toMatchObject({
    status: 404,
    body: { error: { code: 'not_found' } },
  });
  expect(
    await api(service, decision(id, 'a9'), { token: service.tokens.sam, body: { decision: 'approve' } }),
  ).toMatchObject({
    status: 409,
    body: { error: { code: 'not_pending' } },
  });
  expect(await pendingOf(id)).toHaveLength(1);
  expect(refundsFor(id)).toHaveLength(0);

  const rejected = await api(service, decision(id), {
    token: service.tokens.sam,
    body: { decision: 'reject', reason: 'duplicate request' },
  });
  expect(rejected).toMatchObject({ status: 200, body: { result: { decision: 'reject' } } });
  await expect(result(t.client, id)).resolves.toMatchObject({ verdict: 'rejected' });
});

test('a cookie session must send the CSRF header; the decide rate limit answers 429', async () => {
  const id = await startRefund(t.client, t.taskQueue, 'CASE-1008');
  await waitForState(t.client, id, awaitingApproval);
  const login = await fetch(`${service.url}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: service.tokens.sam }),
    redirect: 'manual',
  });
  expect(login.status).toBe(303);
  const cookie = login.headers.get('set-cookie')!.split(';')[0];
  for (const flag of ['HttpOnly', 'SameSite=Strict', 'Secure', 'Max-Age='])
    expect(login.headers.get('set-cookie')).toContain(flag);
  const res = await api(service, decision(id), { headers: { cookie }, body: { decision: 'approve' } });
  expect(res).toMatchObject({ status: 403, body: { error: { code: 'csrf' } } });
  expect(await pendingOf(id)).toHaveLength(1);

  const limited = await startService(t, { rateLimits: { decide: 1 } });
  try {
    const first = await api(limited, decision(id, 'a9'), { token: limited.tokens.sam, body: { decision: 'approve' } });
    expect(first.status).toBe(409);
    const second = await api(limited, decision(id, 'a9'), { token: limited.tokens.sam, body: { decision: 'approve' } });
    expect(second).toMatchObject({ status: 429, body: { error: { code: 'rate_limited' } } });
  } finally {
    await limited.close();
  }
});

test('an action whose deadline passed is refused as expired', async () => {
  const id = await startRefund(quick.client, quick.taskQueue, 'CASE-1002');
  await expect(result(quick.client, id)).resolves.toMatchObject({ verdict: 'rejected' });
  const res = await api(quickService, decision(id), { token: quickService.tokens.sam, body: { decision: 'approve' } });
  expect(res).toMatchObject({ status: 409, body: { error: { code: 'expired' } } });
  const view = await api(quickService, `/api/missions/${id}`, { token: quickService.tokens.sam });
  expect(view.body.settled).toEqual([expect.objectContaining({ actionId: 'a1', expired: true })]);
});

test('a quorum of two: one person, one vote; the second distinct approver settles it', async () => {
  const id = await startRefund(t.client, t.taskQueue, 'CASE-1010');
  await waitForState(t.client, id, awaitingApproval);
  const queue = await waitForQueue(service, service.tokens.fin, id);
  expect(queue.find((q) => q.missionId === id)).toMatchObject({ tier: 'finance', roles: ['finance'], quorum: 2 });
  const samQueue = (await api(service, '/api/queue', { token: service.tokens.sam })).body.items as {
    missionId: string;
  }[];
  expect(samQueue.map((i) => i.missionId)).not.toContain(id);

  const first = await approveAsShown(service, service.tokens.fin, id);
  expect(first).toMatchObject({ status: 200, body: { result: { outcome: 'pending', approvals: 1, quorum: 2 } } });
  const twice = await approveAsShown(service, service.tokens.fin, id);
  expect(twice).toMatchObject({ status: 409, body: { error: { code: 'already_decided' } } });
  const view = await api(service, `/api/missions/${id}`, { token: service.tokens.fay });
  expect((view.body.actions as { votes: { approver: string }[] }[])[0].votes).toEqual([
    expect.objectContaining({ approver: PEOPLE.fin.subject }),
  ]);
  const second = await approveAsShown(service, service.tokens.fay, id);
  expect(second).toMatchObject({ status: 200, body: { result: { outcome: 'approved', approvals: 2 } } });
  await expect(result(t.client, id)).resolves.toMatchObject({ verdict: 'completed' });
});

test('a mission started through the service has the signed-in person as its verified initiator, who cannot approve it', async () => {
  const start = (token: string, body: unknown) => api(service, '/api/missions', { token, body });
  const started = await start(service.tokens.ivy, { missionType: 'customer-refund', input: { caseId: 'CASE-1003' } });
  expect(started).toMatchObject({
    status: 201,
    body: { initiator: PEOPLE.ivy.subject, missionType: 'customer-refund' },
  });
  const id = started.body.missionId as string;
  const state = await waitForState(t.client, id, awaitingApproval);
  expect(state.initiator).toBe(PEOPLE.ivy.subject);
  const own = await approveAsShown(service, service.tokens.ivy, id);
  expect(own).toMatchObject({ status: 403, body: { error: { code: 'initiator' } } });
  // Not under another spelling either, whoever signs the vote.
  await expect(
    castSigned(t.client, id, {
      actionId: 'a1',
      decision: 'approve',
      approver: ' IVY.Initiator@Example.COM ',
      roles: ['supervisor'],
    }),
  ).rejects.toMatchObject({ code: 'initiator' });
  expect(refundsFor(id)).toHaveLength(0);

  expect(
    await start(service.tokens.ivy, { missionType: 'customer-refund', input: { caseId: 'order 12' } }),
  ).toMatchObject({
    status: 400,
    body: { error: { code: 'bad_request', message: expect.stringMatching(/caseId/) } },
  });
  expect(await start(service.tokens.ivy, { missionType: 'nope', input: {} })).toMatchObject({ status: 400 });

  // Controls need a control role of the mission; a halt is reported once the mission has closed.
  const control = (token: string, kind: string) =>
    api(service, `/api/missions/${id}/controls/${kind}`, { token, body: { reason: 'incident drill' } });
  expect(await control(service.tokens.sam, 'halt')).toMatchObject({
    status: 403,
    body: { error: { code: 'not_your_tier' } },
  });
  expect(await control(service.tokens.ops, 'stop')).toMatchObject({ status: 400 });
  expect(await control(service.tokens.ops, 'halt')).toMatchObject({
    status: 200,
    body: { sent: 'halt', confirmed: { missionId: id, closed: true, verdict: 'halted', executedActions: [] } },
  });
  await expect(result(t.client, id)).resolves.toMatchObject({
    verdict: 'halted',
    controls: [expect.objectContaining({ by: PEOPLE.ops.subject, breakGlass: false, keyId: service.keys.keyId })],
  });
});

test('least privilege: a viewer reads nothing (403 no_read_access), an auditor reads everything and decides nothing', async () => {
  const id = await startRefund(t.client, t.taskQueue, 'CASE-1009');
  await waitForState(t.client, id, awaitingApproval);
  await waitForQueue(service, service.tokens.sam, id);
  const viewer = await api(service, `/api/missions/${id}`, { token: service.tokens.vic });
  expect(viewer).toEqual({
    status: 403,
    body: { error: { code: 'no_read_access', message: expect.stringMatching(/auditor/) } },
  });
  const viewerQueue = await api(service, '/api/queue?all=1', { token: service.tokens.vic });
  expect(viewerQueue).toMatchObject({ status: 403, body: { error: { code: 'no_read_access' } } });
  // Without `all`, the queue is what they may decide: nothing.
  expect(await api(service, '/api/queue', { token: service.tokens.vic })).toMatchObject({
    status: 200,
    body: { items: [] },
  });
  const events = await fetch(`${service.url}/api/missions/${id}/events`, {
    headers: { authorization: `Bearer ${service.tokens.vic}` },
  });
  expect(events.status).toBe(403);

  const auditor = await api(service, `/api/missions/${id}`, { token: service.tokens.aud });
  expect(auditor).toMatchObject({
    status: 200,
    body: { state: { missionId: id }, actions: [{ refusal: { code: 'not_your_tier' } }] },
  });
  expect((auditor.body.observations as unknown[]).length).toBeGreaterThan(3);
  const audQueue = await waitForQueue(service, service.tokens.aud, id, true, true);
  expect(audQueue.find((q) => q.missionId === id)).toMatchObject({ refusal: { code: 'not_your_tier' } });
  const hash = await shownHash(service, service.tokens.aud, id);
  expect(
    await api(service, decision(id), { token: service.tokens.aud, body: { decision: 'approve', paramsHash: hash } }),
  ).toMatchObject({
    status: 403,
    body: { error: { code: 'not_your_tier' } },
  });
  // The initiator reads their own mission whatever their roles.
  expect((await api(service, `/api/missions/${id}`, { token: service.tokens.sam })).status).toBe(200);
  expect(await pendingOf(id)).toHaveLength(1);
});

test('the initiator check ignores case, as the workflow does: no vote, not even offered in the queue', async () => {
  const id = await startRefund(t.client, t.taskQueue, 'CASE-1008', ' IVY.Initiator@Example.COM ');
  await waitForState(t.client, id, awaitingApproval);
  const queue = await waitForQueue(service, service.tokens.ivy, id, true, true);
  expect(queue.find((q) => q.missionId === id)).toMatchObject({ refusal: { code: 'initiator' } });
  const hash = await shownHash(service, service.tokens.ivy, id);
  expect(
    await api(service, decision(id), { token: service.tokens.ivy, body: { decision: 'approve', paramsHash: hash } }),
  ).toMatchObject({
    status: 403,
    body: { error: { code: 'initiator' } },
  });
  expect(await pendingOf(id)).toHaveLength(1);
});

test('a person who voted in an earlier ladder step may vote again once it escalates, as the workflow counts them', async () => {
  const id = await startRefund(escalating.client, escalating.taskQueue, 'CASE-1010');
  await waitForState(escalating.client, id, awaitingApproval);
  const first = await approveAsShown(escalatingService, escalatingService.tokens.dora, id);
  expect(first).toMatchObject({ status: 200, body: { result: { outcome: 'pending', approvals: 1, quorum: 2 } } });
  // Step 1 (finance, quorum 2) times out and escalates to step 2 (finance-director).
  await waitForState(escalating.client, id, (s) => s.pending[0]?.step === 1);
  const second = await approveAsShown(escalatingService, escalatingService.tokens.dora, id);
  expect(second).toMatchObject({
    status: 200,
    body: { result: { outcome: 'approved', approver: PEOPLE.dora.subject } },
  });
  await expect(result(escalating.client, id)).resolves.toMatchObject({ verdict: 'completed' });
});
