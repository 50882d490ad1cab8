/**
 * The test run's own settings, the one place under test/ that reads the process environment (the
 * product's settings are read by config/ only). The harness passes the dev server's address and the
 * workflow bundle from jest's globalSetup to the suites this way.
 */
const env = process.env;

type LogLevel = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export const testSettings = {
  /** SDK log level for tests (MANDATE_TEST_LOG=WARN|INFO|DEBUG; errors only by default). */
  logLevel: ((env.MANDATE_TEST_LOG as LogLevel | undefined) ?? 'ERROR') as LogLevel,
  /** Property runs of the adversarial suite, and a seed to replay one. */
  adversaryRuns: Number(env.MANDATE_ADVERSARY_RUNS ?? 10),
  adversarySeed: env.MANDATE_ADVERSARY_SEED ? Number(env.MANDATE_ADVERSARY_SEED) : undefined,
  /** Refresh the README's screenshots (MANDATE_UPDATE_SCREENSHOTS=1). */
  updateScreenshots: Boolean(env.MANDATE_UPDATE_SCREENSHOTS),
  chromium: env.MANDATE_CHROMIUM ?? '/usr/bin/chromium',
};

/**
 * What globalSetup hands the suites: the dev server's address, the prebuilt workflow bundle and the
 * run's payload key ring file (tests encrypt, as `npm start` does).
 */
export function harness(): { address: string; bundlePath: string; keysFile: string } {
  const address = env.MANDATE_TEST_TEMPORAL_ADDRESS;
  const bundlePath = env.MANDATE_TEST_WORKFLOW_BUNDLE;
  const keysFile = env.MANDATE_TEST_KEYS_FILE;
  if (!address || !bundlePath || !keysFile)
    throw new Error('integration tests need the harness (jest globalSetup) to start Temporal');
  return { address, bundlePath, keysFile };
}

export function publishHarness(address: string, bundlePath: string, keysFile: string): void {
  env.MANDATE_TEST_TEMPORAL_ADDRESS = address;
  env.MANDATE_TEST_WORKFLOW_BUNDLE = bundlePath;
  env.MANDATE_TEST_KEYS_FILE = keysFile;
}

/**
 * The environment a child process of a test inherits, with `extra` on top. Under the harness, the
 * run's key ring is configured, so the `mandate` binary reads and writes what the test workers do.
 */
export function childEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  const keys = env.MANDATE_TEST_KEYS_FILE ? { MANDATE_ENCRYPTION_KEYS_FILE: env.MANDATE_TEST_KEYS_FILE } : {};
  return { ...env, ...keys, ...extra };
}
