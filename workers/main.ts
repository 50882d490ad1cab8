import { loadConfigOrExit } from '../config';
import { createLogger, installTemporalLogging } from './logging';
import { startConfiguredWorker } from './process';

/** Worker process: `tsx workers/main.ts`. Ctrl-C (SIGINT) or SIGTERM drains and stops it. */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger(config.logLevel, 'mandate-worker');
  installTemporalLogging(logger);
  const worker = await startConfiguredWorker(config, { log: (line) => logger.warn(line) });
  logger.info(
    {
      taskQueue: config.temporal.taskQueue,
      address: config.temporal.address,
      encryption: worker.encryption ?? 'off (MANDATE_ENCRYPTION=off)',
    },
    'mission worker running',
  );
  await worker.done;
  await worker.stop();
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
