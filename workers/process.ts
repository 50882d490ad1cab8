import { NativeConnection } from '@temporalio/worker';
import type { MandateConfig } from '../config';
import { resolveTrustedSigners } from '../config/trusted-signers';
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
}

export async function startConfiguredWorker(
  config: MandateConfig,
  options: { address?: string; log?: (line: string) => void } = {},
): Promise<ConfiguredWorker> {
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
  });
  return {
    ...running,
    connection,
    async stop() {
      await running.stop();
      await connection.close();
    },
  };
}
