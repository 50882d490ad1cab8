import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestContext } from '../harness/context';
import type { CliRun } from '../support/run-cli';
import { runCli } from '../support/run-cli';
import type { TestContext } from '../harness/context';
import { awaitingApproval, result, waitForState } from './helpers';

/** Runs the real `mandate` binary against the harness's Temporal server. */
let t: TestContext;

beforeAll(async () => {
  t = await createTestContext('cli');
  await t.startWorker();
});
afterAll(async () => t?.close());

function mandate(...args: string[]): Promise<CliRun> {
  // No approvals service here: a fresh config dir, so a developer's stored login cannot redirect the CLI.
  return runCli(
    {
      MANDATE_TEMPORAL_ADDRESS: t.address,
      MANDATE_TASK_QUEUE: t.taskQueue,
      XDG_CONFIG_HOME: join(t.dbPath, '..', 'config'),
      MANDATE_APPROVALS_URL: '',
      MANDATE_APPROVALS_TOKEN: '',
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
  expect(shown.stdout).toMatch(/approval\s+sam approved a1: receipt checked/);
  const listed = JSON.parse((await mandate('mission', 'list', '--json', '--status', 'completed')).stdout);
  expect(listed.map((m: { missionId: string }) => m.missionId)).toContain(missionId);
});

test('errors exit non-zero with a clear message', async () => {
  const bad = await mandate(
    'mission',
    'start',
    'customer-refund',
    '--input',
    inputFile('bad.json', { caseId: 'nope' }),
  );
  expect(bad.code).toBe(1);
  expect(bad.stderr).toMatch(/invalid input for mission "customer-refund": caseId/);

  const notJson = await mandate('mission', 'start', 'customer-refund', '--input', inputFile('x.json', 'x'));
  expect(notJson.code).toBe(1);
  const garbled = join(t.dbPath, '..', 'garbled.json');
  writeFileSync(garbled, '{"caseId": ');
  expect((await mandate('mission', 'start', 'customer-refund', '--input', garbled)).stderr).toMatch(/not valid JSON/);

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
