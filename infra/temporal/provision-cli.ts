import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cacheDir, goInstall, isExecutable, onPath } from '../provision';

export { cacheDir };

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

export function cachedCliPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), `temporal-${TEMPORAL_CLI_VERSION}`, 'temporal');
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
    const failed = goInstall(go, {
      pkg: `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`,
      binary: 'temporal',
      target: cached,
      env,
    });
    if (!failed) {
      log(`Temporal CLI ready: ${cached}`);
      return cached;
    }
    log(`${failed}; trying the release archive.`);
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
  mkdirSync(dirname(to), { recursive: true });
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
