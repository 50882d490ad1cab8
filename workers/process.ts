import { NativeConnection } from '@temporalio/worker';
import { missionDataConverter } from '../client/data-converter';
import type { MandateConfig } from '../config';
import { resolveTrustedSigners } from '../config/trusted-signers';
import { loadKeyRing } from '../config';
import { seedEnterpriseDb } from '../connectors/enterprise-db-seed';
import { auditDepsFrom } from './audit-deps';
import { buildWorkerDeps } from './deps';
import type { RunningWorker } from './worker';
import { startMissionWorker } from './worker';

/**
 * A worker process as configured: the sample systems seeded, dependencies built from the
 * configuration, one connection, one worker. `workers/main.ts` and `npm start` both run this.
 */
export interface ConfiguredWorker extends RunningWorker {
  connection: NativeConnection;
  /** The current payload key and where the ring came from; undefined when encryption is off. */
  encryption?: { currentKeyId: string; source: string };
}

export async function startConfiguredWorker(
  config: MandateConfig,
  options: { address?: string; log?: (line: string) => void } = {},
): Promise<ConfiguredWorker> {
  // Before anything else: encryption configured without a usable key refuses to start (EncryptionKeyMissing).
  const keys = loadKeyRing(config.encryption);
  seedEnterpriseDb(config.enterpriseDb);
  const trustedSigners = resolveTrustedSigners(config.trustedSigners, config.dataDir);
  if (trustedSigners.length === 0) {
    options.log?.(
      'warning: no trusted signers (MANDATE_TRUSTED_SIGNERS): every mission start will be refused, no vote or control can count',
    );
  }
  const deps = buildWorkerDeps({
    enterpriseDb: config.enterpriseDb,
    trustedSigners,
    catalogDir: config.catalogDir,
    grantKeyFile: config.grantKeyFile,
    pseudonymKeyFile: config.pseudonymKeyFile,
    providerConfig: config.providers,
    notify: { webhookUrl: config.notifyWebhook, file: `${config.dataDir}/approval-notices.jsonl` },
  });
  let connection: NativeConnection;
  try {
    connection = await NativeConnection.connect({ address: options.address ?? config.temporal.address });
  } catch (err) {
    deps.close();
    throw err;
  }
  const running = await startMissionWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    deps,
    audit: auditDepsFrom(config.audit, options.log),
    dataConverter: missionDataConverter(keys?.ring),
  });
  return {
    ...running,
    connection,
    ...(keys ? { encryption: { currentKeyId: keys.ring.currentKeyId, source: keys.source } } : {}),
    async stop() {
      await running.stop();
      await connection.close();
    },
  };
}
