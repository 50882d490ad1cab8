import { join } from 'node:path';
import type { Command } from 'commander';
import { resolveAuditKeys } from '../audit/setup';
import { Witness } from '../audit/witness';
import { createWitnessServer } from '../audit/witness-http';
import { parseLogs } from '../config';
import type { WitnessServiceConfig } from '../config';
import { ensureSecretFile, readKeySetting } from '../config/key-files';
import { generateCosignerKeyPair, parseCosignerKey } from '../core/cosignature';
import type { Globals } from './audit';
import { usage } from './audit';
import { cliConfig } from './context';
import { printJson } from './output';

/**
 * `mandate witness`: a transparency-log witness service (C2SP tlog-witness `add-checkpoint`). It has
 * its own Ed25519 key (generated once in its folder unless configured), its own state (the latest
 * checkpoint it cosigned per log) and an HTTP endpoint; it follows the logs it is told to — by
 * default, this data dir's audit log. Run it where the operator of the log cannot change it.
 */
export interface WitnessSetup {
  witness: Witness;
  logs: { origin: string; verifierKey: string }[];
  keyCreated: boolean;
}

export async function openWitness(config: WitnessServiceConfig, logs?: string[]): Promise<WitnessSetup> {
  const followed = logs?.length ? parseLogs(logs.join('\n'), '--log') : (config.logs ?? localLog());
  if (!followed.length)
    throw new Error(
      'the witness follows no log: pass --log <origin>=<log verifier key> or set MANDATE_WITNESS_LOGS (no local audit key to follow either)',
    );
  const { signerKey, keyCreated } = witnessKey(config);
  const witness = await Witness.open({
    signerKey,
    logs: followed.map((log) => ({ origin: log.origin, verifierKeys: [log.verifierKey] })),
    statePath: join(config.dir, 'state.json'),
  });
  return { witness, logs: followed, keyCreated };
}

/** The witness's own key: configured, or generated once in its folder (0600). */
export function witnessKey(config: WitnessServiceConfig): { signerKey: string; keyCreated: boolean } {
  if (config.signerKey) {
    const signerKey = readKeySetting(config.signerKey, 'MANDATE_WITNESS_SIGNER_KEY').trim();
    parseCosignerKey(signerKey);
    return { signerKey, keyCreated: false };
  }
  const made = ensureSecretFile(join(config.dir, 'witness.signer'), () => {
    const pair = generateCosignerKeyPair(config.name);
    return {
      secret: `${pair.signerKey}\n`,
      companions: { [join(config.dir, 'witness.verifier')]: `${pair.verifierKey}\n` },
    };
  });
  return { signerKey: made.text.trim(), keyCreated: made.created };
}

/** This data dir's audit log: its origin and the verifier key of its checkpoint signer. */
function localLog(): { origin: string; verifierKey: string }[] {
  const audit = cliConfig().audit;
  const keys = resolveAuditKeys(audit, false);
  return keys.verifierKeys.map((verifierKey) => ({ origin: audit.origin, verifierKey }));
}

export function registerWitnessCommand(program: Command): void {
  program
    .command('witness')
    .description('run a transparency-log witness (C2SP tlog-witness): it cosigns only consistent checkpoints')
    .option('--host <host>', 'listen address (default $MANDATE_WITNESS_HOST or 127.0.0.1)')
    .option('--port <port>', 'port, 0 for any free one (default $MANDATE_WITNESS_PORT or 7380)')
    .option('--dir <path>', 'key, state and refusals (default $MANDATE_WITNESS_DIR or <data dir>/witness)')
    .option(
      '--log <origin=vkey>',
      'a log to follow (repeatable; default $MANDATE_WITNESS_LOGS, else this data dir’s audit log)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--print-key', 'print the witness verifier key (creating the key if needed) and exit')
    .action(
      async (
        opts: { host?: string; port?: string; dir?: string; log?: string[]; printKey?: boolean },
        cmd: Command,
      ) => {
        const globals = cmd.optsWithGlobals<Globals>();
        const base = cliConfig().witness;
        const port = opts.port === undefined ? base.port : Number(opts.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535)
          throw usage(`--port must be 0-65535, got "${opts.port}"`);
        const config = {
          ...base,
          ...(opts.dir ? { dir: opts.dir } : {}),
          ...(opts.host ? { host: opts.host } : {}),
          port,
        };
        if (opts.printKey) {
          const { signerKey, keyCreated } = witnessKey(config);
          const { name, verifierKey } = parseCosignerKey(signerKey);
          if (globals.json) printJson({ name, verifierKey, keyCreated, dir: config.dir });
          else process.stdout.write(`${verifierKey}\n`);
          return;
        }
        const { witness, logs, keyCreated } = await openWitness(config, opts.log);
        const server = createWitnessServer(witness);
        const url = await server.listen({ host: config.host, port: config.port });
        const info = { url, name: witness.name, verifierKey: witness.verifierKey, keyCreated, dir: config.dir, logs };
        if (globals.json) printJson(info);
        else {
          process.stdout.write(`witness ${witness.name} listening on ${url}\n`);
          process.stdout.write(`key ${witness.verifierKey}${keyCreated ? ` (generated in ${config.dir})` : ''}\n`);
          for (const log of logs) process.stdout.write(`following ${log.origin} (${log.verifierKey.split('+')[0]})\n`);
        }
        await new Promise<void>((resolve) => {
          const stop = () => void server.close().then(() => resolve());
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      },
    );
}
