import { NativeConnection } from '@temporalio/worker';
import { seedEnterpriseDb } from '../activities/integrations/enterprise-db-seed';
import { loadConfigOrExit } from './config';
import { createLogger, installTemporalLogging } from './logging';
import { buildMissionDeps, createMissionWorker } from './worker';

/** Worker process: `tsx workers/main.ts`. Ctrl-C (SIGINT) or SIGTERM drains and stops it. */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger(config.logLevel, 'mandate-worker');
  installTemporalLogging(logger);
  seedEnterpriseDb(config.enterpriseDb);
  const deps = buildMissionDeps({
    enterpriseDb: config.enterpriseDb,
    catalogDir: config.catalogDir,
    grantKeyFile: config.grantKeyFile,
    notify: { webhookUrl: config.notifyWebhook, file: `${config.dataDir}/approval-notices.jsonl` },
  });
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  const worker = await createMissionWorker({
    connection,
    namespace: config.namespace,
    taskQueue: config.taskQueue,
    deps,
  });
  logger.info({ taskQueue: config.taskQueue, address: config.temporalAddress }, 'mission worker running');
  await worker.run();
  deps.close();
  await connection.close();
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
