import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { manifestKey } from '../../../audit/bundle';
import { AuditLog } from '../../../audit/log';
import { FsAuditStore } from '../../../audit/store-fs';
import { verifyAuditStore } from '../../../audit/verify';
import type { AuditExportResult } from '../../../contract/audit';
import { exportOnCloseWorkflowId } from '../../../contract/audit';
import { generateKeyPair } from '../../../core/signed-note';
import { buildWorkerDeps } from '../../../workers/deps';
import { startMissionWorker } from '../../../workers/worker';
import type { RunningWorker } from '../../../workers/worker';
import { createTestContext } from '../../harness/context';
import type { TestContext } from '../../harness/context';
import { harness } from '../../harness/settings';
import { awaitingApproval, catalog, result, startRefund, waitForState } from '../helpers';
import { startMission } from '../../../client/missions';
import { approvalsSigner, castSigned, TEST_SIGNERS } from '../../support/trust';
import type { TestWitness } from '../../support/witness';
import { startTestWitness } from '../../support/witness';

/**
 * Export on close against the real dev server: each mission, as it closes, starts the export
 * workflow for its own run; the bundle, its log leaf, a checkpoint and a witness's cosignature are
 * in the store when that workflow completes. No Schedule runs here, so whatever is exported came
 * from the close trigger — and the test waits on that workflow, not on a clock.
 */
let t: TestContext;
let native: NativeConnection;
let worker: RunningWorker | undefined;
let witness: TestWitness;
const root = mkdtempSync(join(tmpdir(), 'mandate-export-on-close-'));
const store = new FsAuditStore({ root: join(root, 'store') });
const logKeys = generateKeyPair('mandate-audit-close');
const origin = 'mandate/audit/close';

beforeAll(async () => {
  t = await createTestContext('audit-close');
  native = await NativeConnection.connect({ address: t.address });
  witness = await startTestWitness({
    name: 'witness.test/close',
    origin,
    logVerifierKey: logKeys.verifierKey,
    dir: root,
  });
  const { url } = witness;
  worker = await startMissionWorker({
    connection: native,
    taskQueue: t.taskQueue,
    // Continue as new every two reasoning steps, so a mission is a chain of runs.
    deps: buildWorkerDeps({
      enterpriseDb: t.dbPath,
      trustedSigners: TEST_SIGNERS,
      overrides: { 'customer-refund': { limits: { continueAsNewAfterSteps: 2 } } },
    }),
    workflowBundle: { codePath: harness().bundlePath },
    dataConverter: t.dataConverter, // payloads encrypted with the run's key ring, as the test client does
    audit: {
      store,
      signerKey: logKeys.signerKey,
      origin,
      witnesses: [{ url, verifierKey: witness.verifierKey }],
    },
  });
});

afterAll(async () => {
  await worker?.stop();
  await native?.close();
  await witness?.close();
  await t?.close();
  rmSync(root, { recursive: true, force: true });
});

/** The run ids of a mission's chain, oldest first, and the export the last run started as it closed. */
async function closedWithExport(missionId: string) {
  const description = await t.client.workflow.getHandle(missionId).describe();
  const exportId = exportOnCloseWorkflowId(missionId, description.runId);
  const exportHandle = t.client.workflow.getHandle(exportId);
  const exported = (await exportHandle.result()) as AuditExportResult;
  const parent = (await exportHandle.describe()).parentExecution;
  const runs: string[] = [];
  for await (const e of t.client.workflow.list({ query: `WorkflowId = '${missionId}'` })) runs.push(e.runId);
  return { runId: description.runId, exported, parent, runs };
}

test('a closing mission exports its own runs, logged, checkpointed and witnessed, before its export completes', async () => {
  const id = await startRefund(t.client, t.taskQueue, 'CASE-1001');
  await expect(result(t.client, id)).resolves.toMatchObject({ verdict: 'completed' });
  const { runId, exported, parent, runs } = await closedWithExport(id);

  // It came from the close trigger: started by the mission's last run, for that run.
  expect(parent).toEqual({ workflowId: id, runId });
  expect(exported).toMatchObject({ trigger: 'close', failed: [], witnesses: [{ status: 'cosigned' }] });
  expect(runs.length).toBeGreaterThanOrEqual(2);
  expect(exported.runs!.map((r) => r.runId).sort()).toEqual([...runs].sort());
  expect(exported.exported).toBe(runs.length);
  for (const run of runs) expect(await store.exists(manifestKey(id, run))).toBe(true);

  const log = await AuditLog.load(store, origin);
  const leaf = log.bundles().find((entry) => entry.runId === runId)!;
  expect(Date.parse(leaf.exportedAt)).toBeGreaterThanOrEqual(Date.parse(leaf.closedAt!));
  const verified = await verifyAuditStore(store, {
    verifierKeys: [logKeys.verifierKey],
    origin,
    witnesses: { keys: [witness.verifierKey] },
  });
  expect(verified).toMatchObject({ ok: true, latest: { witnesses: [{ name: 'witness.test/close' }] } });
});

test('missions that are rejected or fail are exported on close too; a second trigger writes nothing', async () => {
  const rejected = await startRefund(t.client, t.taskQueue, 'CASE-1003');
  await waitForState(t.client, rejected, awaitingApproval);
  await castSigned(t.client, rejected, {
    actionId: 'a1',
    decision: 'reject',
    approver: 'sam.supervisor@example.com',
    roles: ['supervisor'],
    reason: 'needs RMA first',
  });
  await expect(result(t.client, rejected)).resolves.toMatchObject({ verdict: 'rejected' });
  // A confidential mission may not use a provider outside the boundary: it fails at its first step.
  const failed = await startMission(t.client, {
    catalog,
    taskQueue: t.taskQueue,
    missionType: 'customer-refund',
    input: { caseId: 'CASE-1002' },
    initiator: 'agent-desk@example.com',
    provider: 'openai:gpt-4o-mini',
    signer: approvalsSigner,
  });
  await expect(result(t.client, failed)).rejects.toThrow();

  for (const id of [rejected, failed]) {
    const { runId, exported, parent } = await closedWithExport(id);
    expect(parent?.workflowId).toBe(id);
    expect(exported).toMatchObject({ trigger: 'close', failed: [] });
    expect(await store.exists(manifestKey(id, runId))).toBe(true);
  }
  const { runId } = await t.client.workflow.getHandle(failed).describe();
  const manifest = JSON.parse((await store.get(manifestKey(failed, runId))).toString());
  expect(manifest.status).toBe('failed');

  // Triggering the same run's export again (a reset mission, a retry) finds it in the log.
  const again = (await t.client.workflow.execute('auditExport', {
    taskQueue: t.taskQueue,
    workflowId: `${exportOnCloseWorkflowId(failed, runId)}-again`,
    args: [{ run: { workflowId: failed, runId } }],
  })) as AuditExportResult;
  expect(again).toMatchObject({ failed: [], exported: 0, unchanged: 1, trigger: 'close' });
});
