import { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { NativeConnection } from '@temporalio/worker';
import { EncryptionCodec, KeyRing } from '../../core/payload-encryption';
import type { AttestationSigner } from '../../core/signer';
import { parseAuditConfig } from '../../config';
import { auditDepsFrom } from '../../workers/audit-deps';
import { buildWorkerDeps } from '../../workers/deps';
import { startMissionWorker } from '../../workers/worker';
import { startBaselineWorker } from './baseline-worker';

/**
 * What payload encryption costs: the codec alone (payloads per second, encrypt and decrypt, at sizes
 * a mission's payloads have), and governed missions per second with and without it on one server.
 */
export interface CodecThroughput {
  bytes: number;
  encryptPerSecond: number;
  decryptPerSecond: number;
  mbPerSecond: number;
}

export async function benchCodec(payloadsPerSize: number): Promise<CodecThroughput[]> {
  const codec = new EncryptionCodec(new KeyRing([['bench', KeyRing.generateKey()]], 'bench'));
  const out: CodecThroughput[] = [];
  for (const bytes of [256, 4096, 65_536]) {
    const payload = defaultPayloadConverter.toPayload({ text: 'x'.repeat(bytes - 11) });
    const batch = Array.from({ length: payloadsPerSize }, () => payload);
    let started = performance.now();
    const sealed = await codec.encode(batch);
    const encryptSeconds = (performance.now() - started) / 1000;
    started = performance.now();
    await codec.decode(sealed);
    const decryptSeconds = (performance.now() - started) / 1000;
    out.push({
      bytes,
      encryptPerSecond: Math.round(payloadsPerSize / encryptSeconds),
      decryptPerSecond: Math.round(payloadsPerSize / decryptSeconds),
      mbPerSecond: Math.round((payloadsPerSize * bytes) / 1e6 / (encryptSeconds + decryptSeconds)),
    });
  }
  return out;
}

/**
 * A plaintext lane next to the stack's encrypted one: a client, a mission worker and a baseline worker
 * without the codec, on task queues of their own, so the governance benchmark runs both ways.
 */
export async function startPlaintextLane(stack: {
  client: Client;
  approvals: AttestationSigner;
  nativeConnection: NativeConnection;
  taskQueue: string;
  dbPath: string;
  workDir: string;
}) {
  const taskQueue = `${stack.taskQueue}-plaintext`;
  const worker = await startMissionWorker({
    connection: stack.nativeConnection,
    taskQueue,
    deps: buildWorkerDeps({
      enterpriseDb: stack.dbPath,
      trustedSigners: [stack.approvals.trusted(['approval', 'start', 'control'], false, 'approvals-service')],
    }),
    audit: auditDepsFrom(parseAuditConfig({}, { dataDir: stack.workDir, namespace: 'default' })),
  });
  const baseline = await startBaselineWorker(stack.nativeConnection, `${taskQueue}-baseline`);
  return {
    client: new Client({ connection: stack.client.connection }),
    queues: { missions: taskQueue, baseline: baseline.taskQueue },
    async stop() {
      await baseline.stop();
      await worker.stop();
    },
  };
}
