import { Worker } from '@temporalio/worker';
import type { WorkerOptions, NativeConnection } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { ActivityDeps } from '../activities';
import { createBenchActivities } from '../activities/bench';
import { createEnterpriseDb } from '../activities/integrations/enterprise-db';
import { OfflinePlaybookProvider } from '../activities/reasoning/offline';
import { ProviderRegistry } from '../activities/reasoning/registry';
import { Catalog } from '../core/catalog';
import type { DefinitionOverrides } from '../core/catalog';

export const WORKFLOWS_PATH = require.resolve('../workflows');

export interface MissionDepsOptions {
  enterpriseDb: string;
  catalogDir?: string;
  overrides?: DefinitionOverrides;
  faults?: ActivityDeps['faults'];
}

/** Builds the activities' dependencies: catalog, integrations, reasoning providers. */
export function buildMissionDeps(options: MissionDepsOptions): ActivityDeps & { close(): void } {
  const catalog = Catalog.load(options.catalogDir, options.overrides);
  const enterprise = createEnterpriseDb(options.enterpriseDb);
  return {
    catalog,
    integrations: { [enterprise.name]: enterprise },
    providers: new ProviderRegistry([new OfflinePlaybookProvider()]),
    faults: options.faults,
    close: () => enterprise.close(),
  };
}

export interface MissionWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** A prebuilt bundle (tests bundle once per run); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  identity?: string;
}

/** A worker that runs mission workflows and their activities on one task queue. */
export function createMissionWorker(options: MissionWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: { ...createActivities(options.deps), ...createBenchActivities() },
    ...(options.identity ? { identity: options.identity } : {}),
    // In-flight activities get this long to finish when the worker stops (Ctrl-C, deploys, tests).
    shutdownGraceTime: '10 seconds',
  });
}
