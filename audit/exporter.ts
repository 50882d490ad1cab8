import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { z } from 'zod';
import { MISSION_WORKFLOW_TYPE } from '../contract/names';
import { quote, where } from '../core/visibility';
import type { Bundle } from './bundle';
import { PART_NAMES, buildBundle, manifestKey } from './bundle';
import type { HistoryJson } from './history';
import { AuditLog, checkpointSizes } from './log';
import type { AuditStore } from './store';
import type { WitnessEndpoint, WitnessOutcome } from './witness-client';
import { gatherCosignatures } from './witness-client';
import { sha256Hex } from '../core/hash';

/**
 * Exporting closed missions into the audit store: find runs not yet exported (a visibility query
 * from the exporter's cursor), write each run's bundle, append its manifest to the Merkle log, and
 * sign a checkpoint per batch. The same class serves the export workflow's activities
 * (`activities/audit.ts`) and `mandate audit export`.
 */
export interface AuditDeps {
  store: AuditStore;
  /** C2SP signer key (`PRIVATE+KEY+…`) for checkpoints. */
  signerKey: string;
  /** Checkpoint origin, e.g. `mandate/audit/<namespace>`. */
  origin: string;
  /** Witnesses asked to cosign each checkpoint (C2SP tlog-witness). */
  witnesses?: readonly WitnessEndpoint[];
  /** A client for visibility and history; activities default to the worker's own. */
  client?: Client;
  now?: () => Date;
}

/** Runs closed within this window before the cursor are looked at again (visibility is eventually consistent). */
export const CURSOR_OVERLAP_MS = 10 * 60_000;

export const FindInput = z.object({
  since: z.iso.datetime({ offset: true }).optional(),
  missionId: z.string().min(1).optional(),
  /** Only missions that ran on this task queue (one exporter per deployment). */
  taskQueue: z.string().min(1).optional(),
  limit: z.number().int().min(1).max(10_000).default(100),
});
export const RunRef = z.object({ workflowId: z.string().min(1), runId: z.string().min(1) });
export type RunRef = z.infer<typeof RunRef>;

export interface FindResult {
  runs: (RunRef & { closeTime?: string })[];
  /** The close-time lower bound the query used, if any. */
  cursor?: string;
  /** Closed runs seen that were already exported. */
  alreadyExported: number;
}

export interface ExportRunResult extends RunRef {
  manifestSha256: string;
  leafIndex: number;
  /** Objects this call wrote (0 when the run had been exported before: nothing new). */
  written: number;
  missionType?: string;
  status: string;
  /** The run this one continued as new from (the previous link of the mission's chain). */
  continuedFrom?: string;
}

export interface CheckpointResult {
  size: number;
  created: boolean;
  key?: string;
  rootHex: string;
  /** What each configured witness did with the latest checkpoint. */
  witnesses: WitnessOutcome[];
}

const CLOSED_TYPES =
  /^EVENT_TYPE_WORKFLOW_EXECUTION_(COMPLETED|FAILED|TIMED_OUT|CANCELED|TERMINATED|CONTINUED_AS_NEW)$/;

function continuedFrom(history: HistoryJson): string | undefined {
  const started = history.events[0]?.workflowExecutionStartedEventAttributes as
    { continuedExecutionRunId?: string } | undefined;
  return started?.continuedExecutionRunId || undefined;
}

/** The exporter over one store; keeps the log loaded between calls. */
export class AuditExporter {
  private log?: Promise<AuditLog>;
  private checkpointing: Promise<unknown> = Promise.resolve();

  constructor(readonly deps: AuditDeps) {}

  async openLog(): Promise<AuditLog> {
    this.log ??= AuditLog.load(this.deps.store, this.deps.origin);
    const log = await this.log.catch((err: unknown) => {
      this.log = undefined;
      throw err;
    });
    await log.refresh();
    return log;
  }

  async findUnexported(client: Client, raw: z.input<typeof FindInput> = {}): Promise<FindResult> {
    const input = FindInput.parse(raw);
    const log = await this.openLog();
    const latest = log.latestClosedAt();
    const cursor = input.since ?? (latest ? new Date(Date.parse(latest) - CURSOR_OVERLAP_MS).toISOString() : undefined);
    const query = where(
      `WorkflowType = ${quote(MISSION_WORKFLOW_TYPE)}`,
      `ExecutionStatus != 'Running'`,
      cursor && `CloseTime >= ${quote(cursor)}`,
      input.missionId && `WorkflowId = ${quote(input.missionId)}`,
      input.taskQueue && `TaskQueue = ${quote(input.taskQueue)}`,
    );
    const runs: FindResult['runs'] = [];
    let alreadyExported = 0;
    for await (const execution of client.workflow.list({ query })) {
      if (log.hasManifestKey(manifestKey(execution.workflowId, execution.runId))) {
        alreadyExported++;
        continue;
      }
      runs.push({
        workflowId: execution.workflowId,
        runId: execution.runId,
        closeTime: execution.closeTime?.toISOString(),
      });
      if (runs.length >= input.limit) break;
    }
    runs.sort((a, b) => (a.closeTime ?? '').localeCompare(b.closeTime ?? ''));
    return { runs, ...(cursor ? { cursor } : {}), alreadyExported };
  }

  /** Fetches a closed run's history and exports it. */
  async exportRun(client: Client, raw: RunRef): Promise<ExportRunResult> {
    const { workflowId, runId } = RunRef.parse(raw);
    let history: HistoryJson;
    try {
      const proto = await client.workflow.getHandle(workflowId, runId).fetchHistory();
      history = JSON.parse(historyToJSON(proto)) as HistoryJson;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        throw ApplicationFailure.create({
          type: 'RunNotFound',
          nonRetryable: true,
          message: `no run ${runId} of ${workflowId}`,
        });
      }
      throw err;
    }
    if (!CLOSED_TYPES.test(history.events.at(-1)?.eventType ?? '')) {
      throw ApplicationFailure.create({
        type: 'RunNotClosed',
        nonRetryable: true,
        message: `run ${runId} of ${workflowId} is still open: only closed runs are exported`,
      });
    }
    return this.exportHistory(history);
  }

  /** Writes a bundle (parts first, the manifest last) and appends its leaf; idempotent. */
  async exportHistory(history: HistoryJson): Promise<ExportRunResult> {
    const bundle: Bundle = buildBundle(history);
    const log = await this.openLog();
    let written = 0;
    for (const name of PART_NAMES) {
      const bytes = bundle.parts[name];
      const put = await this.deps.store.putOnce(`${bundle.prefix}${name}`, bytes, { sha256Hex: sha256Hex(bytes) });
      if (put.created) written++;
    }
    const put = await this.deps.store.putOnce(`${bundle.prefix}manifest.json`, bundle.manifestBytes, {
      sha256Hex: bundle.manifestSha256,
    });
    if (put.created) written++;
    const { entry, created } = await log.append({
      manifestKey: `${bundle.prefix}manifest.json`,
      manifestSha256: bundle.manifestSha256,
      workflowId: bundle.workflowId,
      runId: bundle.runId,
      ...(bundle.manifest.closedAt ? { closedAt: bundle.manifest.closedAt } : {}),
      exportedAt: (this.deps.now?.() ?? new Date()).toISOString(),
    });
    if (created) written++;
    return {
      workflowId: bundle.workflowId,
      runId: bundle.runId,
      manifestSha256: bundle.manifestSha256,
      leafIndex: entry.index,
      written,
      missionType: bundle.manifest.missionType,
      status: bundle.manifest.status,
      ...(continuedFrom(history) ? { continuedFrom: continuedFrom(history) } : {}),
    };
  }

  /** Waits (polling, with `heartbeat` between polls) until a run has closed; returns its status. */
  async awaitClosed(
    client: Client,
    raw: RunRef,
    pause: (ms: number) => Promise<void>,
  ): Promise<{ status: string; closeTime?: string }> {
    const { workflowId, runId } = RunRef.parse(raw);
    const handle = client.workflow.getHandle(workflowId, runId);
    // The mission starts its export just before it closes: the first poll or two usually find it closed.
    for (let delay = 50; ; delay = Math.min(delay * 2, 2_000)) {
      const described = await handle.describe();
      if (described.status.name !== 'RUNNING')
        return { status: described.status.name, closeTime: described.closeTime?.toISOString() };
      await pause(delay);
    }
  }

  /** Signs a checkpoint if the log grew, then asks the witnesses to cosign the latest one. */
  checkpoint(): Promise<CheckpointResult> {
    // One at a time per exporter: concurrent exports (one per closing mission) share this instance.
    const run = this.checkpointing.then(async () => {
      const log = await this.openLog();
      const signed = await log.checkpoint(this.deps.signerKey);
      const latest = (await checkpointSizes(this.deps.store)).at(-1) ?? 0;
      const witnesses =
        latest <= log.size ? await gatherCosignatures(this.deps.store, log, latest, this.deps.witnesses ?? []) : [];
      return { ...signed, witnesses };
    });
    this.checkpointing = run.catch(() => undefined);
    return run;
  }
}
