import type { Command } from 'commander';
import { Catalog } from '../catalog/catalog';
import type { ClientConnection } from '../client/connect';
import { connectClient } from '../client/connect';
import { missionDataConverter } from '../client/data-converter';
import type { LoadedKeyRing, MandateConfig } from '../config';
import { loadConfig, loadKeyRing } from '../config';
import { operatorKeyPem } from '../config/trusted-signers';
import { createAttestationSigner } from '../core/signer';
import type { CommandContext } from './commands';

/**
 * What every command shares: the configuration (read once per process, on first use, so `--help`
 * works whatever the environment holds) and one Temporal connection per invocation, closed by main.
 */
export interface GlobalOptions {
  json?: boolean;
  address?: string;
  namespace?: string;
  taskQueue?: string;
}

let config: MandateConfig | undefined;
let connection: ClientConnection | undefined;
let keys: { loaded?: LoadedKeyRing } | undefined;

export function cliConfig(): MandateConfig {
  config ??= loadConfig();
  return config;
}

/**
 * The configured payload key ring, loaded on first use (undefined when encryption is off). A missing
 * key is an error here: the CLI could neither encrypt what it sends nor read what workers answer.
 */
export function cliKeyRing(): LoadedKeyRing | undefined {
  keys ??= { loaded: loadKeyRing(cliConfig().encryption) };
  return keys.loaded;
}

/** A Temporal client for the command, honouring --address, --namespace and --task-queue. */
export async function temporalContext(cmd: Command): Promise<CommandContext> {
  const opts = cmd.optsWithGlobals<GlobalOptions>();
  const { temporal, catalogDir } = cliConfig();
  connection = await connectClient({
    address: opts.address ?? temporal.address,
    namespace: opts.namespace ?? temporal.namespace,
    hint: 'is `npm start` running? Set MANDATE_TEMPORAL_ADDRESS or --address',
    dataConverter: missionDataConverter(cliKeyRing()?.ring),
  });
  const config = cliConfig();
  const operatorKey = operatorKeyPem(config.operatorKey, config.dataDir);
  return {
    client: connection.client,
    catalog: Catalog.load(catalogDir),
    taskQueue: opts.taskQueue ?? temporal.taskQueue,
    json: Boolean(opts.json),
    ...(operatorKey ? { operator: createAttestationSigner(operatorKey) } : {}),
  };
}

export async function closeTemporal(): Promise<void> {
  await connection?.close();
  connection = undefined;
}
