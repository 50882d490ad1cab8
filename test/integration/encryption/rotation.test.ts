import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { decryptHistory, encryptedPayloads } from '../../../audit/decrypt';
import type { HistoryJson } from '../../../audit/history';
import { auditReplay } from '../../../cli/audit';
import { missionDataConverter } from '../../../client/data-converter';
import { loadConfig, loadKeyRing } from '../../../config';
import { KeyRing } from '../../../core/payload-encryption';
import { createTestContext } from '../../harness/context';
import type { RunningWorker, TestContext } from '../../harness/context';
import { childEnv, harness } from '../../harness/settings';
import { runCli } from '../../support/run-cli';
import { operatorKeyPath } from '../../support/trust';
import { awaitingApproval, result, startRefund, waitForState } from '../helpers';

/**
 * Key rotation on the harness's dev server: a mission started under k1 finishes and replays after k2
 * becomes current (the ring keeps k1); a reader without k1 fails with a message naming k1; a worker
 * with encryption configured and no usable key refuses to start. Keys are handled with the README's
 * `mandate encryption` commands.
 */
let t: TestContext;
let worker: RunningWorker | undefined;
const dir = mkdtempSync(join(tmpdir(), 'mandate-rotation-'));
const keysFile = join(dir, 'keys', 'payload-keys.json');
const quiet = { out: () => undefined, err: () => undefined };

beforeAll(async () => {
  t = await createTestContext('rotation');
});
afterAll(async () => {
  await worker?.stop();
  await t?.close();
});

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    MANDATE_TEMPORAL_ADDRESS: t.address,
    MANDATE_TASK_QUEUE: t.taskQueue,
    MANDATE_DATA_DIR: dir,
    MANDATE_ENCRYPTION_KEYS_FILE: keysFile,
    MANDATE_OPERATOR_KEY: operatorKeyPath(),
    XDG_CONFIG_HOME: join(dir, 'config'),
    MANDATE_APPROVALS_URL: '',
    MANDATE_APPROVALS_TOKEN: '',
    ...extra,
  };
}
const mandate = (args: string[], extra: Record<string, string> = {}) => runCli(env(extra), args, 120_000);
const ring = (): KeyRing => loadKeyRing(loadConfig(env()).encryption)!.ring;
/** A key's bytes, read from the key ring file as an operator handing it on would. */
const keyOf = (id: string): Buffer =>
  Buffer.from(
    (JSON.parse(readFileSync(keysFile, 'utf8')) as { keys: { id: string; key: string }[] }).keys.find(
      (k) => k.id === id,
    )!.key,
    'base64',
  );

async function storedHistory(client: Client, id: string): Promise<HistoryJson> {
  return JSON.parse(historyToJSON(await client.workflow.getHandle(id).fetchHistory())) as HistoryJson;
}

let missionId: string;

test('a mission started under k1 finishes and replays after k2 becomes current', async () => {
  expect(await mandate(['encryption', 'rotate', '--id', 'k1'])).toMatchObject({
    code: 0,
    stdout: expect.stringContaining(`created ${keysFile}: added key k1; current key k1`),
  });
  const k1 = missionDataConverter(ring());
  worker = await t.startWorker({ dataConverter: k1 });
  const client1 = new Client({ connection: t.client.connection, dataConverter: k1 });
  missionId = await startRefund(client1, t.taskQueue, 'CASE-1002');
  await waitForState(client1, missionId, awaitingApproval);

  // Staged first (every process learns k2), then made current.
  expect(await mandate(['encryption', 'rotate', '--id', 'k2', '--stage'])).toMatchObject({
    code: 0,
    stdout: expect.stringContaining('added key k2; current key k1'),
  });
  expect(await mandate(['encryption', 'use', 'k2'])).toMatchObject({
    code: 0,
    stdout: `${keysFile}: current key k2\n`,
  });
  const status = await mandate(['encryption', 'status']);
  expect(status.stdout).toContain('current key k2; key ids k2, k1');
  expect(readFileSync(keysFile, 'utf8')).not.toContain('undefined');

  // Workers restart with the new ring; the approver's CLI encrypts its vote under k2.
  await worker.stop();
  const k2 = missionDataConverter(ring());
  worker = await t.startWorker({ dataConverter: k2 });
  const approved = await mandate([
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
  ]);
  expect(approved).toMatchObject({ code: 0 });
  const client2 = new Client({ connection: t.client.connection, dataConverter: k2 });
  await expect(result(client2, missionId)).resolves.toMatchObject({ verdict: 'completed' });

  const history = await storedHistory(client2, missionId);
  expect(encryptedPayloads(history).keyIds).toEqual(['k1', 'k2']);
  await expect(
    auditReplay(history, { workflowBundlePath: harness().bundlePath, keyRing: ring(), io: quiet }),
  ).resolves.toMatchObject({ ok: true });
  const replay = await mandate(['audit', 'replay', '--mission', missionId, '--workflow-bundle', harness().bundlePath]);
  expect(replay).toMatchObject({ code: 0, stdout: expect.stringMatching(/^replay OK/) });

  // A rotation without flags: a generated key id, current at once; k1 and k2 stay.
  const rotated = await mandate(['encryption', 'rotate']);
  expect(rotated.stdout).toMatch(/added key (k\d{8}-[0-9a-f]{6}); current key \1\n/);
  expect(ring().ids).toEqual([expect.stringMatching(/^k\d{8}-/), 'k1', 'k2']);
});

test('a payload under an unknown key id fails with a message naming the key id', async () => {
  // A reader given only k2 (inline, no key file) cannot read what was written under k1.
  const k2only = `k2:${keyOf('k2').toString('base64')}`;
  const onlyK2 = {
    MANDATE_DATA_DIR: join(dir, 'auditor'),
    MANDATE_ENCRYPTION_KEYS_FILE: '',
    MANDATE_ENCRYPTION_KEYS: k2only,
  };
  const history = await storedHistory(t.client, missionId);
  const ringK2 = loadKeyRing(loadConfig(env(onlyK2)).encryption)!.ring;
  expect(ringK2.ids).toEqual(['k2']);
  await expect(
    auditReplay(history, {
      workflowBundlePath: harness().bundlePath,
      keyRing: ringK2,
      io: quiet,
    }),
  ).rejects.toThrow(/key id "k1", which is not in this key ring/);
  const report = await mandate(['audit', 'report', '--mission', missionId], onlyK2);
  expect(report.code).toBe(1);
  expect(report.stderr).toMatch(
    /payload is encrypted under key id "k1", which is not in this key ring \(it holds "k2"\)/,
  );
  const replay = await mandate(['audit', 'replay', '--mission', missionId], onlyK2);
  expect(replay.code).toBe(1);
  expect(replay.stdout + replay.stderr).toContain('key id "k1"');

  // A worker given only k2 refuses a mission sent under k1: its workflow task fails, and the failure
  // it records (encrypted under its own key: the operator reads it with the full ring) names k1.
  const other = await createTestContext('rotation-k2only');
  try {
    await other.startWorker({ dataConverter: missionDataConverter(ringK2) });
    const k1only = new KeyRing([['k1', keyOf('k1')]], 'k1');
    const sender = new Client({ connection: other.client.connection, dataConverter: missionDataConverter(k1only) });
    const id = await startRefund(sender, other.taskQueue, 'CASE-1001');
    let failure: { message?: string } | undefined;
    for (let i = 0; i < 100 && !failure; i++) {
      const events = decryptHistory(await storedHistory(sender, id), ring()).events;
      const failed = events.find((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_TASK_FAILED');
      failure = (failed?.workflowTaskFailedEventAttributes as { failure?: { message?: string } } | undefined)?.failure;
      if (!failure) await new Promise((r) => setTimeout(r, 200));
    }
    expect(failure?.message).toMatch(/key id "k1", which is not in this key ring \(it holds "k2"\)/);
    await sender.workflow.getHandle(id).terminate('test: unreadable under k2');
  } finally {
    await other.close();
  }
});

describe('a worker with encryption configured but no usable key refuses to start', () => {
  const startWorkerProcess = (extra: Record<string, string>) =>
    new Promise<{ code: number; stderr: string }>((done) =>
      execFile(
        process.execPath,
        [require.resolve('tsx/cli'), resolve(__dirname, '..', '..', '..', 'workers', 'main.ts')],
        { env: childEnv(env(extra)), timeout: 60_000 },
        (error, _stdout, stderr) => done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stderr }),
      ),
    );

  test('a key file that does not exist', async () => {
    const missing = join(dir, 'nowhere.json');
    const run = await startWorkerProcess({ MANDATE_ENCRYPTION_KEYS_FILE: missing });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(`payload encryption is on but its key ring is missing: no file ${missing}`);
  });

  test('and so does the CLI, naming the file', async () => {
    const missing = join(dir, 'nowhere.json');
    const list = await mandate(['mission', 'list'], { MANDATE_ENCRYPTION_KEYS_FILE: missing });
    expect(list.code).toBe(1);
    expect(list.stderr).toContain(`payload encryption is on but its key ring is missing: no file ${missing}`);
  });

  test('a current key id the ring does not hold', async () => {
    const run = await startWorkerProcess({ MANDATE_ENCRYPTION_KEY_ID: 'k9' });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('the current key id "k9" is not in the key ring');
  });
});
