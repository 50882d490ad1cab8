import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { generateEd25519KeyPair } from '../core/ed25519';
import type { AttestationSigner } from '../core/signer';
import { createAttestationSigner } from '../core/signer';
import { missionDataConverter } from '../client/data-converter';
import type { AuditConfig, Env, LoadedKeyRing } from '../config';
import { loadKeyRing, parseAuditConfig, parseEncryptionConfig } from '../config';
import { seedEnterpriseDb } from '../connectors/enterprise-db-seed';
import type { SeedOptions } from '../connectors/enterprise-db-seed';
import { auditDepsFrom } from '../workers/audit-deps';
import { buildWorkerDeps } from '../workers/deps';
import type { RunningWorker } from '../workers/worker';
import { startMissionWorker } from '../workers/worker';
import { startDevServer } from './temporal/dev-server';

/**
 * A throwaway stack for scripts (demo, benchmark, fixture recording): an in-memory Temporal dev
 * server, a freshly seeded sample database in a temporary folder and one mission worker. Payloads
 * are encrypted, as under `npm start`, with a key ring generated in that folder.
 */
export interface EmbeddedStack {
  client: Client;
  /** Signs as the stack's approvals service (trusted for votes, starts and controls). */
  approvals: AttestationSigner;
  /** Signs as an operator's break-glass key (trusted, marked break-glass everywhere). */
  operator: AttestationSigner;
  /** The stack's key ring and data converter (for workers and clients the script adds). */
  keys: LoadedKeyRing;
  dataConverter: DataConverter;
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
  const keys = loadKeyRing(parseEncryptionConfig({}, { dataDir: workDir, uiPort: 8233 }).encryption, {
    generate: true,
  })!;
  const dataConverter = missionDataConverter(keys.ring);
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const taskQueue = `mandate-${options.name}`;
  const audit = parseAuditConfig(options.auditEnv ?? {}, { dataDir: workDir, namespace: 'default' });
  const worker: RunningWorker = await startMissionWorker({
    connection: nativeConnection,
    taskQueue,
    deps: buildWorkerDeps({ enterpriseDb: dbPath, trustedSigners }),
    audit: auditDepsFrom(audit, options.log),
    dataConverter,
  });
  const connection = await Connection.connect({ address: server.address });
  return {
    client: new Client({ connection, dataConverter }),
    approvals,
    operator,
    keys,
    dataConverter,
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
