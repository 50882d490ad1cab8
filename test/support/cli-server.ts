import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { childEnv } from '../harness/settings';

/** A long-running `mandate` command (a server), started as a user would, with what it has printed so far. */
export interface CliServer {
  /** The first match of `ready` in its output (e.g. the address it listens on). */
  match: RegExpMatchArray;
  output(): string;
  stop(): Promise<void>;
}

const BIN = join(__dirname, '..', '..', 'bin', 'mandate.js');

/** Runs `mandate <args>` and waits until its output matches `ready` (or it exits, which fails). */
export function startCliServer(
  env: Record<string, string>,
  args: string[],
  ready: RegExp,
  timeoutMs = 60_000,
): Promise<CliServer> {
  const child = spawn(process.execPath, [BIN, ...args], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mandate ${args.join(' ')} did not print ${ready} in time:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = output.match(ready);
      if (!match) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.stdout.on('data', (more: Buffer) => (output += more.toString()));
      resolve({
        match,
        output: () => output,
        async stop() {
          if (child.exitCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`mandate ${args.join(' ')} exited with ${code}:\n${output}`));
    });
  });
}
