import type { Client } from '@temporalio/client';
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import type { AuditExportInput } from '../contract/audit';
import { AUDIT_EXPORT_WORKFLOW_TYPE } from '../contract/names';

export const AUDIT_SCHEDULE_ID = 'mandate-audit-export';

/**
 * Creates the Temporal Schedule that runs the audit export workflow every `every` (default 5
 * minutes), or leaves an existing one alone. Overlaps are skipped: one exporter appends at a time.
 */
export async function ensureAuditSchedule(
  client: Client,
  options: { taskQueue: string; every?: string; scheduleId?: string; input?: AuditExportInput },
): Promise<{ scheduleId: string; created: boolean }> {
  const scheduleId = options.scheduleId ?? AUDIT_SCHEDULE_ID;
  try {
    await client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: (options.every ?? '5 minutes') as '5 minutes' }] },
      action: {
        type: 'startWorkflow',
        workflowType: AUDIT_EXPORT_WORKFLOW_TYPE,
        taskQueue: options.taskQueue,
        args: [options.input ?? {}],
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
    });
    return { scheduleId, created: true };
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) return { scheduleId, created: false };
    throw err;
  }
}
