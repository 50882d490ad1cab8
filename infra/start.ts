import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApprovalsService } from '../approvals-ui/server';
import { openAuditStore, resolveAuditKeys, trustedKeys } from '../audit/setup';
import { loadSigningKey } from '../approvals-ui/keys';
import { openStore } from '../approvals-ui/store';
import { codecServerFromConfig } from '../cli/codec';
import { connectClient } from '../client/connect';
import { missionDataConverter } from '../client/data-converter';
import { ConfigError, loadConfigOrExit, loadKeyRing } from '../config';
import { Catalog } from '../catalog/catalog';
import { ensureLocalOperatorKey, resolveTrustedSigners } from '../config/trusted-signers';
import { createAttestationSigner } from '../core/signer';
import { createLogger, installTemporalLogging } from '../workers/logging';
import { startConfiguredWorker } from '../workers/process';
import { startDevServer } from './temporal/dev-server';
import { provisionTemporalCli } from './temporal/provision-cli';

/**
 * `npm start`: the whole local stack in one process tree — the Temporal dev server (state in
 * .mandate/temporal.db, payloads encrypted), a mission worker, the approvals service and the codec
 * server the Web UI decodes through. Ctrl-C stops all of it.
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const { temporal, approvals: approvalsConfig } = config;
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, 'mandate');
  installTemporalLogging(logger);
  const say = (line: string) => console.log(line);

  // The embedded default: a key ring generated once in the data dir (0600). A named file is never generated.
  const keys = loadKeyRing(config.encryption, { generate: true });
  const codecUrl = `http://127.0.0.1:${config.codecServer.port}`;
  const port = Number(temporal.address.split(':').pop());
  say('Starting the Temporal dev server…');
  const server = await startDevServer({
    dbFile: `${config.dataDir}/temporal.db`,
    port,
    uiPort: temporal.uiPort,
    ...(keys ? { uiCodecEndpoint: codecUrl } : {}),
    log: say,
  });
  // The embedded default: local tokens under the data dir, the approvals service's signing key and an
  // operators' break-glass key generated there once; without MANDATE_TRUSTED_SIGNERS the worker
  // trusts exactly these two (see README, Trust model).
  const tokensFile = approvalsConfig.tokensFile ?? `${config.dataDir}/approvals-tokens.json`;
  const signingKey = loadSigningKey(approvalsConfig.signingKey, config.dataDir);
  const operatorKey = config.operatorKey ? undefined : ensureLocalOperatorKey(config.dataDir);
  const trusted = resolveTrustedSigners(config.trustedSigners, config.dataDir);

  say('Starting the mission worker (bundling workflow code)…');
  const worker = await startConfiguredWorker(config, { address: server.address, log: say });

  const store = await openStore(approvalsConfig.store!);
  const temporalClient = await connectClient({
    address: server.address,
    namespace: temporal.namespace,
    dataConverter: missionDataConverter(keys?.ring),
  });
  const approvals = createApprovalsService({
    client: temporalClient.client,
    taskQueue: temporal.taskQueue,
    catalog: Catalog.load(config.catalogDir),
    tokensFile,
    oidc: approvalsConfig.oidc,
    store,
    allowedHosts: approvalsConfig.allowedHosts,
    trustProxy: approvalsConfig.trustProxy,
    signingKeyPem: signingKey.pem,
    secureCookies: approvalsConfig.secureCookies,
    // The Audit page (auditor role) reads the audit store and checks it with this host's keys.
    audit: {
      store: await openAuditStore(config.audit, false),
      origin: config.audit.origin,
      keys: {
        ...trustedKeys(config.audit, { grantKeyFile: config.grantKeyFile }),
        checkpoint: resolveAuditKeys(config.audit).verifierKeys,
      },
      chromium: config.tools.chromium,
      // Bundles hold ciphertext: the page reads their reports with this host's key ring.
      ...(keys ? { keyRing: keys.ring } : {}),
    },
  });
  await approvals.listen({ host: '127.0.0.1', port: config.approvalsPort });

  // Who decoded what, one JSON line per request: the codec server is where plaintext leaves the ring.
  const accessLog = join(config.dataDir, 'codec-access.jsonl');
  const codec = keys
    ? codecServerFromConfig(config, keys.ring, store, {
        webUiUrl: server.uiAddress,
        onAccess: (entry) => appendFileSync(accessLog, `${JSON.stringify(entry)}\n`, { mode: 0o600 }),
      })
    : undefined;
  await codec?.listen({ host: '127.0.0.1', port: config.codecServer.port });
  const temporalCli = await provisionTemporalCli({ tools: config.tools });
  const encryptionLines = keys
    ? `  Payload encryption  AES-256-GCM, current key ${keys.ring.currentKeyId} (key ring ${keys.source}${keys.created ? ', generated now, 0600' : ''})
  Codec server        ${codecUrl}/   (tokens with role ${config.codecServer.roles.join(' or ')}; access log ${accessLog})`
    : '  Payload encryption  OFF (MANDATE_ENCRYPTION=off): the Temporal database holds mission data in plaintext';
  const codecTry = keys
    ? `
  npx mandate token create --subject you@example.com --roles ${config.codecServer.roles[0]}   # may read payloads
  ${temporalCli} workflow show -w <missionId> --detailed --codec-endpoint ${codecUrl} --codec-auth "Bearer <token>"`
    : '';

  say(`
Mandate is running.
  Temporal frontend   ${server.address}   (namespace ${temporal.namespace})
  Temporal Web UI     ${server.uiAddress}${keys ? `   (decodes through the codec server: sign in at ${codecUrl}/)` : ''}
  Approvals service   http://localhost:${config.approvalsPort}/   (tokens ${tokensFile}${approvalsConfig.oidc ? `, OIDC ${approvalsConfig.oidc.issuer}` : ''}; sessions ${approvalsConfig.store!.replace(/\/\/[^@/]*@/, '//…@')})
  Vote signing        key ${createAttestationSigner(signingKey.pem).keyId} (${signingKey.source})
  Trusted signers     ${trusted.map((k) => `${k.keyId}${k.breakGlass ? ' (break-glass)' : ''}`).join(', ') || 'none'}${config.trustedSigners ? ' (MANDATE_TRUSTED_SIGNERS)' : ` (local keys in ${config.dataDir})`}${
    operatorKey
      ? `
  Break-glass key     ${operatorKey.path} (for --direct; local stack only)`
      : ''
  }
${encryptionLines}
  Mission worker      task queue ${temporal.taskQueue}
  Sample systems      ${config.enterpriseDb}

Try, in another terminal:
  npx mandate token create --subject alice --roles agent-desk    # prints alice's token once
  npx mandate token create --subject bob --roles supervisor      # prints bob's token once
  npx mandate login --url http://localhost:${config.approvalsPort} --token <alice's token>
  echo '{"caseId":"CASE-1002"}' | npx mandate mission start customer-refund --input -
  npx mandate login --url http://localhost:${config.approvalsPort} --token <bob's token>
  npx mandate approvals list
  npx mandate approve <missionId> a1 --reason "receipt checked"
  npx mandate mission show <missionId>${codecTry}
  npx mandate audit status                                       # each mission is exported as it closes
  npx mandate token create --subject ada --roles auditor         # then /audit on the approvals service

Ctrl-C stops everything.`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`\n${signal}: stopping the approvals service, the codec server, the worker and the dev server…`);
    await approvals.close();
    await codec?.close();
    await store.close();
    await worker.stop();
    await temporalClient.close();
    await server.stop();
    say('Stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err) => {
  console.error(`mandate: ${err instanceof Error ? err.message : err}`);
  process.exit(err instanceof ConfigError ? 2 : 1);
});
