import type { Client } from '@temporalio/client';
import { AuditLog } from '../../audit/log';
import { openAuditStore } from '../../audit/setup';
import type { AuditConfig } from '../../config';
import { AUDIT_EXPORT_WORKFLOW_TYPE } from '../../contract/names';
import { quote } from '../../core/visibility';

/**
 * Export on close: how long after its close each mission run was in the audit store (bundle, leaf,
 * checkpoint and witness cosignatures written), from the log's own leaves (`exportedAt − closedAt`).
 * Waits first for the export workflows the missions started to finish.
 */
export interface ExportLagResult {
  runs: number;
  medianSeconds: number;
  p95Seconds: number;
  maxSeconds: number;
}

export async function benchExportLag(client: Client, taskQueue: string, audit: AuditConfig): Promise<ExportLagResult> {
  const query = `WorkflowType = ${quote(AUDIT_EXPORT_WORKFLOW_TYPE)} AND TaskQueue = ${quote(taskQueue)} AND ExecutionStatus = 'Running'`;
  for (let i = 0; i < 600 && (await client.workflow.count(query)).count > 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const log = await AuditLog.load(await openAuditStore(audit, false), audit.origin);
  const lags = log
    .bundles()
    .filter((b) => b.closedAt)
    .map((b) => (Date.parse(b.exportedAt) - Date.parse(b.closedAt!)) / 1000)
    .sort((a, b) => a - b);
  const at = (q: number) => lags[Math.min(lags.length - 1, Math.floor(q * lags.length))] ?? 0;
  const round = (n: number) => Math.round(n * 1000) / 1000;
  return {
    runs: lags.length,
    medianSeconds: round(at(0.5)),
    p95Seconds: round(at(0.95)),
    maxSeconds: round(lags.at(-1) ?? 0),
  };
}
