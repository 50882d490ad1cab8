import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { cacheDir, goInstall, isExecutable, onPath } from '../provision';

/**
 * Finds or provisions versitygw, the S3-compatible server the audit store's integration tests run
 * against (its posix backend implements Object Lock — COMPLIANCE retention, legal holds, versioning —
 * and `If-None-Match: *`). Order: 1. $MANDATE_S3_SERVER, 2. `versitygw` on PATH, 3. the project
 * cache (~/.cache/mandate, or $MANDATE_CACHE_DIR), 4. a one-time `go install` into that cache.
 * There is no release-download fallback: the build needs only the Go module proxy.
 *
 * CI: `npx tsx infra/s3/provision-s3-server.ts` (prints the binary's path; a cold build takes 2–4 minutes).
 */
export const VERSITYGW_VERSION = 'v1.8.0';
export const VERSITYGW_MODULE = 'github.com/versity/versitygw/cmd/versitygw';

export interface ProvisionS3Options {
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

export class S3ServerNotFound extends Error {
  override name = 'S3ServerNotFound';
}

export function cachedS3ServerPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), `versitygw-${VERSITYGW_VERSION}`, 'versitygw');
}

/** Returns the path of a versitygw binary, building it with `go install` the first time. */
export function provisionS3Server(options: ProvisionS3Options = {}): string {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => undefined);
  if (env.MANDATE_S3_SERVER) {
    if (!isExecutable(env.MANDATE_S3_SERVER))
      throw new S3ServerNotFound(`MANDATE_S3_SERVER=${env.MANDATE_S3_SERVER} is not an executable file`);
    return env.MANDATE_S3_SERVER;
  }
  const fromPath = onPath('versitygw', env);
  if (fromPath) return fromPath;
  const cached = cachedS3ServerPath(env);
  if (isExecutable(cached)) return cached;

  const go = onPath('go', env);
  let why = 'Go is not installed';
  if (go) {
    log(`Building versitygw ${VERSITYGW_VERSION} with go install into ${cached} (one time; 2–4 minutes)…`);
    const failed = goInstall(go, {
      pkg: `${VERSITYGW_MODULE}@${VERSITYGW_VERSION}`,
      binary: 'versitygw',
      target: cached,
      extraArgs: ['-ldflags', `-X main.Version=${VERSITYGW_VERSION}`],
      env,
    });
    if (!failed) {
      log(`versitygw ready: ${cached}`);
      return cached;
    }
    why = failed;
  }
  throw new S3ServerNotFound(
    [
      `No S3 server (versitygw) found, and it could not be built: ${why}. Fix it in one of three ways:`,
      '  1. set MANDATE_S3_SERVER=/path/to/versitygw (or put `versitygw` on your PATH);',
      `  2. install Go (1.25+) with access to the Go module proxy, then run: npx tsx infra/s3/provision-s3-server.ts`,
      `     (it runs: go install ${VERSITYGW_MODULE}@${VERSITYGW_VERSION});`,
      `  3. build it elsewhere and copy the binary to ${cached}.`,
    ].join('\n'),
  );
}

if (require.main === module) {
  try {
    const path = provisionS3Server({ log: (line) => console.error(line) });
    const version = execFileSync(path, ['--version'], { encoding: 'utf8' }).split('\n')[0]?.trim();
    console.error(`versitygw: ${version}`);
    console.log(path);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
}
