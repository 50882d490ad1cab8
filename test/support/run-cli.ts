import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { childEnv } from '../harness/settings';

/** What one run of the `mandate` binary did. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

const BIN = join(__dirname, '..', '..', 'bin', 'mandate.js');

/**
 * Runs the real `mandate` binary as a user would, with the given environment added to this
 * process's, bounded in time.
 */
export function runCli(env: Record<string, string>, args: string[], timeoutMs = 60_000): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: childEnv(env), timeout: timeoutMs }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
