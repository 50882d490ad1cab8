import { ActivityFailure, continueAsNew, log, proxyActivities } from '@temporalio/workflow';
import type { AuditActivities } from '../activities/audit';
import type { ExportRunResult } from '../activities/audit';
import type { AuditExportInput, AuditExportResult } from '../contract/audit';

/** Timeout and retry profile of the export activities (history fetch + store writes). */
const EXPORT = {
  startToCloseTimeout: '5 minutes',
  retry: { maximumAttempts: 5, initialInterval: '2 seconds' },
} as const;
const { auditFindUnexported, auditExportRun, auditCheckpoint } = proxyActivities<AuditActivities>(EXPORT);

/**
 * The audit exporter, run by a Temporal Schedule: batch by batch, find closed missions not yet
 * exported, export each (bundle + log leaf), then sign a checkpoint. A run that fails to export is
 * recorded and skipped; the next scheduled run tries it again.
 */
export async function auditExport(input: AuditExportInput = {}): Promise<AuditExportResult> {
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
