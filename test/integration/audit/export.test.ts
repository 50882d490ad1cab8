import { execFile } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { encryptedPayloads } from '../../../audit/decrypt';
import { AuditExporter } from '../../../audit/exporter';
import { MemoryAuditStore } from '../../../audit/store-memory';
import { FsAuditStore } from '../../../audit/store-fs';
import { formatReport } from '../../../audit/report-format';
import {
  AuditCheckFailed,
  auditExport,
  auditReplay,
  auditReport,
  auditVerify,
  readHistorySource,
} from '../../../cli/audit';
import type { AuditIo } from '../../../cli/audit';
import { ensureAuditSchedule } from '../../../client/schedules';
import { exportOnCloseWorkflowId } from '../../../contract/audit';
import { generateKeyPair } from '../../../core/signed-note';
import { provisionTemporalCli } from '../../../infra/temporal/provision-cli';
import { auditExport as auditExportWorkflow } from '../../../workflows/audit-export';
import { startMissionWorker } from '../../../workers/worker';
import type { RunningWorker } from '../../../workers/worker';
import { runCli } from '../../support/run-cli';
import { createTestContext } from '../../harness/context';
import type { TestContext } from '../../harness/context';
import { expectEveryMutationDetected } from '../../unit/audit/tamper';
import { awaitingApproval, result, startRefund, waitForState } from '../helpers';
import { buildWorkerDeps } from '../../../workers/deps';
import { harness } from '../../harness/settings';
import { castSigned, TEST_SIGNERS } from '../../support/trust';

/**
 * Issue 5 end to end against the real dev server: refunds that policy allows, a supervisor approves
 * and a supervisor rejects are exported by the export workflow to a filesystem store, verified,
 * re-exported (nothing new), tampered with (every mutation detected), replayed and reported.
 * Payloads are encrypted (issue 11): bundles hold the history as stored, verify needs no key, replay
 * and report read it with the key ring.
 */
let t: TestContext;
let native: NativeConnection;
let worker: RunningWorker | undefined;
const root = mkdtempSync(join(tmpdir(), 'mandate-audit-export-'));
const storeDir = join(root, 'store');
const keys = generateKeyPair('mandate-audit-it');
const origin = 'mandate/audit/it';
const bundlePath = () => harness().bundlePath;
const missions: Record<'allowed' | 'approved' | 'rejected', string> = { allowed: '', approved: '', rejected: '' };
let terminated = '';
const quiet = (): AuditIo & { lines: string[] } => {
  const lines: string[] = [];
  return { lines, out: (l) => lines.push(l), err: () => undefined };
};

beforeAll(async () => {
  t = await createTestContext('audit');
  native = await NativeConnection.connect({ address: t.address });
  const deps = buildWorkerDeps({ enterpriseDb: t.dbPath, trustedSigners: TEST_SIGNERS });
  // The worker's own client (Context.client) serves the export activities, as in production.
  worker = await startMissionWorker({
    connection: native,
    taskQueue: t.taskQueue,
    deps,
    workflowBundle: { codePath: bundlePath() },
    audit: { store: new FsAuditStore({ root: storeDir }), signerKey: keys.signerKey, origin },
    dataConverter: t.dataConverter,
  });

  missions.allowed = await startRefund(t.client, t.taskQueue, 'CASE-1001');
  missions.approved = await startRefund(t.client, t.taskQueue, 'CASE-1002');
  missions.rejected = await startRefund(t.client, t.taskQueue, 'CASE-1003');
  await waitForState(t.client, missions.approved, awaitingApproval);
  await castSigned(t.client, missions.approved, {
    actionId: 'a1',
    decision: 'approve',
    approver: 'sam.supervisor@example.com',
    roles: ['supervisor'],
    reason: 'photos attached',
  });
  await waitForState(t.client, missions.rejected, awaitingApproval);
  await castSigned(t.client, missions.rejected, {
    actionId: 'a1',
    decision: 'reject',
    approver: 'sam.supervisor@example.com',
    roles: ['supervisor'],
    reason: 'needs RMA first',
  });
  for (const id of Object.values(missions)) await result(t.client, id);
  // A terminated mission runs no code as it closes: only the sweeper can export it.
  terminated = await startRefund(t.client, t.taskQueue, 'CASE-1008');
  await waitForState(t.client, terminated, awaitingApproval);
  await t.client.workflow.getHandle(terminated).terminate('operator stopped it');
  // Each of the others started its own export as it closed: let those finish first.
  for (const id of Object.values(missions)) {
    const { runId } = await t.client.workflow.getHandle(id).describe();
    await t.client.workflow.getHandle(exportOnCloseWorkflowId(id, runId)).result();
  }
});

afterAll(async () => {
  await worker?.stop();
  await native?.close();
  await t?.close();
  rmSync(root, { recursive: true, force: true });
});

const store = () => new FsAuditStore({ root: storeDir });
const bundleDir = (id: string) => {
  const dir = join(storeDir, 'bundles', id);
  return join(dir, readdirSync(dir)[0]);
};
/** Every file under the store with its size and mtime: "nothing new" means this does not change. */
function snapshot(dir = storeDir): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => {
      const path = join(e.parentPath, e.name);
      const s = statSync(path);
      return `${path} ${s.size} ${s.mtimeMs}`;
    })
    .sort();
}

test('closed missions were exported on close; the sweeper exports what was missed, and the store verifies', async () => {
  for (const id of Object.values(missions)) expect(readdirSync(bundleDir(id))).toContain('manifest.json');
  expect(existsSync(join(storeDir, 'bundles', terminated))).toBe(false);
  // Visibility is eventually consistent: run the sweeper until it has seen the terminated mission.
  let exported = 0;
  for (let attempt = 0; attempt < 20 && exported < 1; attempt++) {
    const run = await t.client.workflow.execute(auditExportWorkflow, {
      taskQueue: t.taskQueue,
      workflowId: `audit-export-${t.taskQueue}-${attempt}`,
      args: [{ taskQueue: t.taskQueue, batchSize: 2 }],
    });
    expect(run.failed).toEqual([]);
    exported += run.exported;
    if (exported < 1) await new Promise((r) => setTimeout(r, 500));
  }
  expect(exported).toBe(1);
  for (const id of [...Object.values(missions), terminated]) {
    expect(
      readdirSync(bundleDir(id))
        .filter((n) => !n.startsWith('.'))
        .sort(),
    ).toEqual(['history.json', 'manifest.json', 'report.json']);
  }
  const io = quiet();
  const verified = await auditVerify(store(), { verifierKeys: [keys.verifierKey], origin, io });
  expect(verified).toMatchObject({ ok: true, counts: { bundles: 4, leaves: 4 } });
  expect(io.lines.at(-1)).toMatch(/^OK/);
  const manifest = JSON.parse(readFileSync(join(bundleDir(missions.approved), 'manifest.json'), 'utf8'));
  // Only what the stored history shows without a key: the type comes from the plaintext search attribute.
  expect(manifest).toMatchObject({
    workflowId: missions.approved,
    missionType: 'customer-refund',
    policyVersions: [],
    workerBuildIds: [expect.any(String)],
    parts: { 'history.json': { sha256: expect.stringMatching(/^[0-9a-f]{64}$/) } },
  });
  expect(manifest.definitionVersion).toBeUndefined();
});

test('bundles keep the history as the cluster stored it: ciphertext, in history.json and report.json alike', () => {
  for (const name of ['history.json', 'report.json', 'manifest.json']) {
    const text = readFileSync(join(bundleDir(missions.approved), name), 'utf8');
    for (const plaintext of ['sam.supervisor@example.com', 'photos attached', 'CASE-1002', 'refunds.issue'])
      expect(text).not.toContain(plaintext);
  }
  const history = readHistorySource(bundleDir(missions.approved));
  expect(encryptedPayloads(history)).toMatchObject({ count: expect.any(Number), keyIds: [t.keyRing.currentKeyId] });
  expect(encryptedPayloads(history).count).toBeGreaterThan(10);
});

test('exporting again writes nothing new and says so', async () => {
  const before = snapshot();
  const exporter = new AuditExporter({ store: store(), signerKey: keys.signerKey, origin });
  const io = quiet();
  const since = new Date(Date.now() - 3600_000).toISOString();
  const summary = await auditExport(exporter, t.client, { taskQueue: t.taskQueue, since, io });
  expect(summary).toMatchObject({ exported: 0, failed: [], checkpoint: { size: 4, created: false } });
  expect(io.lines.join('\n')).toMatch(/nothing new to export \(4 closed run\(s\) already in the log; log size 4\)/);
  for (const id of Object.values(missions)) {
    const one = await auditExport(exporter, t.client, { missionId: id, since, io: quiet() });
    expect(one.exported).toBe(0);
  }
  expect(snapshot()).toEqual(before);
});

test('1,000 random mutations of a copy of the exported store are each detected', async () => {
  const copy = await MemoryAuditStore.copyOf(store());
  expect(await expectEveryMutationDetected(copy.objects, { verifierKeys: [keys.verifierKey], origin }, 1000)).toBe(
    1000,
  );
});

test('tampering with a copied directory store names the broken bundle and checkpoint', async () => {
  const dir = join(root, 'tampered');
  cpSync(storeDir, dir, { recursive: true });
  const history = join(bundleDir(missions.approved).replace(storeDir, dir), 'history.json');
  chmodSync(history, 0o644);
  const bytes = readFileSync(history);
  bytes[200] ^= 0x20;
  writeFileSync(history, bytes);
  const checkpoints = readdirSync(join(dir, 'checkpoints')).filter((n) => !n.startsWith('.'));
  unlinkSync(join(dir, 'checkpoints', checkpoints.sort()[0]));
  const io = quiet();
  const verified = auditVerify(new FsAuditStore({ root: dir }), { verifierKeys: [keys.verifierKey], origin, io });
  await expect(verified).rejects.toThrow(AuditCheckFailed);
  const out = io.lines.join('\n');
  expect(out).toContain(`BROKEN bundles/${missions.approved}/`);
  expect(out).toMatch(/history\.json .*modified on disk/);
  // With one checkpoint the log is uncovered; with more, the next one's `prev` names the gap.
  expect(out).toMatch(
    /BROKEN (checkpoints\/\d+\.note: checkpoint follows size \d+, .*one is missing|checkpoints\/: no valid checkpoint covers)/,
  );
});

test('every bundle replays against the current workflow code; an altered history is a determinism violation', async () => {
  for (const id of Object.values(missions)) {
    await expect(
      auditReplay(readHistorySource(bundleDir(id)), {
        workflowBundlePath: bundlePath(),
        keyRing: t.keyRing,
        io: quiet(),
      }),
    ).resolves.toMatchObject({ ok: true, workflowId: id });
  }
  const history = readHistorySource(join(bundleDir(missions.approved), 'history.json'));
  const scheduled = history.events.find((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED')!;
  (scheduled.activityTaskScheduledEventAttributes as { activityType: { name: string } }).activityType.name = 'other';
  await expect(
    auditReplay(history, { workflowBundlePath: bundlePath(), keyRing: t.keyRing, io: quiet() }),
  ).rejects.toThrow(/determinism violation/);
});

test('a file written by the stock `temporal workflow show --output json` replays and reports', async () => {
  const cli = await provisionTemporalCli();
  const file = join(root, 'stock.json');
  const shown = await new Promise<string>((resolve, reject) =>
    execFile(
      cli,
      ['workflow', 'show', '--workflow-id', missions.approved, '--output', 'json', '--address', t.address],
      { maxBuffer: 64 * 1024 * 1024 },
      (error, stdout) => (error ? reject(error) : resolve(stdout)),
    ),
  );
  writeFileSync(file, shown);
  const history = readHistorySource(file);
  await expect(
    auditReplay(history, { workflowBundlePath: bundlePath(), keyRing: t.keyRing, io: quiet() }),
  ).resolves.toMatchObject({ ok: true });
  const exported = readHistorySource(bundleDir(missions.approved));
  expect(auditReport(history, { keyRing: t.keyRing })).toEqual(auditReport(exported, { keyRing: t.keyRing }));
});

test('the reports of the three missions contain every layer, from the exported history and the key ring', async () => {
  const report = (id: string) => auditReport(readHistorySource(bundleDir(id)), { keyRing: t.keyRing });
  const approved = report(missions.approved);
  expect(approved.layers.inputs).toMatchObject({ input: { caseId: 'CASE-1002' }, initiator: expect.any(String) });
  expect(approved.layers.policy[0]).toMatchObject({ actionId: 'a1', policyVersion: expect.any(String) });
  expect(approved.layers.decision[0]).toMatchObject({ actionId: 'a1', outcome: 'require_approval' });
  expect(approved.layers.approvals).toEqual([
    expect.objectContaining({ approver: 'sam.supervisor@example.com', decision: 'approve', result: 'accepted' }),
  ]);
  expect(approved.layers.action[0]).toMatchObject({ operation: 'refunds.issue', status: 'executed' });
  expect(approved.layers.outcome).toMatchObject({ verdict: 'completed' });

  const allowed = report(missions.allowed);
  expect(allowed.layers.decision[0]).toMatchObject({ outcome: 'allow' });
  expect(allowed.layers.approvals).toEqual([]);
  expect(allowed.layers.action[0]).toMatchObject({ status: 'executed' });

  const rejected = report(missions.rejected);
  expect(rejected.layers.approvals).toEqual([
    expect.objectContaining({ decision: 'reject', reason: 'needs RMA first', result: 'accepted' }),
  ]);
  expect(rejected.layers.action).toEqual([]);
  expect(rejected.layers.outcome).toMatchObject({ verdict: 'rejected' });

  // The stored report.json is what the history shows without a key (verify rebuilds it keyless).
  const stored = JSON.parse(readFileSync(join(bundleDir(missions.approved), 'report.json'), 'utf8'));
  expect(stored).toEqual(JSON.parse(JSON.stringify(auditReport(readHistorySource(bundleDir(missions.approved))))));
  expect(stored.layers.approvals).toEqual([expect.objectContaining({ via: 'update', result: 'accepted' })]);
  expect(stored.layers.approvals[0].approver).toBeUndefined();
  expect(JSON.stringify(stored)).not.toContain('sam.supervisor');
  expect(stored.notes).toContainEqual(expect.objectContaining({ note: expect.stringMatching(/payload is encrypted/) }));
  const text = formatReport(approved, 'markdown');
  for (const layer of ['Inputs', 'Policy', 'Decision', 'Approvals', 'Action', 'Outcome']) expect(text).toContain(layer);
});

test('a Temporal Schedule runs the export workflow', async () => {
  const scheduleId = `audit-export-${t.taskQueue}`;
  const created = await ensureAuditSchedule(t.client, {
    taskQueue: t.taskQueue,
    every: '1 hour',
    scheduleId,
    input: { taskQueue: t.taskQueue },
  });
  expect(created).toEqual({ scheduleId, created: true });
  expect((await ensureAuditSchedule(t.client, { taskQueue: t.taskQueue, scheduleId })).created).toBe(false);
  const handle = t.client.schedule.getHandle(scheduleId);
  try {
    await handle.trigger();
    let runId: string | undefined;
    let workflowId: string | undefined;
    for (let i = 0; i < 100 && !runId; i++) {
      const action = (await handle.describe()).info.recentActions.at(-1)?.action;
      workflowId = action?.workflow.workflowId;
      runId = action?.workflow.firstExecutionRunId;
      if (!runId) await new Promise((r) => setTimeout(r, 100));
    }
    const run = await t.client.workflow.getHandle(workflowId!, runId).result();
    expect(run).toMatchObject({ failed: [], size: 4 });
  } finally {
    await handle.delete();
  }
});

describe('the mandate audit commands', () => {
  const mandate = (...args: string[]) =>
    runCli(
      {
        MANDATE_TEMPORAL_ADDRESS: t.address,
        MANDATE_DATA_DIR: root,
        MANDATE_AUDIT_SIGNER_KEY: keys.signerKey,
        MANDATE_AUDIT_VERIFIER_KEY: keys.verifierKey,
        MANDATE_AUDIT_ORIGIN: origin,
      },
      args,
      120_000,
    );

  test('export shows progress, exports once, and says when there is nothing new', async () => {
    const dir = join(root, 'cli-store');
    const first = await mandate('audit', 'export', '--mission', missions.rejected, '--dir', dir);
    expect(first).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^exported 1 run\(s\), 0 unchanged, 0 failed; log size 1/),
    });
    expect(first.stderr).toMatch(/audit export: 1\/1 runs, [\d.]+\/s, ETA 0s/);
    const again = await mandate('audit', 'export', '--mission', missions.rejected, '--dir', dir);
    expect(again).toMatchObject({ code: 0, stdout: expect.stringMatching(/^nothing new to export/) });
    expect((await mandate('audit', 'export', '--since', 'yesterday')).code).toBe(2);
  });

  test('verify exits 0 on the exported store and 1, naming what broke, on a tampered copy; it needs no key', async () => {
    // An auditor with no payload key at all: the ring file named does not exist.
    const ok = await runCli(
      {
        MANDATE_DATA_DIR: root,
        MANDATE_AUDIT_VERIFIER_KEY: keys.verifierKey,
        MANDATE_AUDIT_ORIGIN: origin,
        MANDATE_ENCRYPTION_KEYS_FILE: join(root, 'no-keys-here.json'),
      },
      ['audit', 'verify', '--dir', storeDir],
    );
    expect(ok).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/OK: every object is accounted for; every bundle, leaf and checkpoint verifies/),
    });
    expect(ok.stdout).toMatch(/note: [1-9]\d* bundle\(s\) hold encrypted payloads: their integrity is verified/);
    const withKeys = await mandate('audit', 'verify', '--dir', storeDir);
    expect(withKeys).toMatchObject({ code: 0 });
    expect(withKeys.stdout).not.toMatch(/hold encrypted payloads/);
    const dir = join(root, 'tampered-cli');
    cpSync(storeDir, dir, { recursive: true });
    const report = join(bundleDir(missions.rejected).replace(storeDir, dir), 'report.json');
    chmodSync(report, 0o644);
    writeFileSync(report, readFileSync(report).subarray(0, 50));
    const broken = await mandate('audit', 'verify', '--dir', dir);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain(`BROKEN bundles/${missions.rejected}/`);
    expect(broken.stderr).toMatch(/audit verify found 1 problem/);
  });

  test('report prints every layer in each format; replay accepts a bundle directory; usage errors exit 2', async () => {
    const html = await mandate('audit', 'report', bundleDir(missions.approved), '--format', 'html');
    expect(html.code).toBe(0);
    for (const layer of ['1. Inputs', '2. Policy', '3. Decision', '4. Approvals', '5. Action', '6. Outcome']) {
      expect(html.stdout).toContain(`<h2>${layer}</h2>`);
    }
    const fromServer = await mandate('audit', 'report', '--mission', missions.rejected, '--format', 'markdown');
    expect(fromServer).toMatchObject({ code: 0, stdout: expect.stringContaining('needs RMA first') });
    const withoutKey = await runCli({ MANDATE_DATA_DIR: join(root, 'elsewhere'), MANDATE_ENCRYPTION_KEYS_FILE: '' }, [
      'audit',
      'report',
      bundleDir(missions.rejected),
    ]);
    expect(withoutKey.code).toBe(1);
    expect(withoutKey.stderr).toMatch(
      new RegExp(`encrypted payload\\(s\\) under key id\\(s\\) ${t.keyRing.currentKeyId}: give the key ring`),
    );
    const replay = await mandate('audit', 'replay', bundleDir(missions.allowed), '--workflow-bundle', bundlePath());
    expect(replay).toMatchObject({ code: 0, stdout: expect.stringMatching(/^replay OK/) });
    expect((await mandate('audit', 'replay')).code).toBe(2);
    expect((await mandate('audit', 'report', 'x', '--format', 'docx')).code).toBe(2);
  });
});
