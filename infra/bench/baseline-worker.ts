import type { DataConverter } from '@temporalio/common';
import type { NativeConnection } from '@temporalio/worker';
import { Worker } from '@temporalio/worker';
import { createBenchActivities } from './activities';

/**
 * The benchmark's baseline: a worker of its own (never the production worker) running the bare
 * workflow and its no-op activities on a task queue of its own, with the stack's data converter (the
 * client encrypts what it sends, and the comparison then leaves encryption out of governance's cost).
 */
export async function startBaselineWorker(
  connection: NativeConnection,
  taskQueue: string,
  dataConverter?: DataConverter,
) {
  const worker = await Worker.create({
    connection,
    taskQueue,
    ...(dataConverter ? { dataConverter } : {}),
    workflowsPath: require.resolve('./workflows'),
    activities: createBenchActivities(),
  });
  const done = worker.run();
  return {
    taskQueue,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done.catch(() => undefined);
    },
  };
}
