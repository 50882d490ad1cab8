import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import Database from 'better-sqlite3';
import { seedEnterpriseDb } from '../../connectors/enterprise-db-seed';
import type { ActivityDeps } from '../../activities/mission';
import type { ReasoningProvider } from '../../reasoning/provider';
import type { DefinitionOverrides } from '../../catalog/catalog';
import { startMissionWorker } from '../../workers/worker';
import type { RunningWorker } from '../../workers/worker';
import { auditDepsFrom } from '../../workers/audit-deps';
import { loadKeyRing, parseAuditConfig, parseEncryptionConfig, parseProviderConfig } from '../../config';
import { missionDataConverter } from '../../client/data-converter';
import type { KeyRing } from '../../core/payload-encryption';
import { buildWorkerDeps } from '../../workers/deps';
import { harness, testSettings } from './settings';
import type { TrustedSigner } from '../../contract/mission';
import { TEST_SIGNERS } from '../support/trust';

let runtimeInstalled = false;

/** Installs the Temporal runtime once per test file, logging errors only (MANDATE_TEST_LOG=WARN|INFO|DEBUG for more). */
export function installTestRuntime(): void {
  if (runtimeInstalled) return;
  Runtime.install({ logger: new DefaultLogger(testSettings.logLevel) });
  runtimeInstalled = true;
}

export type { RunningWorker } from '../../workers/worker';

/** The run's payload key ring (see global-setup): what test clients and workers encrypt with. */
export function testKeyRing(): KeyRing {
  const { keysFile } = harness();
  const config = parseEncryptionConfig({ MANDATE_ENCRYPTION_KEYS_FILE: keysFile }, { dataDir: '.', uiPort: 8233 });
  return loadKeyRing(config.encryption)!.ring;
}

/** Everything an integration suite needs: a client, a fresh sample database, its own task queue. */
export interface TestContext {
  address: string;
  client: Client;
  /** The run's key ring and the data converter built from it (the client's and the workers'). */
  keyRing: KeyRing;
  dataConverter: DataConverter;
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
    /** The keys the worker trusts (default: the test run's approvals and operator keys). */
    trustedSigners?: TrustedSigner[];
    /** Another data converter than the context's (a worker with another key ring). */
    dataConverter?: DataConverter;
  }): Promise<RunningWorker>;
  /** Reads rows from the sample database (a separate connection, as an auditor would). */
  query<T = Record<string, unknown>>(sql: string, ...params: unknown[]): T[];
  close(): Promise<void>;
}

export async function createTestContext(name: string): Promise<TestContext> {
  const { address, bundlePath } = harness();
  installTestRuntime();
  const dbPath = join(mkdtempSync(join(tmpdir(), `mandate-${name}-`)), 'enterprise.db');
  seedEnterpriseDb(dbPath);
  const keyRing = testKeyRing();
  const dataConverter = missionDataConverter(keyRing);
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, dataConverter });
  const taskQueue = `${name}-${randomUUID().slice(0, 8)}`;
  const nativeConnection = await NativeConnection.connect({ address });
  const workers = new Set<RunningWorker>();

  return {
    address,
    client,
    keyRing,
    dataConverter,
    taskQueue,
    dbPath,
    async startWorker(options = {}) {
      const deps = buildWorkerDeps({
        enterpriseDb: dbPath,
        trustedSigners: options.trustedSigners ?? TEST_SIGNERS,
        overrides: options.overrides,
        faults: options.faults,
        catalogDir: options.catalogDir,
        // Provider settings come only from what a test passes, never from the developer's environment.
        providerConfig: parseProviderConfig(options.env ?? {}),
        providers: options.providers,
        boundary: options.boundary,
      });
      const running = await startMissionWorker({
        connection: nativeConnection,
        taskQueue,
        deps,
        workflowBundle: { codePath: bundlePath },
        audit: auditDepsFrom(parseAuditConfig({}, { dataDir: dirname(dbPath), namespace: 'default' })),
        dataConverter: options.dataConverter ?? dataConverter,
      });
      const handle: RunningWorker = {
        ...running,
        async stop() {
          await running.stop();
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
