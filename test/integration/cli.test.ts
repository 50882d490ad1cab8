import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestContext } from '../harness/context';
import type { CliRun } from '../support/run-cli';
import { runCli } from '../support/run-cli';
import type { TestContext } from '../harness/context';
import { awaitingApproval, result, waitForState } from './helpers';
import { operatorKeyPath } from '../support/trust';

/** Runs the real `mandate` binary against the harness's Temporal server. */
let t: TestContext;

beforeAll(async () => {
  t = await createTestContext('cli');
  await t.startWorker();
});
afterAll(async () => t?.close());

/** The operators' path: `--direct`, signed with the test run's break-glass key (which the worker trusts). */
function mandate(...args: string[]): Promise<CliRun> {
  return mandateWith({ MANDATE_OPERATOR_KEY: operatorKeyPath() }, ...args);
}

function mandateWith(env: Record<string, string>, ...args: string[]): Promise<CliRun> {
  // No approvals service here: a fresh config dir, so a developer's stored login cannot redirect the CLI.
  return runCli(
    {
      MANDATE_TEMPORAL_ADDRESS: t.address,
      MANDATE_TASK_QUEUE: t.taskQueue,
      XDG_CONFIG_HOME: join(t.dbPath, '..', 'config'),
      MANDATE_DATA_DIR: join(t.dbPath, '..', 'data'),
      MANDATE_APPROVALS_URL: '',
      MANDATE_APPROVALS_TOKEN: '',
      ...env,
    },
    args,
  );
}

function inputFile(name: string, value: unknown): string {
  const path = join(t.dbPath, '..', name);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

test('start → approvals list → approve moves the mission on; the same approve again is refused and changes nothing', async () => {
  const started = await mandate(
    'mission',
    'start',
    'customer-refund',
    '--direct',
    '--input',
    inputFile('in.json', { caseId: 'CASE-1002' }),
    '--as',
    'dana',
    '--json',
  );
  expect(started).toMatchObject({ code: 0 });
  const { missionId } = JSON.parse(started.stdout);
  expect(missionId).toMatch(/^customer-refund-/);
  await waitForState(t.client, missionId, awaitingApproval);

  // Visibility is eventually consistent: poll the queue briefly.
  let queue: { missionId: string; actionId: string; tier: string }[] = [];
  for (let i = 0; i < 50 && !queue.some((q) => q.missionId === missionId); i++) {
    queue = JSON.parse((await mandate('approvals', 'list', '--json')).stdout);
    if (!queue.some((q) => q.missionId === missionId)) await new Promise((r) => setTimeout(r, 200));
  }
  expect(queue).toContainEqual(expect.objectContaining({ missionId, actionId: 'a1', tier: 'supervisor' }));
  const table = await mandate('approvals', 'list');
  expect(table.stdout).toMatch(
    new RegExp(`${missionId}\\s+a1\\s+refunds\\.issue\\s+450\\.00 USD\\s+supervisor\\s+dana`),
  );

  const approved = await mandate(
    'approve',
    missionId,
    'a1',
    '--direct',
    '--as',
    'sam',
    '--role',
    'supervisor',
    '--reason',
    'receipt checked',
  );
  expect(approved).toMatchObject({ code: 0 });
  expect(approved.stdout).toMatch(`approved ${missionId} a1 as sam`);
  await expect(result(t.client, missionId)).resolves.toMatchObject({ verdict: 'completed' });

  const again = await mandate('approve', missionId, 'a1', '--direct', '--as', 'sam', '--role', 'supervisor');
  expect(again.code).toBe(1);
  expect(again.stderr).toMatch(/decision already taken: action a1 was approved by sam/);
  expect(t.query('SELECT * FROM refunds WHERE mission_id = ?', missionId)).toHaveLength(1);

  const shown = await mandate('mission', 'show', missionId);
  expect(shown.stdout).toMatch(/status=completed/);
  expect(shown.stdout).toMatch(/approval\s+sam approved a1 \[break-glass\]: receipt checked/);
  expect(shown.stdout).toMatch(/started by dana \[break-glass\]/);
  const listed = JSON.parse((await mandate('mission', 'list', '--json', '--status', 'completed')).stdout);
  expect(listed.map((m: { missionId: string }) => m.missionId)).toContain(missionId);
});

test('errors exit non-zero with a clear message', async () => {
  const bad = await mandate(
    'mission',
    'start',
    'customer-refund',
    '--direct',
    '--input',
    inputFile('bad.json', { caseId: 'nope' }),
  );
  expect(bad.code).toBe(1);
  expect(bad.stderr).toMatch(/invalid input for mission "customer-refund": caseId/);

  const notJson = await mandate('mission', 'start', 'customer-refund', '--direct', '--input', inputFile('x.json', 'x'));
  expect(notJson.code).toBe(1);
  const garbled = join(t.dbPath, '..', 'garbled.json');
  writeFileSync(garbled, '{"caseId": ');
  expect((await mandate('mission', 'start', 'customer-refund', '--direct', '--input', garbled)).stderr).toMatch(
    /not valid JSON/,
  );

  const noReason = await mandate(
    'reject',
    'customer-refund-x',
    'a1',
    '--direct',
    '--as',
    'sam',
    '--role',
    'supervisor',
  );
  expect(noReason.code).toBe(2);
  expect(noReason.stderr).toMatch(/--reason/);

  const missing = await mandate(
    'approve',
    'customer-refund-doesnotexist',
    'a1',
    '--direct',
    '--as',
    'sam',
    '--role',
    'supervisor',
    '--json',
  );
  expect(missing.code).toBe(1);
  expect(JSON.parse(missing.stdout)).toEqual({
    error: { code: 'MissionNotFound', message: 'no mission customer-refund-doesnotexist' },
  });
});

test('without the approvals service or a break-glass key, nothing is started or voted in a typed name', async () => {
  const input = inputFile('in2.json', { caseId: 'CASE-1002' });
  const typed = await mandateWith({}, 'mission', 'start', 'customer-refund', '--input', input, '--as', 'mallory');
  expect(typed).toMatchObject({ code: 1, stderr: expect.stringMatching(/--as applies only with --direct/) });
  const noService = await mandateWith({}, 'mission', 'start', 'customer-refund', '--input', input);
  expect(noService).toMatchObject({ code: 1, stderr: expect.stringMatching(/no approvals service configured/) });
  const noKey = await mandateWith({}, 'mission', 'start', 'customer-refund', '--direct', '--input', input);
  expect(noKey).toMatchObject({
    code: 1,
    stderr: expect.stringMatching(
      /--direct signs with the operators' break-glass key, and none is configured: set MANDATE_OPERATOR_KEY/,
    ),
  });
  const vote = await mandateWith(
    {},
    'approve',
    'customer-refund-x',
    'a1',
    '--direct',
    '--as',
    'sam',
    '--role',
    'supervisor',
  );
  expect(vote).toMatchObject({ code: 1, stderr: expect.stringMatching(/none is configured/) });
});
