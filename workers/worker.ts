import type { DataConverter } from '@temporalio/common';
import type { NativeConnection, WorkerOptions } from '@temporalio/worker';
import { Worker } from '@temporalio/worker';
import { createAuditActivities } from '../activities/audit';
import { createMissionActivities } from '../activities/mission';
import type { AuditDeps } from '../audit/exporter';
import type { WorkerDeps } from './deps';

export const WORKFLOWS_PATH = require.resolve('../workflows');

export interface MissionWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue: string;
  deps: WorkerDeps;
  /** A prebuilt bundle (tests bundle once per run); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  identity?: string;
  /** The audit exporter's store and keys, or a factory called on first use (see `auditDepsFrom`). */
  audit: AuditDeps | (() => Promise<AuditDeps>);
  /** Payload codec and failure converter (`missionDataConverter`): what the cluster stores is ciphertext. */
  dataConverter?: DataConverter;
}

/** A worker running and how to stop it: the one shutdown sequence (drain, then close its dependencies). */
export interface RunningWorker {
  worker: Worker;
  /** Settles when the worker has stopped. */
  done: Promise<void>;
  stop(): Promise<void>;
}

/** Creates a worker that runs mission and audit-export workflows and their activities on one task queue, and runs it. */
export async function startMissionWorker(options: MissionWorkerOptions): Promise<RunningWorker> {
  const worker = await Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: {
      ...createMissionActivities(options.deps),
      ...createAuditActivities(options.audit),
    },
    ...(options.identity ? { identity: options.identity } : {}),
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
    // In-flight activities get this long to finish when the worker stops (Ctrl-C, deploys, tests).
    shutdownGraceTime: '10 seconds',
  });
  const done = worker.run();
  let stopped: Promise<void> | undefined;
  return {
    worker,
    done,
    stop() {
      stopped ??= (async () => {
        // The Temporal runtime also reacts to SIGINT/SIGTERM and may already be draining the worker.
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await done.catch(() => undefined);
        options.deps.close();
      })();
      return stopped;
    },
  };
}
