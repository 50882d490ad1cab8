import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { FAILURE_CONVERTER_PATH } from '../../client/data-converter';
import { rotateKeyFile } from '../../config';
import { startDevServer } from '../../infra/temporal/dev-server';
import { WORKFLOWS_PATH } from '../../workers/worker';
import { publishHarness } from './settings';

/**
 * Starts one Temporal dev server for the whole run and bundles the workflow code once (with the
 * encoding failure converter: tests encrypt, as `npm start` does). Suites find both, and the run's
 * payload key ring (generated once, like a local stack's), through environment variables (set here,
 * inherited by jest's workers).
 */
export default async function globalSetup(): Promise<void> {
  const runDir = resolve(__dirname, '..', '..', '.mandate', 'test-run');
  mkdirSync(runDir, { recursive: true });
  const keysFile = join(runDir, 'payload-keys.json');
  if (!existsSync(keysFile)) rotateKeyFile(keysFile, { id: 'test-run' });
  const started = Date.now();
  const [server, bundle] = await Promise.all([
    startDevServer({ readyTimeoutMs: 120_000, log: (line) => console.log(line) }),
    bundleWorkflowCode({
      workflowsPath: WORKFLOWS_PATH,
      failureConverterPath: FAILURE_CONVERTER_PATH,
      logger: quietLogger,
    }),
  ]);
  const bundlePath = join(runDir, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);
  publishHarness(server.address, bundlePath, keysFile);
  (globalThis as Record<string, unknown>).__MANDATE_DEV_SERVER__ = server;
  console.log(
    `\n[harness] Temporal dev server ${server.address} ready, workflows bundled (${Date.now() - started} ms)`,
  );
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};
