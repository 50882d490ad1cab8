import type { CliRun } from '../support/run-cli';
import { runCli } from '../support/run-cli';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestContext } from '../harness/context';
import type { TestContext } from '../harness/context';
import { PEOPLE, startService, terminateLeftovers } from './approvals-ui/fixture';
import type { RunningService } from './approvals-ui/fixture';
import { awaitingApproval, result, startRefund, waitForState } from './helpers';
import { stateQuery } from '../../contract/messages';

/** The approver CLI through the approvals service: login, list, show, approve/reject, refusals, tokens. */
let t: TestContext;
let service: RunningService;

beforeAll(async () => {
  t = await createTestContext('cli-approver');
  await t.startWorker();
  service = await startService(t);
});
afterAll(async () => {
  await service?.close();
  await terminateLeftovers(t);
  await t?.close();
});

/** Runs `mandate` as one user: their own config dir (where `mandate login` stores the token). */
function mandate(home: string, ...args: string[]): Promise<CliRun> {
  return runCli(
    {
      MANDATE_TEMPORAL_ADDRESS: t.address,
      MANDATE_TASK_QUEUE: t.taskQueue,
      XDG_CONFIG_HOME: home,
      MANDATE_APPROVALS_URL: '',
      MANDATE_APPROVALS_TOKEN: '',
    },
    args,
  );
}

const home = () => mkdtempSync(join(tmpdir(), 'mandate-home-'));

async function queueShows(user: string, missionId: string): Promise<{ missionId: string }[]> {
  for (let i = 0; i < 75; i++) {
    const items = JSON.parse((await mandate(user, 'approvals', 'list', '--json')).stdout) as { missionId: string }[];
    if (items.some((q) => q.missionId === missionId)) return items;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`queue never showed ${missionId}`);
}

test('login stores the token 0600; list, show and approve go through the service as the logged-in approver', async () => {
  const sam = home();
  const bad = await mandate(sam, 'login', '--url', service.url, '--token', 'mdt_wrong', '--json');
  expect(bad.code).toBe(1);
  expect(JSON.parse(bad.stdout)).toMatchObject({ error: { code: 'unauthenticated' } });

  const login = await mandate(sam, 'login', '--url', service.url, '--token', service.tokens.sam);
  expect(login).toMatchObject({ code: 0 });
  expect(login.stdout).toMatch(`signed in to ${service.url} as ${PEOPLE.sam.subject}`);
  const stored = join(sam, 'mandate', 'credentials.json');
  expect(statSync(stored).mode & 0o777).toBe(0o600);
  expect(JSON.parse(readFileSync(stored, 'utf8'))).toEqual({ url: service.url, token: service.tokens.sam });

  const id = await startRefund(t.client, t.taskQueue, 'CASE-1002');
  await waitForState(t.client, id, awaitingApproval);
  const items = await queueShows(sam, id);
  expect(items.find((i) => i.missionId === id)).toMatchObject({ actionId: 'a1', tier: 'supervisor' });
  const table = await mandate(sam, 'approvals', 'list');
  expect(table.stdout).toMatch(
    new RegExp(`${id}\\s+a1\\s+refunds\\.issue\\s+450\\.00 USD\\s+supervisor\\s+agent-desk@example.com`),
  );

  const shown = await mandate(sam, 'approvals', 'show', id);
  expect(shown.stdout).toMatch(/pending: a1 refunds\.issue 450\.00 USD tier=supervisor/);
  expect(shown.stdout).toMatch(/you may decide: mandate approve/);
  expect(shown.stdout).toMatch(/approval_requested/);

  const asSomeone = await mandate(sam, 'approve', id, 'a1', '--as', 'mallory');
  expect(asSomeone.code).toBe(1);
  expect(asSomeone.stderr).toMatch(/--as and --role apply only with --direct/);

  // Approving binds the vote to what the approver confirmed: without a terminal to ask in, --yes says so.
  const unconfirmed = await mandate(sam, 'approve', id, 'a1', '--json');
  expect(unconfirmed.code).toBe(1);
  expect(JSON.parse(unconfirmed.stdout)).toMatchObject({
    error: {
      code: 'binding_required',
      message: expect.stringMatching(/--yes to confirm "approve a1: refunds\.issue .*450\.00 USD/),
    },
  });
  const approved = await mandate(sam, 'approve', id, 'a1', '--yes', '--reason', 'receipt checked');
  expect(approved).toMatchObject({ code: 0 });
  expect(approved.stderr).toMatch(/^approve a1: refunds\.issue \{.*"amountCents":45000.*\} \(450\.00 USD\)/);
  expect(approved.stdout).toMatch(`approved ${id} a1 (refunds.issue) as ${PEOPLE.sam.subject}, recorded`);
  expect(approved.stdout).toMatch(`signed by key ${service.keys.keyId}`);
  await expect(result(t.client, id)).resolves.toMatchObject({ verdict: 'completed' });

  const again = await mandate(sam, 'approve', id, 'a1', '--yes', '--json');
  expect(again.code).toBe(1);
  expect(JSON.parse(again.stdout)).toMatchObject({ error: { code: 'already_decided' } });

  expect((await mandate(sam, 'logout')).stdout).toMatch(/signed out/);
  const loggedOut = await mandate(sam, 'approve', id, 'a1', '--yes');
  expect(loggedOut.stderr).toMatch(/no approvals service configured: run `mandate login/);
});

test('refusals come back as JSON codes; nothing changes', async () => {
  const fin = home();
  expect((await mandate(fin, 'login', '--url', service.url, '--token', service.tokens.fin)).code).toBe(0);
  const id = await startRefund(t.client, t.taskQueue, 'CASE-1003');
  await waitForState(t.client, id, awaitingApproval);
  const denied = await mandate(fin, 'approve', id, 'a1', '--yes', '--json');
  expect(denied.code).toBe(1);
  expect(JSON.parse(denied.stdout)).toMatchObject({ error: { code: 'not_your_tier' } });
  const noReason = await mandate(fin, 'reject', id, 'a1');
  expect(noReason.code).toBe(2);
  const stale = await mandate(fin, 'reject', id, 'a1', '--reason', 'x', '--params-hash', 'abc', '--json');
  expect(JSON.parse(stale.stdout)).toMatchObject({ error: { code: 'not_your_tier' } });
  expect((await t.client.workflow.getHandle(id).query(stateQuery)).pending).toHaveLength(1);

  const sam = home();
  await mandate(sam, 'login', '--url', service.url, '--token', service.tokens.sam);
  const rejected = await mandate(sam, 'reject', id, 'a1', '--reason', 'duplicate', '--json');
  expect(JSON.parse(rejected.stdout)).toMatchObject({ decision: 'reject', approver: PEOPLE.sam.subject });
  await expect(result(t.client, id)).resolves.toMatchObject({ verdict: 'rejected' });
});

test('token create adds a hashed token that signs in; token revoke ends it, by subject or by id', async () => {
  const admin = home();
  const created = await mandate(
    admin,
    'token',
    'create',
    '--subject',
    'new.approver@example.com',
    '--roles',
    'supervisor,finance',
    '--file',
    service.tokensFile,
    '--json',
  );
  expect(created.code).toBe(0);
  const { token } = JSON.parse(created.stdout) as { token: string };
  expect(readFileSync(service.tokensFile, 'utf8')).not.toContain(token);
  expect(statSync(service.tokensFile).mode & 0o777).toBe(0o600);
  const login = await mandate(admin, 'login', '--url', service.url, '--token', token, '--json');
  expect(JSON.parse(login.stdout)).toMatchObject({
    subject: 'new.approver@example.com',
    roles: ['supervisor', 'finance'],
  });

  const listed = JSON.parse((await mandate(admin, 'token', 'list', '--file', service.tokensFile, '--json')).stdout) as {
    id: string;
    subject: string;
  }[];
  const mine = listed.find((e) => e.subject === 'new.approver@example.com')!;
  expect(mine.id).toMatch(/^[0-9a-f]{12}$/);
  expect(JSON.stringify(listed)).not.toContain(token);
  const revoked = await mandate(admin, 'token', 'revoke', '--token-id', mine.id, '--file', service.tokensFile);
  expect(revoked).toMatchObject({
    code: 0,
    stdout: expect.stringMatching(`revoked ${mine.id} \\(new.approver@example.com\\)`),
  });
  expect((await mandate(admin, 'approvals', 'list', '--json')).code).toBe(1);
  expect(
    (await mandate(admin, 'token', 'revoke', '--subject', 'NEW.approver@example.com', '--file', service.tokensFile))
      .code,
  ).toBe(1);
  expect((await mandate(admin, 'token', 'revoke', '--file', service.tokensFile)).code).toBe(1);
});

test("concurrent token writers never lose each other's token (the file is locked and replaced atomically)", async () => {
  const admin = home();
  const file = join(admin, 'tokens.json');
  const runs = await Promise.all(
    [0, 1, 2, 3].map((i) =>
      mandate(
        admin,
        'token',
        'create',
        '--subject',
        `writer-${i}@example.com`,
        '--roles',
        'supervisor',
        '--file',
        file,
        '--json',
      ),
    ),
  );
  expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 0]);
  const subjects = (JSON.parse(readFileSync(file, 'utf8')) as { tokens: { subject: string }[] }).tokens.map(
    (t) => t.subject,
  );
  expect(subjects.sort()).toEqual([0, 1, 2, 3].map((i) => `writer-${i}@example.com`));
  expect(statSync(file).mode & 0o777).toBe(0o600);
});

test('mission start and halt through the service: the signed-in person is the verified initiator; halts are confirmed', async () => {
  const ivy = home();
  const ops = home();
  expect((await mandate(ivy, 'login', '--url', service.url, '--token', service.tokens.ivy)).code).toBe(0);
  expect((await mandate(ops, 'login', '--url', service.url, '--token', service.tokens.ops)).code).toBe(0);
  const input = join(ivy, 'input.json');
  writeFileSync(input, JSON.stringify({ caseId: 'CASE-1008' }));
  const typed = await mandate(ivy, 'mission', 'start', 'customer-refund', '--input', input, '--as', 'mallory');
  expect(typed).toMatchObject({ code: 1, stderr: expect.stringMatching(/--as applies only with --direct/) });
  const started = await mandate(ivy, 'mission', 'start', 'customer-refund', '--input', input, '--json');
  expect(started.code).toBe(0);
  const { missionId, initiator } = JSON.parse(started.stdout) as { missionId: string; initiator: string };
  expect(initiator).toBe(PEOPLE.ivy.subject);
  await waitForState(t.client, missionId, awaitingApproval);
  const own = await mandate(ivy, 'approve', missionId, 'a1', '--yes', '--json');
  expect(own.code).toBe(1);
  expect(JSON.parse(own.stdout)).toMatchObject({ error: { code: 'initiator' } });

  const halted = await mandate(ops, 'halt', missionId, '--reason', 'incident drill');
  expect(halted).toMatchObject({ code: 0, stdout: expect.stringMatching(`${missionId}: closed halted`) });
  await expect(result(t.client, missionId)).resolves.toMatchObject({ verdict: 'halted', executedActions: [] });
});
