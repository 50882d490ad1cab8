import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import type { Worker } from '@temporalio/worker';
import Database from 'better-sqlite3';
import { seedEnterpriseDb } from '../../activities/integrations/enterprise-db-seed';
import type { ActivityDeps } from '../../activities';
import type { ReasoningProvider } from '../../activities/reasoning/provider';
import type { DefinitionOverrides } from '../../core/catalog';
import { buildMissionDeps, createMissionWorker } from '../../workers/worker';

let runtimeInstalled = false;

/** Installs the Temporal runtime once per test file, logging errors only (MANDATE_TEST_LOG=WARN|INFO|DEBUG for more). */
export function installTestRuntime(): void {
  if (runtimeInstalled) return;
  Runtime.install({ logger: new DefaultLogger((process.env.MANDATE_TEST_LOG as 'WARN') ?? 'ERROR') });
  runtimeInstalled = true;
}

/** A running mission worker that a test can stop and replace. */
export interface RunningWorker {
  worker: Worker;
  stop(): Promise<void>;
}

/** Everything an integration suite needs: a client, a fresh sample database, its own task queue. */
export interface TestContext {
  address: string;
  client: Client;
  taskQueue: string;
  dbPath: string;
  startWorker(options?: {
    overrides?: DefinitionOverrides;
    faults?: ActivityDeps['faults'];
    catalogDir?: string;
    env?: Record<string, string | undefined>;
    /** Reasoning providers instead of those built from `env` (scripted or adversarial test providers). */
    providers?: ReasoningProvider[];
    /** Provider names inside the deployment boundary (with `providers`). */
    boundary?: ReadonlySet<string>;
  }): Promise<RunningWorker>;
  /** Reads rows from the sample database (a separate connection, as an auditor would). */
  query<T = Record<string, unknown>>(sql: string, ...params: unknown[]): T[];
  close(): Promise<void>;
}

export async function createTestContext(name: string): Promise<TestContext> {
  const address = process.env.MANDATE_TEST_TEMPORAL_ADDRESS;
  const bundlePath = process.env.MANDATE_TEST_WORKFLOW_BUNDLE;
  if (!address || !bundlePath)
    throw new Error('integration tests need the harness (jest globalSetup) to start Temporal');
  installTestRuntime();
  const dbPath = join(mkdtempSync(join(tmpdir(), `mandate-${name}-`)), 'enterprise.db');
  seedEnterpriseDb(dbPath);
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const taskQueue = `${name}-${randomUUID().slice(0, 8)}`;
  const nativeConnection = await NativeConnection.connect({ address });
  const workers = new Set<RunningWorker>();

  return {
    address,
    client,
    taskQueue,
    dbPath,
    async startWorker(options = {}) {
      const deps = buildMissionDeps({
        enterpriseDb: dbPath,
        overrides: options.overrides,
        faults: options.faults,
        catalogDir: options.catalogDir,
        // Provider settings come only from what a test passes, never from the developer's environment.
        env: options.env ?? {},
        providers: options.providers,
        boundary: options.boundary,
      });
      const worker = await createMissionWorker({
        connection: nativeConnection,
        taskQueue,
        deps,
        workflowBundle: { codePath: bundlePath },
      });
      const running = worker.run();
      const handle: RunningWorker = {
        worker,
        async stop() {
          if (worker.getState() === 'RUNNING') worker.shutdown();
          await running;
          deps.close();
          workers.delete(handle);
        },
      };
      workers.add(handle);
      return handle;
    },
    query<T>(sql: string, ...params: unknown[]): T[] {
      const db = new Database(dbPath, { readonly: true });
      try {
        return db.prepare(sql).all(...params) as T[];
      } finally {
        db.close();
      }
    },
    async close() {
      for (const w of [...workers]) await w.stop();
      await nativeConnection.close();
      await connection.close();
    },
  };
}
