import { execFileSync } from 'node:child_process';
import { loadConfig } from '../../config';
import type { ProvisionOptions } from '../provision';
import { provisionTool } from '../provision';

/**
 * Finds or provisions versitygw, the S3-compatible server the audit store's integration tests run
 * against (its posix backend implements Object Lock — COMPLIANCE retention, legal holds, versioning —
 * and `If-None-Match: *`). Order: 1. $MANDATE_S3_SERVER, 2. `versitygw` on PATH, 3. the project
 * cache (~/.cache/mandate, or $MANDATE_CACHE_DIR), 4. a one-time `go install` into that cache.
 * There is no release-download fallback: the build needs only the Go module proxy.
 *
 * CI: `npm run s3:provision` (prints the binary's path; a cold build takes 2–4 minutes).
 */
export const VERSITYGW_VERSION = 'v1.8.0';
export const VERSITYGW_MODULE = 'github.com/versity/versitygw/cmd/versitygw';

/** Returns the path of a versitygw binary, building it with `go install` the first time. */
export function provisionS3Server(options: ProvisionOptions = {}): Promise<string> {
  const tools = options.tools ?? loadConfig().tools;
  return provisionTool(
    {
      title: 'S3 server (versitygw)',
      setting: 'MANDATE_S3_SERVER',
      configured: tools.s3Server,
      binary: 'versitygw',
      version: VERSITYGW_VERSION,
      pkg: VERSITYGW_MODULE,
      goArgs: ['-ldflags', `-X main.Version=${VERSITYGW_VERSION}`],
      buildMinutes: '2–4',
      remedies: (target) => [
        '  1. set MANDATE_S3_SERVER=/path/to/versitygw (or put `versitygw` on your PATH);',
        `  2. install Go (1.25+) with access to the Go module proxy, then run: npm run s3:provision`,
        `     (it runs: go install ${VERSITYGW_MODULE}@${VERSITYGW_VERSION});`,
        `  3. build it elsewhere and copy the binary to ${target}.`,
      ],
    },
    { ...options, tools },
  );
}

if (require.main === module) {
  provisionS3Server({ log: (line) => console.error(line) })
    .then((path) => {
      const version = execFileSync(path, ['--version'], { encoding: 'utf8' }).split('\n')[0]?.trim();
      console.error(`versitygw: ${version}`);
      console.log(path);
    })
    .catch((err: Error) => {
      console.error(err.message);
      process.exit(1);
    });
}
