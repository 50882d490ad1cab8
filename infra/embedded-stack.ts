import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import type { AuditConfig, Env } from '../config';
import { parseAuditConfig } from '../config';
import { generateEd25519KeyPair } from '../core/ed25519';
import type { AttestationSigner } from '../core/signer';
import { createAttestationSigner } from '../core/signer';
import { seedEnterpriseDb } from '../connectors/enterprise-db-seed';
import type { SeedOptions } from '../connectors/enterprise-db-seed';
import { auditDepsFrom } from '../workers/audit-deps';
import { buildWorkerDeps } from '../workers/deps';
import type { RunningWorker } from '../workers/worker';
import { startMissionWorker } from '../workers/worker';
import { startDevServer } from './temporal/dev-server';

/**
 * A throwaway stack for scripts (demo, benchmark, fixture recording): an in-memory Temporal dev
 * server, a freshly seeded sample database in a temporary folder and one mission worker.
 */
export interface EmbeddedStack {
  client: Client;
  /** Signs as the stack's approvals service (trusted for votes, starts and controls). */
  approvals: AttestationSigner;
  /** Signs as an operator's break-glass key (trusted, marked break-glass everywhere). */
  operator: AttestationSigner;
  /** The native connection workers of the script can share (e.g. the benchmark's baseline worker). */
  nativeConnection: NativeConnection;
  taskQueue: string;
  /** Temporary folder holding the sample database (and whatever else the script puts there). */
  workDir: string;
  dbPath: string;
  /** The worker's audit settings: the store under workDir where missions are exported on close. */
  audit: AuditConfig;
  stop(): Promise<void>;
}

export async function startEmbeddedStack(options: {
  name: string;
  seed?: SeedOptions;
  log?: (line: string) => void;
  /** MANDATE_AUDIT_* settings for the worker's exporter (signer key, witnesses); default: a local key. */
  auditEnv?: Env;
}): Promise<EmbeddedStack> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const workDir = mkdtempSync(join(tmpdir(), `mandate-${options.name}-`));
  const dbPath = join(workDir, 'enterprise.db');
  const server = await startDevServer({ log: options.log });
  seedEnterpriseDb(dbPath, options.seed);
  const approvals = createAttestationSigner(generateEd25519KeyPair().privateKeyPem);
  const operator = createAttestationSigner(generateEd25519KeyPair().privateKeyPem);
  const trustedSigners = [
    approvals.trusted(['approval', 'start', 'control'], false, 'approvals-service'),
    operator.trusted(['approval', 'start', 'control'], true, 'operator break-glass'),
  ];
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const taskQueue = `mandate-${options.name}`;
  const audit = parseAuditConfig(options.auditEnv ?? {}, { dataDir: workDir, namespace: 'default' });
  const worker: RunningWorker = await startMissionWorker({
    connection: nativeConnection,
    taskQueue,
    deps: buildWorkerDeps({ enterpriseDb: dbPath, trustedSigners }),
    audit: auditDepsFrom(audit, options.log),
  });
  const connection = await Connection.connect({ address: server.address });
  return {
    client: new Client({ connection }),
    approvals,
    operator,
    nativeConnection,
    taskQueue,
    workDir,
    dbPath,
    audit,
    async stop() {
      await worker.stop();
      await nativeConnection.close();
      await connection.close();
      await server.stop();
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}
