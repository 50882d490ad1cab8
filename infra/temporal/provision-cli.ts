import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * Finds or provisions the official Temporal CLI, in this order:
 *   1. $TEMPORAL_CLI, 2. `temporal` on PATH, 3. the project cache (~/.cache/mandate, or
 *   $MANDATE_CACHE_DIR), 4. a one-time `go install` into that cache, 5. the official release archive
 *   (machines with internet and no Go). Idempotent: a cached build is reused.
 */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';

export interface ProvisionOptions {
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

export class TemporalCliNotFound extends Error {
  override name = 'TemporalCliNotFound';
}

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.MANDATE_CACHE_DIR || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'mandate');
}

export function cachedCliPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), `temporal-${TEMPORAL_CLI_VERSION}`, 'temporal');
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Returns the path of a working Temporal CLI, building or downloading it if needed. */
export async function provisionTemporalCli(options: ProvisionOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => undefined);
  if (env.TEMPORAL_CLI) {
    if (!isExecutable(env.TEMPORAL_CLI))
      throw new TemporalCliNotFound(`TEMPORAL_CLI=${env.TEMPORAL_CLI} is not an executable file`);
    return env.TEMPORAL_CLI;
  }
  const fromPath = onPath('temporal', env);
  if (fromPath) return fromPath;
  const cached = cachedCliPath(env);
  if (isExecutable(cached)) return cached;

  const go = onPath('go', env);
  if (go) {
    log(
      `Building the Temporal CLI ${TEMPORAL_CLI_VERSION} with go install into ${cached} (one time; this takes several minutes)…`,
    );
    const staging = mkdtempSync(join(tmpdir(), 'mandate-temporal-'));
    const result = spawnSync(go, ['install', `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`], {
      env: { ...env, GOBIN: staging, GOFLAGS: env.GOFLAGS ?? '' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (result.status === 0 && existsSync(join(staging, 'temporal'))) {
      install(join(staging, 'temporal'), cached);
      log(`Temporal CLI ready: ${cached}`);
      return cached;
    }
    rmSync(staging, { recursive: true, force: true });
    log(`go install failed (exit ${result.status}); trying the release archive.`);
  }

  try {
    return await downloadRelease(cached, log);
  } catch (err) {
    throw new TemporalCliNotFound(
      [
        `No Temporal CLI found, and it could not be provisioned (${(err as Error).message}). Fix it in one of three ways:`,
        '  1. set TEMPORAL_CLI=/path/to/temporal (or put `temporal` on your PATH);',
        `  2. install Go (1.22+) so the project can run: go install github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION};`,
        `  3. give this machine internet access so the official ${TEMPORAL_CLI_VERSION} release archive can be downloaded.`,
      ].join('\n'),
    );
  }
}

function install(from: string, to: string): void {
  mkdirSync(join(to, '..'), { recursive: true });
  renameSync(from, to);
}

async function downloadRelease(target: string, log: (line: string) => void): Promise<string> {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const url = `https://temporal.download/cli/archive/${TEMPORAL_CLI_VERSION}?platform=${process.platform}&arch=${arch}`;
  log(`Downloading the Temporal CLI ${TEMPORAL_CLI_VERSION} release archive…`);
  const response = await fetch(url, { signal: AbortSignal.timeout(120_000) });
  if (!response.ok) throw new Error(`download failed: HTTP ${response.status}`);
  const staging = mkdtempSync(join(tmpdir(), 'mandate-temporal-'));
  const archive = join(staging, 'temporal.tar.gz');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(archive, Buffer.from(await response.arrayBuffer()));
  execFileSync('tar', ['-xzf', archive, '-C', staging]);
  install(join(staging, 'temporal'), target);
  rmSync(staging, { recursive: true, force: true });
  return target;
}

if (require.main === module) {
  provisionTemporalCli({ log: (line) => console.log(line) })
    .then((path) => {
      const version = execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
      console.log(`Temporal CLI: ${path} (${version})`);
    })
    .catch((err: Error) => {
      console.error(err.message);
      process.exit(1);
    });
}
