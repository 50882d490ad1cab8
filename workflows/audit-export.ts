import { ActivityFailure, continueAsNew, log, proxyActivities } from '@temporalio/workflow';
import type { AuditActivities } from '../activities/audit';
import type { ExportRunResult } from '../activities/audit';
import type { AuditExportInput, AuditExportResult } from '../contract/audit';

/** Timeout and retry profile of the export activities (history fetch + store writes). */
const EXPORT = {
  startToCloseTimeout: '5 minutes',
  retry: { maximumAttempts: 5, initialInterval: '2 seconds' },
} as const;
/** Waiting for the mission's run to close: it closes right after starting this export. */
const AWAIT_CLOSE = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { maximumAttempts: 3, initialInterval: '1 second' },
} as const;
const { auditFindUnexported, auditExportRun, auditCheckpoint } = proxyActivities<AuditActivities>(EXPORT);
const { auditAwaitRunClosed } = proxyActivities<AuditActivities>(AWAIT_CLOSE);

/** Runs of one continue-as-new chain exported on close, at most (earlier ones are the sweeper's). */
const MAX_CHAIN = 100;

/**
 * The audit exporter. Started by a mission for its own run when it closes (`input.run`): wait until
 * that run has closed, export it (and the earlier runs of its chain not yet exported), sign and
 * witness a checkpoint — the bundle is immutable within seconds of the close. Run by the Schedule as
 * the sweeper for anything missed: batch by batch, find closed missions not yet exported, export
 * each, then sign a checkpoint. A run that fails to export is recorded and skipped; the next
 * scheduled run tries it again.
 */
export async function auditExport(input: AuditExportInput = {}): Promise<AuditExportResult> {
  if (input.run) return exportOnClose(input.run);
  const result: AuditExportResult = { exported: 0, unchanged: 0, failed: [], checkpoints: 0, size: 0 };
  const batchSize = input.batchSize ?? 50;
  const maxBatches = input.maxBatches ?? 20;
  for (let batch = 0; batch < maxBatches; batch++) {
    const found = await auditFindUnexported({
      since: input.since,
      missionId: input.missionId,
      taskQueue: input.taskQueue,
      limit: batchSize,
    });
    let progressed = 0;
    for (const run of found.runs) {
      let done: ExportRunResult;
      try {
        done = await auditExportRun({ workflowId: run.workflowId, runId: run.runId });
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        result.failed.push({ ...run, error: err.cause?.message ?? err.message });
        continue;
      }
      progressed++;
      if (done.written > 0) result.exported++;
      else result.unchanged++;
    }
    const checkpoint = await auditCheckpoint();
    result.size = checkpoint.size;
    if (checkpoint.created) result.checkpoints++;
    log.info('audit export batch', { batch, runs: found.runs.length, size: checkpoint.size });
    // Stop when the query found nothing new that could be exported (failures are retried next time).
    if (progressed === 0 || found.runs.length < batchSize) return result;
  }
  return continueAsNew<typeof auditExport>(input);
}

async function exportOnClose(run: { workflowId: string; runId: string }): Promise<AuditExportResult> {
  const result: AuditExportResult = {
    exported: 0,
    unchanged: 0,
    failed: [],
    checkpoints: 0,
    size: 0,
    trigger: 'close',
    runs: [],
  };
  await auditAwaitRunClosed(run);
  let next: typeof run | undefined = run;
  for (let i = 0; next && i < MAX_CHAIN; i++) {
    let done: ExportRunResult;
    try {
      done = await auditExportRun(next);
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      result.failed.push({ ...next, error: err.cause?.message ?? err.message });
      break;
    }
    result.runs!.push(next);
    // A run already in the log means the rest of the chain was exported before it.
    if (done.written === 0) {
      result.unchanged++;
      break;
    }
    result.exported++;
    next = done.continuedFrom ? { workflowId: run.workflowId, runId: done.continuedFrom } : undefined;
  }
  const checkpoint = await auditCheckpoint();
  result.size = checkpoint.size;
  if (checkpoint.created) result.checkpoints++;
  result.witnesses = checkpoint.witnesses.map(({ witness, size, status, detail }) => ({
    witness,
    size,
    status,
    ...(detail ? { detail } : {}),
  }));
  return result;
}
