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

/** What globalSetup hands the suites: the dev server's address and the prebuilt workflow bundle. */
export function harness(): { address: string; bundlePath: string } {
  const address = env.MANDATE_TEST_TEMPORAL_ADDRESS;
  const bundlePath = env.MANDATE_TEST_WORKFLOW_BUNDLE;
  if (!address || !bundlePath)
    throw new Error('integration tests need the harness (jest globalSetup) to start Temporal');
  return { address, bundlePath };
}

export function publishHarness(address: string, bundlePath: string): void {
  env.MANDATE_TEST_TEMPORAL_ADDRESS = address;
  env.MANDATE_TEST_WORKFLOW_BUNDLE = bundlePath;
}

/** The environment a child process of a test inherits, with `extra` on top. */
export function childEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  return { ...env, ...extra };
}
