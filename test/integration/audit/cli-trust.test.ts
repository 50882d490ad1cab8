import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCosignerKeyPair } from '../../../core/cosignature';
import { generateKeyPair } from '../../../core/signed-note';
import { childEnv } from '../../harness/settings';
import { createTestContext } from '../../harness/context';
import type { RunningWorker, TestContext } from '../../harness/context';
import { runCli } from '../../support/run-cli';
import { result, startRefund } from '../helpers';

/**
 * The auditor's and operator's commands end to end, as processes: `mandate witness` as a service on
 * 127.0.0.1, `mandate audit export` asking it to cosign, `audit verify` with the witness policy (and
 * one JSON document on failure), `audit hold|release` on the filesystem store, and `audit status`.
 */
let t: TestContext;
let worker: RunningWorker;
let witness: ChildProcess | undefined;
let witnessInfo: { url: string; name: string; verifierKey: string };
let missionId: string;
const root = mkdtempSync(join(tmpdir(), 'mandate-cli-trust-'));
const storeDir = join(root, 'store');
const keys = generateKeyPair('mandate-audit-cli');
const origin = 'mandate/audit/cli';
const BIN = join(__dirname, '..', '..', '..', 'bin', 'mandate.js');

const env = () => ({
  MANDATE_TEMPORAL_ADDRESS: t.address,
  MANDATE_DATA_DIR: root,
  MANDATE_AUDIT_DIR: storeDir,
  MANDATE_AUDIT_SIGNER_KEY: keys.signerKey,
  MANDATE_AUDIT_VERIFIER_KEY: keys.verifierKey,
  MANDATE_AUDIT_ORIGIN: origin,
  MANDATE_AUDIT_WITNESSES: `${witnessInfo.url}=${witnessInfo.verifierKey}`,
  MANDATE_USER: 'legal@example.com',
});
const mandate = (...args: string[]) => runCli(env(), args, 120_000);

/** Starts `mandate witness --json` and reads the one JSON document it prints once listening. */
function startWitness(): Promise<typeof witnessInfo> {
  const child = spawn(
    process.execPath,
    [BIN, 'witness', '--json', '--port', '0', '--dir', join(root, 'witness'), '--log', `${origin}=${keys.verifierKey}`],
    { env: childEnv({ MANDATE_DATA_DIR: root }) },
  );
  witness = child;
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      try {
        resolve(JSON.parse(out));
      } catch {
        // not the whole document yet
      }
    });
    child.once('exit', (code) => reject(new Error(`mandate witness exited with ${code}: ${out}`)));
  });
}

beforeAll(async () => {
  t = await createTestContext('audit-cli');
  worker = await t.startWorker();
  witnessInfo = await startWitness();
  missionId = await startRefund(t.client, t.taskQueue, 'CASE-1001');
  await result(t.client, missionId);
});

afterAll(async () => {
  witness?.kill('SIGTERM');
  await worker?.stop();
  await t?.close();
  try {
    execFileSync('chattr', ['-R', '-i', root]); // in case a test failed while a hold was in place
  } catch {
    // nothing was held
  }
  rmSync(root, { recursive: true, force: true });
});

test('the witness service prints its key, and export asks it to cosign each checkpoint', async () => {
  expect(witnessInfo).toMatchObject({
    url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
    name: 'mandate-witness',
  });
  const printed = await runCli({ MANDATE_DATA_DIR: root }, ['witness', '--print-key', '--dir', join(root, 'witness')]);
  expect(printed).toMatchObject({ code: 0, stdout: `${witnessInfo.verifierKey}\n` });

  const exported = await mandate('audit', 'export', '--mission', missionId);
  expect(exported.code).toBe(0);
  expect(exported.stdout).toMatch(/^exported 1 run\(s\)/);
  expect(exported.stdout).toMatch(/witness mandate-witness \([0-9a-f]{8}\) cosigned checkpoint 1/);

  const verified = await mandate('audit', 'verify');
  expect(verified.code).toBe(0);
  expect(verified.stdout).toMatch(/cosigned by mandate-witness/);
  expect(verified.stdout).toMatch(/OK: every object is accounted for; .*and the witness policy holds/);
});

test('verify --json prints exactly one document, also when it fails; usage errors too', async () => {
  const ok = await mandate('--json', 'audit', 'verify');
  expect(ok.code).toBe(0);
  expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, counts: { cosignatures: 1 } });

  const planted = join(root, 'planted');
  execFileSync('cp', ['-a', storeDir, planted]);
  writeFileSync(join(planted, 'log', 'notes.txt'), 'planted');
  const broken = await mandate('--json', 'audit', 'verify', '--dir', planted);
  expect(broken.code).toBe(1);
  const doc = JSON.parse(broken.stdout); // throws if there were two documents
  expect(doc).toMatchObject({ ok: false, problems: [{ subject: 'log/notes.txt' }] });

  const usage = await mandate('--json', 'audit', 'verify', '--witness-quorum', '0');
  expect(usage.code).toBe(2);
  expect(JSON.parse(usage.stdout)).toEqual({
    error: { code: 'usage', message: expect.stringMatching(/--witness-quorum/) },
  });

  // A policy naming another witness: the latest checkpoint lacks its cosignature.
  const other = generateCosignerKeyPair('other-witness').verifierKey;
  const wrongPolicy = await mandate('--json', 'audit', 'verify', '--witness-key', other);
  expect(wrongPolicy.code).toBe(1);
  expect(JSON.parse(wrongPolicy.stdout).problems).toEqual([
    { subject: 'checkpoints/1.note', problem: expect.stringMatching(/missing: other-witness/) },
  ]);
});

test('hold and release a mission on the filesystem store; status shows lag, checkpoint, witness and holds', async () => {
  const held = await mandate('audit', 'hold', missionId, '--reason', 'litigation L-7');
  expect(held.code).toBe(0);
  expect(held.stdout).toMatch(new RegExp(`legal hold placed on mission ${missionId}: 3 object\\(s\\)`));
  expect(held.stdout).toMatch(/witness mandate-witness .* cosigned checkpoint 2/);

  const status = await mandate('--json', 'audit', 'status');
  expect(status.code).toBe(0);
  expect(JSON.parse(status.stdout)).toMatchObject({
    log: { size: 2, bundles: 1, holdRecords: 1 },
    checkpoint: { size: 2 },
    lag: { last: { workflowId: missionId, seconds: expect.any(Number) } },
    pending: { closedNotExported: expect.any(Number) },
    witnesses: [{ name: 'mandate-witness', cosigned: { size: 2, behind: 0 }, reports: { size: 2 } }],
    holds: [{ missionId, by: 'legal@example.com', reason: 'litigation L-7', keys: 3 }],
  });
  const text = await mandate('audit', 'status');
  expect(text.stdout).toMatch(/export lag {3}last run [\d.]+ s after its close/);
  expect(text.stdout).toMatch(new RegExp(`legal hold {3}${missionId} since .* by legal@example.com: litigation L-7`));

  const released = await mandate('audit', 'release', missionId, '--reason', 'case closed');
  expect(released).toMatchObject({ code: 0, stdout: expect.stringMatching(/legal hold lifted from mission/) });
  expect((await mandate('audit', 'release', missionId, '--reason', 'again')).code).toBe(1);
  expect((await mandate('audit', 'verify')).code).toBe(0);
});
