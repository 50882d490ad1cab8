import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import type { ApprovalsStore } from '../../approvals-ui/store';
import { openStore } from '../../approvals-ui/store';
import { createCodecServer } from '../../approvals-ui/codec-server';
import { createLocalToken, localTokens } from '../../approvals-ui/local-tokens';
import { castVote, pendingAction } from '../../client/votes';
import { VoteRefused } from '../../client/errors';
import { sendControl } from '../../client/controls';
import { haltSignal, resumeSignal } from '../../contract/messages';
import { MISSION_WORKFLOW_TYPE } from '../../contract/names';
import type { VoteInput } from '../../contract/mission';
import { voteMessage } from '../../core/attestation';
import { provisionTemporalCli } from '../../infra/temporal/provision-cli';
import { createTestContext } from '../harness/context';
import type { TestContext } from '../harness/context';
import { approvalsSigner, castSigned, operatorSigner, outsiderSigner, signedVote } from '../support/trust';
import { awaitingApproval, kinds, observations, result, startRefund, waitForState } from './helpers';

/**
 * The trust chain, attacked from the Temporal frontend: with nothing but the stock `temporal` CLI
 * (or the SDK), nobody can vote, start a mission in someone's name or send a control without a
 * signature the mission's pinned keys verify — and nothing executes.
 */
const run = promisify(execFile);
let t: TestContext;
let cli: string;
// Payloads are encrypted: the stock CLI reads and writes them through a codec server, as an operator would.
let codec: FastifyInstance;
let codecStore: ApprovalsStore | undefined;
let codecArgs: string[];

beforeAll(async () => {
  t = await createTestContext('trust');
  await t.startWorker();
  cli = await provisionTemporalCli();
  const tokens = join(mkdtempSync(join(tmpdir(), 'mandate-trust-codec-')), 'tokens.json');
  const token = createLocalToken(tokens, 'operator@example.com', ['decrypt']);
  codecStore = await openStore('sqlite::memory:');
  codec = createCodecServer({
    ring: t.keyRing,
    store: codecStore,
    auth: localTokens(tokens),
    roles: ['decrypt'],
    origins: [],
  });
  await codec.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(codec.server.address() as AddressInfo).port}`;
  codecArgs = ['--codec-endpoint', url, '--codec-auth', `Bearer ${token}`];
});
afterAll(async () => {
  await codec?.close();
  await codecStore?.close();
  await t?.close();
});

const refundsFor = (missionId: string) => t.query('SELECT refund_id FROM refunds WHERE mission_id = ?', missionId);

/** The stock Temporal CLI against the harness's server; resolves with exit code and output, never throws. */
async function temporal(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(cli, [...args, '--address', t.address, ...codecArgs], { timeout: 60_000 });
    return { code: 0, out: `${stdout}${stderr}` };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** Why a mission failed (the failure's own message). */
async function failure(id: string): Promise<string> {
  const err = await t.client.workflow
    .getHandle(id)
    .result()
    .then(
      () => undefined,
      (e: Error & { cause?: Error }) => e,
    );
  return err?.cause?.message ?? `no failure (${String(err)})`;
}

/** `temporal workflow update execute --name decide`: a vote typed into the stock CLI. */
const temporalVote = (id: string, input: unknown) =>
  temporal('workflow', 'update', 'execute', '-w', id, '--name', 'decide', '--input', JSON.stringify(input));

async function waitingRefund(caseId = 'CASE-1002', initiator?: string) {
  const id = await startRefund(t.client, t.taskQueue, caseId, initiator);
  await waitForState(t.client, id, awaitingApproval);
  return { id, pending: (await pendingAction(t.client, id, 'a1'))! };
}

test('a vote typed into the stock temporal CLI is refused, names the missing signature, executes nothing', async () => {
  const { id, pending } = await waitingRefund();
  const forged = {
    actionId: 'a1',
    decision: 'approve',
    approver: 'mallory',
    roles: ['supervisor'],
    paramsHash: pending.paramsHash,
    policyVersion: pending.policyVersion,
    reason: 'forged',
  };
  const update = await temporalVote(id, forged);
  expect(update.code).not.toBe(0);
  expect(update.out).toMatch(/vote refused: no attestation/);
  const fakeSig = { ...forged, step: 0, voteId: 'v-1', attestation: { signature: 'Zm9yZ2Vk' } };
  const garbage = await temporalVote(id, fakeSig);
  expect(garbage.out).toMatch(/vote refused: malformed attestation/);
  // The Signal variant is refused as well, and the rail says so.
  expect(
    (await temporal('workflow', 'signal', '-w', id, '--name', 'decideSignal', '--input', JSON.stringify(forged))).code,
  ).toBe(0);
  await waitForState(t.client, id, () => true);
  for (let i = 0; i < 50 && !kinds(await observations(t.client, id)).includes('approval_refused'); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const refused = (await observations(t.client, id)).filter((o) => o.kind === 'approval_refused');
  expect(refused.map((o) => o.summary)).toEqual([
    expect.stringMatching(/refused a signalled vote: vote refused: no attestation/),
  ]);
  const state = await waitForState(t.client, id, awaitingApproval);
  expect(state.pending[0].votes).toEqual([]);
  expect(refundsFor(id)).toHaveLength(0);
});

test('forged, foreign, replayed, widened and expired signatures never count', async () => {
  const { id, pending } = await waitingRefund();
  const other = await waitingRefund('CASE-1003');
  const spec = { actionId: 'a1', decision: 'approve' as const, approver: 'sam', roles: ['supervisor'] };
  const refusedWith = async (vote: VoteInput, code: string, message: RegExp) => {
    const err = await castVote(t.client, id, vote).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(VoteRefused);
    expect(err).toMatchObject({ code, message: expect.stringMatching(message) });
  };
  // A valid signature by a key the mission does not trust.
  await refusedWith(
    await signedVote(t.client, id, spec, outsiderSigner),
    'untrusted_key',
    /not trusted for this mission/,
  );
  // A correctly signed vote for another mission, replayed here.
  await refusedWith(await signedVote(t.client, other.id, spec), 'bad_signature', /does not match this message/);
  // Signed for another action, another ladder step, other params: each moved here fails its signature or binding.
  const signed = await signedVote(t.client, id, spec);
  await refusedWith({ ...signed, actionId: 'a2' }, 'bad_signature', /does not match/);
  await refusedWith({ ...signed, step: 1 }, 'bad_signature', /does not match/);
  await refusedWith(await signedVote(t.client, id, { ...spec, step: 1 }), 'stale', /vote is for step 2/);
  await refusedWith({ ...signed, paramsHash: '0'.repeat(64) }, 'bad_signature', /does not match/);
  // Roles added to a signed payload.
  await refusedWith({ ...signed, roles: ['supervisor', 'finance'] }, 'bad_signature', /does not match/);
  // Signed long ago: outside its validity window.
  const stale = approvalsSigner.signVote(
    id,
    { ...spec, paramsHash: pending.paramsHash, policyVersion: pending.policyVersion, step: 0 },
    new Date(Date.now() - 60 * 60_000),
  );
  await refusedWith(stale, 'signature_expired', /expired at/);
  expect(voteMessage(id, signed)).toMatchObject({ missionId: id, step: 0 });
  expect((await waitForState(t.client, id, awaitingApproval)).pending[0].votes).toEqual([]);

  // The genuine vote counts once: the same signed vote again is refused.
  await expect(castVote(t.client, id, signed)).resolves.toMatchObject({ outcome: 'approved' });
  await expect(result(t.client, id)).resolves.toMatchObject({ verdict: 'completed', executedActions: ['a1'] });
  expect(refundsFor(id)).toHaveLength(1);
  expect(refundsFor(other.id)).toHaveLength(0);
});

test('a mission started in someone else’s name without a trusted signature fails before any reasoning step', async () => {
  const args = { missionType: 'customer-refund', input: { caseId: 'CASE-1002' }, initiator: 'alice@example.com' };
  const id = `customer-refund-forged-${Date.now()}`;
  const started = await temporal(
    'workflow',
    'start',
    '--type',
    MISSION_WORKFLOW_TYPE,
    '--task-queue',
    t.taskQueue,
    '-w',
    id,
    '--input',
    JSON.stringify(args),
  );
  expect(started.code).toBe(0);
  expect(await failure(id)).toMatch(/mission start refused: unsigned/);
  const obs = await observations(t.client, id);
  expect(kinds(obs)).toEqual(['error']);
  expect(obs[0].summary).toMatch(/mission start refused: unsigned: no attestation/);

  // Someone else's valid start, copied from its history into a new mission id, proves nothing there.
  const genuine = await startRefund(t.client, t.taskQueue, 'CASE-1001', 'alice@example.com');
  const history = await t.client.workflow.getHandle(genuine).fetchHistory();
  const stored = history.events![0].workflowExecutionStartedEventAttributes!.input!.payloads![0];
  const copied = t.keyRing.decrypt(stored).data!; // an insider who can read payloads
  const replayed = await t.client.workflow.start(MISSION_WORKFLOW_TYPE, {
    workflowId: `customer-refund-copied-${Date.now()}`,
    taskQueue: t.taskQueue,
    args: [JSON.parse(Buffer.from(copied).toString('utf8'))],
  });
  expect(await failure(replayed.workflowId)).toMatch(/mission start refused: bad_signature/);
  await expect(result(t.client, genuine)).resolves.toMatchObject({ verdict: 'completed' });
  // Carried state (continue-as-new) is accepted only from the mission's own continue-as-new.
  const carriedId = `customer-refund-carried-${Date.now()}`;
  await temporal(
    'workflow',
    'start',
    '--type',
    MISSION_WORKFLOW_TYPE,
    '--task-queue',
    t.taskQueue,
    '-w',
    carriedId,
    '--input',
    JSON.stringify({ ...args, carried: { stepIndex: 0, definition: {} } }),
  );
  expect(await failure(carriedId)).toMatch(/carried state is accepted only from the mission's own continue-as-new/);
});

test('the initiator cannot vote on their own mission under any spelling, whoever signs it', async () => {
  const { id } = await waitingRefund('CASE-1009', 'alice@example.com');
  for (const approver of ['alice@example.com', ' ALICE@Example.COM ']) {
    await expect(
      castSigned(t.client, id, { actionId: 'a1', decision: 'approve', approver, roles: ['supervisor'] }),
    ).rejects.toMatchObject({
      code: 'initiator',
    });
  }
  expect(refundsFor(id)).toHaveLength(0);
});

test('unsigned and unauthorised controls are refused and observed; a signed halt is confirmed by the closed mission', async () => {
  const { id } = await waitingRefund('CASE-1008');
  const handle = t.client.workflow.getHandle(id);
  // Typed controls: a resume and a halt in any name are refused.
  await temporal(
    'workflow',
    'signal',
    '-w',
    id,
    '--name',
    'halt',
    '--input',
    JSON.stringify({ by: 'mallory', reason: 'x' }),
  );
  await handle.signal(resumeSignal, { by: 'mallory', reason: 'go on' });
  // A signed halt by someone without a control role.
  await handle.signal(
    haltSignal,
    approvalsSigner.signControl(id, 'halt', { by: 'sam', roles: ['supervisor'], reason: 'no' }),
  );
  // A control signed for another mission.
  await handle.signal(
    haltSignal,
    operatorSigner.signControl('customer-refund-elsewhere', 'halt', { by: 'ops', roles: ['operator'], reason: 'x' }),
  );
  for (
    let i = 0;
    i < 50 && (await observations(t.client, id)).filter((o) => o.kind === 'control_refused').length < 4;
    i++
  ) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const refused = (await observations(t.client, id)).filter((o) => o.kind === 'control_refused').map((o) => o.summary);
  expect(refused).toEqual([
    expect.stringMatching(/refused a halt: unsigned/),
    expect.stringMatching(/refused a resume: unsigned/),
    expect.stringMatching(/refused a halt: sam holds none of the control roles \(operator, security\)/),
    expect.stringMatching(/refused a halt: bad_signature/),
  ]);
  expect((await waitForState(t.client, id, awaitingApproval)).halted).toBe(false);

  await sendControl(
    t.client,
    id,
    'halt',
    operatorSigner.signControl(id, 'halt', { by: 'ops', roles: ['operator'], reason: 'drill' }),
  );
  await expect(result(t.client, id)).resolves.toMatchObject({
    verdict: 'halted',
    controls: [expect.objectContaining({ kind: 'halt', by: 'ops', breakGlass: true })],
  });
});
