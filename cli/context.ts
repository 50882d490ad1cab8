import { Client, Connection } from '@temporalio/client';
import type { Command } from 'commander';
import { Catalog } from '../core/catalog';
import { loadConfig } from '../workers/config';
import type { CommandContext } from './commands';

/** The Temporal side of the CLI: one connection per invocation, closed by main when the command ends. */
export interface GlobalOptions {
  json?: boolean;
  address?: string;
  namespace?: string;
  taskQueue?: string;
}

let connection: Connection | undefined;

export async function temporalContext(cmd: Command): Promise<CommandContext> {
  const opts = cmd.optsWithGlobals<GlobalOptions>();
  const config = loadConfig();
  const address = opts.address ?? config.temporalAddress;
  try {
    connection = await Connection.connect({ address, connectTimeout: 5000 });
  } catch (err) {
    throw new Error(
      `cannot reach Temporal at ${address} (${(err as Error).message}); is \`npm start\` running? Set MANDATE_TEMPORAL_ADDRESS or --address`,
    );
  }
  return {
    client: new Client({ connection, namespace: opts.namespace ?? config.namespace }),
    catalog: Catalog.load(config.catalogDir),
    taskQueue: opts.taskQueue ?? config.taskQueue,
    json: Boolean(opts.json),
  };
}

export async function closeTemporal(): Promise<void> {
  await connection?.close().catch(() => undefined);
  connection = undefined;
}
