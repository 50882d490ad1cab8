import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { seedEnterpriseDb } from '../activities/integrations/enterprise-db-seed';
import type { SeedOptions } from '../activities/integrations/enterprise-db-seed';
import { buildMissionDeps, createMissionWorker } from '../workers/worker';
import { startDevServer } from './temporal/dev-server';

/**
 * A throwaway stack for scripts (demo, benchmark, fixture recording): an in-memory Temporal dev
 * server, a freshly seeded sample database in a temporary folder and one mission worker.
 */
export interface EmbeddedStack {
  client: Client;
  taskQueue: string;
  /** Temporary folder holding the sample database (and whatever else the script puts there). */
  workDir: string;
  dbPath: string;
  stop(): Promise<void>;
}

export async function startEmbeddedStack(options: {
  name: string;
  seed?: SeedOptions;
  log?: (line: string) => void;
}): Promise<EmbeddedStack> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const workDir = mkdtempSync(join(tmpdir(), `mandate-${options.name}-`));
  const dbPath = join(workDir, 'enterprise.db');
  const server = await startDevServer({ log: options.log });
  seedEnterpriseDb(dbPath, options.seed);
  const deps = buildMissionDeps({ enterpriseDb: dbPath });
  const native = await NativeConnection.connect({ address: server.address });
  const taskQueue = `mandate-${options.name}`;
  const worker = await createMissionWorker({ connection: native, taskQueue, deps });
  const running = worker.run();
  const connection = await Connection.connect({ address: server.address });
  return {
    client: new Client({ connection }),
    taskQueue,
    workDir,
    dbPath,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
      deps.close();
      await native.close();
      await connection.close();
      await server.stop();
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}
