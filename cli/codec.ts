import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import { anyOf } from '../approvals-ui/auth';
import type { Authenticator } from '../approvals-ui/auth';
import type { CodecAccess } from '../approvals-ui/codec-server';
import { createCodecServer } from '../approvals-ui/codec-server';
import { localTokens } from '../approvals-ui/local-tokens';
import { OidcProvider, oidcBearer } from '../approvals-ui/oidc';
import type { ApprovalsStore } from '../approvals-ui/store';
import { openStore } from '../approvals-ui/store';
import type { MandateConfig } from '../config';
import { ConfigError, loadKeyRing, rotateKeyFile, useKey } from '../config';
import type { KeyRing } from '../core/payload-encryption';
import { cliConfig } from './context';
import { printJson } from './output';

/**
 * `mandate codec-server` (also part of `npm start`) and `mandate encryption status|rotate|use`: the
 * key ring's life and the codec server that decrypts for authorised people.
 */

/** The codec server as configured: the approvals service's tokens and OIDC, the configured roles and origins. */
export function codecServerFromConfig(
  config: MandateConfig,
  ring: KeyRing,
  store: ApprovalsStore,
  options: { webUiUrl?: string; onAccess?: (entry: CodecAccess) => void } = {},
): FastifyInstance {
  const authenticators: Authenticator[] = [localTokens(tokensFileOf(config))];
  if (config.approvals.oidc) authenticators.push(oidcBearer(new OidcProvider(config.approvals.oidc)));
  return createCodecServer({
    ring,
    store,
    auth: anyOf(authenticators),
    roles: config.codecServer.roles,
    origins: config.codecServer.origins,
    secureCookies: config.approvals.secureCookies,
    webUiUrl: options.webUiUrl,
    onAccess: options.onAccess,
  });
}

export function tokensFileOf(config: MandateConfig): string {
  return config.approvals.tokensFile ?? join(config.dataDir, 'approvals-tokens.json');
}

/** One line per encode/decode: who read how many payloads. */
export function accessLine(e: CodecAccess): string {
  return `${e.at} ${e.operation} ${e.payloads} payload(s) for ${e.subject} (${e.via})${e.namespace ? ` in ${e.namespace}` : ''}${e.error ? ` FAILED: ${e.error}` : ''}`;
}

/** The configured key ring; a usage-level error when encryption is off (nothing to serve or rotate). */
function requireKeyRing(config: MandateConfig): KeyRing {
  const keys = loadKeyRing(config.encryption);
  if (!keys) throw new ConfigError('payload encryption is off (MANDATE_ENCRYPTION=off): there is no key ring');
  return keys.ring;
}

export function registerCodecCommands(program: Command): void {
  program
    .command('codec-server')
    .description("serve Temporal's codec protocol (POST /encode, /decode) over the key ring, for authorised people")
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--port <port>', 'port (default $MANDATE_CODEC_PORT or 8781)')
    .action(async (opts: { host: string; port?: string }) => {
      const config = cliConfig();
      const ring = requireKeyRing(config);
      // Sessions live in the approvals service's store (MANDATE_APPROVALS_STORE), shared by every instance.
      const store = await openStore(config.approvals.store!);
      const app = codecServerFromConfig(config, ring, store, {
        onAccess: (e) => process.stdout.write(`${accessLine(e)}\n`),
      });
      app.addHook('onClose', () => store.close());
      await app.listen({ host: opts.host, port: opts.port ? Number(opts.port) : config.codecServer.port });
      const { port } = app.server.address() as AddressInfo;
      process.stdout.write(
        `codec server on http://${opts.host}:${port} (key ring ${config.encryption.keysFile}, current key ${ring.currentKeyId}; ` +
          `roles ${config.codecServer.roles.join(', ')}; browser origins ${config.codecServer.origins.join(', ')})\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = () => void app.close().then(() => resolve());
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });

  const encryption = program.command('encryption').description('the payload key ring: status, rotation');
  encryption
    .command('status')
    .description('whether payloads are encrypted, the key ring, its current key and the key ids it holds')
    .action((_opts: unknown, cmd: Command) => {
      const config = cliConfig();
      const keys = loadKeyRing(config.encryption);
      const status = keys
        ? { enabled: true, source: keys.source, currentKeyId: keys.ring.currentKeyId, keyIds: keys.ring.ids }
        : { enabled: false };
      if (cmd.optsWithGlobals<{ json?: boolean }>().json) return printJson(status);
      if (!keys) return void process.stdout.write('payload encryption is off (MANDATE_ENCRYPTION=off)\n');
      process.stdout.write(
        `payload encryption is on: AES-256-GCM, keys from ${keys.source}\n` +
          `current key ${keys.ring.currentKeyId}; key ids ${keys.ring.ids.join(', ')}\n`,
      );
    });
  encryption
    .command('rotate')
    .description('add a new key to the key ring file and make it current (the file is created if missing)')
    .option('--id <id>', 'key id (default k<yyyymmdd>-<random>)')
    .option('--stage', 'only add the key; make it current later with `mandate encryption use <id>`')
    .action((opts: { id?: string; stage?: boolean }, cmd: Command) => {
      const config = cliConfig();
      const file = config.encryption.keysFile;
      const result = rotateKeyFile(file, opts);
      if (cmd.optsWithGlobals<{ json?: boolean }>().json) return printJson({ file, ...result });
      process.stdout.write(
        `${result.createdFile ? 'created' : 'updated'} ${file}: added key ${result.id}; current key ${result.current}\n` +
          'restart workers, clients and the codec server to use it; keep the old keys: they decrypt older histories\n',
      );
    });
  encryption
    .command('use <id>')
    .description('make a key the ring already holds the current one (after `rotate --stage` reached every process)')
    .action((id: string) => {
      const file = cliConfig().encryption.keysFile;
      useKey(file, id);
      process.stdout.write(`${file}: current key ${id}\n`);
    });
}
