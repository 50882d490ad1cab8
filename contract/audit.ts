/**
 * The audit export workflow's input and result. The Schedule starts it as the sweeper (from the
 * log's cursor); a mission starts it for its own run when it closes (`run`), under the workflow id
 * `exportOnCloseWorkflowId`, so a second trigger for the same run is refused by Temporal.
 */
export interface AuditExportInput {
  /** Export this run, once it has closed (and the earlier runs of its continue-as-new chain). */
  run?: { workflowId: string; runId: string };
  /** Only runs closed at or after this ISO time (default: the log's own cursor). */
  since?: string;
  /** Only this mission. */
  missionId?: string;
  /** Only missions of this task queue. */
  taskQueue?: string;
  /** Runs per batch; each batch ends with a signed checkpoint. */
  batchSize?: number;
  /** Batches before continuing as new (keeps this run's history bounded). */
  maxBatches?: number;
}

export interface AuditExportResult {
  exported: number;
  unchanged: number;
  failed: { workflowId: string; runId: string; error: string }[];
  checkpoints: number;
  size: number;
  /** `close`: started by a mission for its own run; `sweep`: by the Schedule or by hand. */
  trigger?: 'close' | 'sweep';
  /** The runs this execution exported (close trigger). */
  runs?: { workflowId: string; runId: string }[];
  /** What each witness did with the latest checkpoint. */
  witnesses?: { witness: string; size: number; status: string; detail?: string }[];
}

/** The export workflow's id for one mission run's export on close: one per run, so it runs once. */
export function exportOnCloseWorkflowId(workflowId: string, runId: string): string {
  return `audit-export-on-close/${workflowId}/${runId}`;
}
