import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, WorkflowIdReusePolicy, log, patched, startChild, workflowInfo } from '@temporalio/workflow';
import { exportOnCloseWorkflowId } from '../contract/audit';
import { AUDIT_EXPORT_WORKFLOW_TYPE } from '../contract/names';
import type { auditExport } from './audit-export';

/**
 * Export on close: as a mission finishes, it starts the audit export workflow for its own run, so
 * the bundle is written, logged, checkpointed and witnessed within seconds instead of at the next
 * sweep. The child outlives the mission (ABANDON) and waits for the run to close before exporting;
 * its workflow id is fixed per run and never reused, so the export is started once. Failing to start
 * it never changes the mission's outcome: the Schedule's sweeper exports whatever was missed.
 */
export async function exportOnClose(): Promise<void> {
  // Histories recorded before this existed closed without starting an export (the sweeper's job).
  if (!patched('mandate-export-on-close')) return;
  const { workflowId, runId, taskQueue } = workflowInfo();
  try {
    await startChild<typeof auditExport>(AUDIT_EXPORT_WORKFLOW_TYPE, {
      workflowId: exportOnCloseWorkflowId(workflowId, runId),
      taskQueue,
      args: [{ run: { workflowId, runId } }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return;
    log.warn('could not start the export on close; the sweeper will export this run', {
      error: (err as Error).message,
    });
  }
}
