import { execFileSync } from 'node:child_process';
import { cpSync, chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { readArchive, writeArchive } from '../../../audit/archive';
import { bundlePrefix } from '../../../audit/bundle';
import { encryptedPayloads } from '../../../audit/decrypt';
import { parseHistoryJson } from '../../../audit/history';
import { FsAuditStore } from '../../../audit/store-fs';
import { exportOnCloseWorkflowId } from '../../../contract/audit';
import { generateKeyPair } from '../../../core/signed-note';
import { buildWorkerDeps } from '../../../workers/deps';
import { startMissionWorker } from '../../../workers/worker';
import type { RunningWorker } from '../../../workers/worker';
import { createTestContext } from '../../harness/context';
import type { TestContext } from '../../harness/context';
import { harness } from '../../harness/settings';
import { runCli } from '../../support/run-cli';
import { castSigned, TEST_SIGNERS } from '../../support/trust';
import { awaitingApproval, result, startRefund, waitForState } from '../helpers';
import type { TestWitness } from '../../support/witness';
import { startTestWitness } from '../../support/witness';

/**
 * The auditor's view end to end: a mission approved with a signed vote, exported on close and
 * witnessed; `mandate audit report` as HTML (banner all ✓), PDF (read back with pdftotext) and JSON
 * on a tampered copy (✗ with the reason); evidence packages that are byte-identical and verify
 * offline with no data dir, and fail, naming the file, when one file changes.
 */
let t: TestContext;
let native: NativeConnection;
let worker: RunningWorker | undefined;
let witness: TestWitness;
let missionId = '';
let runId = '';
const root = mkdtempSync(join(tmpdir(), 'mandate-report-cli-'));
const storeDir = join(root, 'store');
const logKeys = generateKeyPair('mandate-audit-report');
const origin = 'mandate/audit/report';
let env: Record<string, string>;
const mandate = (...args: string[]) => runCli(env, args, 120_000);
const bundleDir = () => join(storeDir, bundlePrefix(missionId, runId));

beforeAll(async () => {
  t = await createTestContext('audit-report');
  native = await NativeConnection.connect({ address: t.address });
  witness = await startTestWitness({
    name: 'witness.test/report',
    origin,
    logVerifierKey: logKeys.verifierKey,
    dir: root,
  });
  const { url } = witness;
  const grantKeyFile = join(root, 'grant-ed25519.json');
  worker = await startMissionWorker({
    connection: native,
    taskQueue: t.taskQueue,
    deps: buildWorkerDeps({ enterpriseDb: t.dbPath, grantKeyFile, trustedSigners: TEST_SIGNERS }),
    workflowBundle: { codePath: harness().bundlePath },
    dataConverter: t.dataConverter, // payloads encrypted with the run's key ring, as the test client does
    audit: {
      store: new FsAuditStore({ root: storeDir }),
      signerKey: logKeys.signerKey,
      origin,
      witnesses: [{ url, verifierKey: witness.verifierKey }],
    },
  });
  writeFileSync(join(root, 'grant.pem'), JSON.parse(readFileSync(grantKeyFile, 'utf8')).publicKeyPem);
  env = {
    MANDATE_TEMPORAL_ADDRESS: t.address,
    MANDATE_DATA_DIR: root,
    MANDATE_AUDIT_DIR: storeDir,
    MANDATE_AUDIT_VERIFIER_KEY: logKeys.verifierKey,
    MANDATE_AUDIT_ORIGIN: origin,
    MANDATE_AUDIT_WITNESSES: `${url}=${witness.verifierKey}`,
    MANDATE_AUDIT_GRANT_PUBLIC_KEY: join(root, 'grant.pem'),
  };

  missionId = await startRefund(t.client, t.taskQueue, 'CASE-1002');
  await waitForState(t.client, missionId, awaitingApproval);
  // The approvals service signs the vote bound to the action it showed (as approvals-ui does).
  await castSigned(t.client, missionId, {
    actionId: 'a1',
    decision: 'approve',
    approver: 'sam.supervisor@example.com',
    roles: ['supervisor'],
    reason: 'photos attached',
  });
  await result(t.client, missionId);
  runId = (await t.client.workflow.getHandle(missionId).describe()).runId;
  await t.client.workflow.getHandle(exportOnCloseWorkflowId(missionId, runId)).result();
});

afterAll(async () => {
  await worker?.stop();
  await native?.close();
  await witness?.close();
  await t?.close();
  rmSync(root, { recursive: true, force: true });
});

test('the HTML report opens with a banner where every link verifies, and a timeline', async () => {
  const html = await mandate('audit', 'report', bundleDir(), '--format', 'html');
  expect(html.code).toBe(0);
  expect(html.stdout).toContain('<header class="banner verified">');
  for (const label of [
    'History hash',
    'Checkpoint signature',
    'Merkle inclusion',
    'Witness cosignatures',
    'Approval: sam.supervisor@example.com approve a1',
    'Grant for a1',
  ])
    expect(html.stdout).toMatch(new RegExp(`<li class="ok"><span class="mark">✓</span><b>${label}</b>`));
  expect(html.stdout).toContain('<svg');
  expect(html.stdout).toContain('<b>450.00 USD</b>');
  for (const layer of ['1. Inputs', '2. Policy', '3. Decision', '4. Approvals', '5. Action', '6. Outcome'])
    expect(html.stdout).toContain(`<h2>${layer}</h2>`);
  const byMission = await mandate('audit', 'report', '--mission', missionId, '--format', 'markdown');
  expect(byMission.stdout).toContain('Verified: every link checks out');
});

test('the PDF is the same page printed by Chromium, with the mission id in its text; no Chromium is a clear error', async () => {
  const pdf = join(root, 'report.pdf');
  const printed = await mandate('audit', 'report', bundleDir(), '--format', 'pdf', '--out', pdf);
  expect(printed.code).toBe(0);
  const bytes = readFileSync(pdf);
  expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
  const text = execFileSync('pdftotext', ['-layout', pdf, '-']).toString();
  expect(text).toContain(missionId);
  expect(text).toContain('Verified: every link checks out');
  const none = await runCli({ ...env, MANDATE_CHROMIUM: join(root, 'no-chromium') }, [
    'audit',
    'report',
    bundleDir(),
    '--format',
    'pdf',
    '--out',
    pdf,
  ]);
  expect(none.code).toBe(1);
  expect(none.stderr).toMatch(/PDF reports need Chromium, and there is none at .*no-chromium: install Debian's/);
});

test('a tampered history shows ✗ with the reason in the banner, in HTML and in JSON', async () => {
  const copy = join(root, 'tampered');
  cpSync(storeDir, copy, { recursive: true });
  const history = join(copy, bundlePrefix(missionId, runId), 'history.json');
  chmodSync(history, 0o644);
  const bytes = readFileSync(history);
  bytes[bytes.indexOf('"eventTime": "') + 20] ^= 0x01;
  writeFileSync(history, bytes);
  const dir = join(copy, bundlePrefix(missionId, runId));
  const json = await mandate('--json', 'audit', 'report', dir);
  expect(json.code).toBe(0);
  expect(JSON.parse(json.stdout).verification).toMatchObject({
    status: 'failed',
    checks: expect.arrayContaining([
      expect.objectContaining({
        layer: 'history',
        status: 'failed',
        reason: expect.stringMatching(/differs from the manifest/),
      }),
    ]),
  });
  const html = await mandate('audit', 'report', dir, '--format', 'html');
  expect(html.stdout).toContain('<header class="banner failed">');
  expect(html.stdout).toMatch(
    /<li class="failed"><span class="mark">✗<\/span><b>History hash<\/b> <span class="reason">history.json sha256/,
  );
});

test('evidence packages are byte-identical, verify offline with no data dir, and name any changed file', async () => {
  const zip = join(root, 'p1.zip');
  const zipAgain = join(root, 'p2.zip');
  const tgz = join(root, 'p1.tar.gz');
  for (const out of [zip, zipAgain]) expect((await mandate('audit', 'package', missionId, '--out', out)).code).toBe(0);
  expect((await mandate('audit', 'package', bundleDir(), '--out', tgz)).code).toBe(0);
  expect(readFileSync(zip).equals(readFileSync(zipAgain))).toBe(true);

  // Another machine: no data dir, no store, no Temporal.
  const nowhere = join(root, 'elsewhere', 'no-data-dir');
  const offline = (...args: string[]) =>
    runCli({ MANDATE_DATA_DIR: nowhere, MANDATE_TEMPORAL_ADDRESS: '127.0.0.1:1' }, args, 120_000);
  for (const file of [zip, tgz]) {
    const ok = await offline('audit', 'verify-package', file, '--checkpoint-key', logKeys.verifierKey);
    expect(ok).toMatchObject({ code: 0, stdout: expect.stringMatching(/OK: every file is intact/) });
    expect(ok.stdout).toMatch(/✓ Witness cosignatures: cosigned by 1 of 1 policy witness/);
  }
  expect(existsSync(nowhere)).toBe(false);

  const files = readArchive(readFileSync(zip));
  // The package keeps the history as stored: ciphertext, which its offline checks need no key for.
  expect(encryptedPayloads(parseHistoryJson(files.get('bundle/history.json')!)).count).toBeGreaterThan(0);
  const changed = new Map(files);
  const html = Buffer.from(files.get('report.html')!);
  html[html.indexOf('<h1>') + 4] ^= 0x01;
  changed.set('report.html', html);
  const broken = join(root, 'broken.zip');
  writeFileSync(broken, writeArchive(changed, true, new Date(0)));
  const failed = await offline('--json', 'audit', 'verify-package', broken);
  expect(failed.code).toBe(1);
  expect(JSON.parse(failed.stdout).problems).toEqual(
    expect.arrayContaining([expect.objectContaining({ file: 'report.html' })]),
  );
  expect(JSON.parse(failed.stdout).problems.map((p: { file: string }) => p.file)).not.toContain('bundle/history.json');
});
