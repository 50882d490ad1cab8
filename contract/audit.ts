/** The audit export workflow's input and result (the Schedule and `mandate audit` start it). */
export interface AuditExportInput {
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
}
