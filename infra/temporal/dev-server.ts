import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Connection } from '@temporalio/client';
import { searchAttributeCliArgs } from '../../contract/search-attributes';
import { freePort } from '../provision';
import { provisionTemporalCli } from './provision-cli';

/**
 * Starts `temporal server start-dev` as a child process with the project's search attributes and
 * waits until its frontend answers (the SDK's own start polls for only a few seconds, which a busy
 * two-core machine can exceed).
 */
export interface DevServerOptions {
  /** SQLite file; state survives restarts. Omit for an in-memory server. */
  dbFile?: string;
  port?: number;
  /** Serve the Temporal Web UI on this port; omit to run headless. */
  uiPort?: number;
  /** The codec server the Web UI decodes payloads through (`--ui-codec-endpoint`). */
  uiCodecEndpoint?: string;
  namespace?: string;
  readyTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface DevServer {
  address: string;
  uiAddress?: string;
  namespace: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export { freePort };

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const cli = await provisionTemporalCli({ log: options.log });
  const port = options.port ?? (await freePort());
  const namespace = options.namespace ?? 'default';
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--namespace',
    namespace,
    '--log-level',
    'error',
  ];
  if (options.dbFile) {
    mkdirSync(dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }
  if (options.uiPort) args.push('--ui-port', String(options.uiPort));
  else args.push('--headless');
  if (options.uiPort && options.uiCodecEndpoint) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
  for (const attribute of searchAttributeCliArgs()) args.push('--search-attribute', attribute);

  const child = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // Never leave an orphaned server behind if this process dies without stopping it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 90_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`temporal dev server exited with code ${child.exitCode}:\n${output}`);
    if (await answers(address, namespace)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`temporal dev server did not answer on ${address} in time:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }

  return {
    address,
    uiAddress: options.uiPort ? `http://127.0.0.1:${options.uiPort}` : undefined,
    namespace,
    process: child,
    async stop() {
      process.off('exit', killOnExit);
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function answers(address: string, namespace: string): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 1000 });
    await connection.workflowService.describeNamespace({ namespace });
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}
