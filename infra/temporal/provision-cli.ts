import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../config';
import type { ProvisionOptions } from '../provision';
import { install, provisionTool } from '../provision';

/**
 * Finds or provisions the official Temporal CLI, in this order: 1. $TEMPORAL_CLI, 2. `temporal` on
 * PATH, 3. the project cache (~/.cache/mandate, or $MANDATE_CACHE_DIR), 4. a one-time `go install`
 * into that cache, 5. the official release archive (machines with internet and no Go). Idempotent.
 */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';

/** Returns the path of a working Temporal CLI, building or downloading it if needed. */
export function provisionTemporalCli(options: ProvisionOptions = {}): Promise<string> {
  const tools = options.tools ?? loadConfig().tools;
  return provisionTool(
    {
      title: 'the Temporal CLI',
      setting: 'TEMPORAL_CLI',
      configured: tools.temporalCli,
      binary: 'temporal',
      version: TEMPORAL_CLI_VERSION,
      // v1.6+ has a `replace` directive that breaks `go install`.
      pkg: 'github.com/temporalio/cli/cmd/temporal',
      buildMinutes: 'several',
      fallback: downloadRelease,
      remedies: () => [
        '  1. set TEMPORAL_CLI=/path/to/temporal (or put `temporal` on your PATH);',
        `  2. install Go (1.22+) so the project can run: go install github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION};`,
        `  3. give this machine internet access so the official ${TEMPORAL_CLI_VERSION} release archive can be downloaded.`,
      ],
    },
    { ...options, tools },
  );
}

async function downloadRelease(target: string, log: (line: string) => void): Promise<string> {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const url = `https://temporal.download/cli/archive/${TEMPORAL_CLI_VERSION}?platform=${process.platform}&arch=${arch}`;
  log(`Downloading the Temporal CLI ${TEMPORAL_CLI_VERSION} release archive…`);
  const response = await fetch(url, { signal: AbortSignal.timeout(120_000) });
  if (!response.ok) throw new Error(`download failed: HTTP ${response.status}`);
  const staging = mkdtempSync(join(tmpdir(), 'mandate-temporal-'));
  try {
    const archive = join(staging, 'temporal.tar.gz');
    writeFileSync(archive, Buffer.from(await response.arrayBuffer()));
    execFileSync('tar', ['-xzf', archive, '-C', staging]);
    install(join(staging, 'temporal'), target);
    return target;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
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
