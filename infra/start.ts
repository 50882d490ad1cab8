import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { seedEnterpriseDb } from '../activities/integrations/enterprise-db-seed';
import { loadSigningKey } from '../approvals-ui/keys';
import { createApprovalsService } from '../approvals-ui/server';
import { createAttestationSigner } from '../core/attestation';
import { ConfigError, loadApprovalsConfig, loadConfigOrExit } from '../workers/config';
import { createLogger, installTemporalLogging } from '../workers/logging';
import { buildMissionDeps, createMissionWorker } from '../workers/worker';
import { startDevServer } from './temporal/dev-server';

/**
 * `npm start`: the whole local stack in one process tree — the Temporal dev server (state in
 * .mandate/temporal.db), a mission worker and the approvals service. Ctrl-C stops all of it.
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const approvalsConfig = loadApprovalsOrExit();
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, 'mandate');
  installTemporalLogging(logger);
  const say = (line: string) => console.log(line);

  const port = Number(config.temporalAddress.split(':').pop());
  say('Starting the Temporal dev server…');
  const server = await startDevServer({
    dbFile: `${config.dataDir}/temporal.db`,
    port,
    uiPort: config.temporalUiPort,
    log: say,
  });
  seedEnterpriseDb(config.enterpriseDb);

  const deps = buildMissionDeps({
    enterpriseDb: config.enterpriseDb,
    catalogDir: config.catalogDir,
    grantKeyFile: config.grantKeyFile,
    notify: { webhookUrl: config.notifyWebhook, file: `${config.dataDir}/approval-notices.jsonl` },
  });
  const native = await NativeConnection.connect({ address: server.address });
  say('Starting the mission worker (bundling workflow code)…');
  const worker = await createMissionWorker({
    connection: native,
    namespace: config.namespace,
    taskQueue: config.taskQueue,
    deps,
  });
  const running = worker.run();

  const connection = await Connection.connect({ address: server.address });
  // The embedded default: local tokens under the data dir and a signing key generated there once.
  const tokensFile = approvalsConfig.tokensFile ?? `${config.dataDir}/approvals-tokens.json`;
  const signingKey = loadSigningKey(approvalsConfig.signingKey, config.dataDir);
  const approvals = createApprovalsService({
    client: new Client({ connection, namespace: config.namespace }),
    taskQueue: config.taskQueue,
    tokensFile,
    oidc: approvalsConfig.oidc,
    oidcLogin: approvalsConfig.oidcLogin,
    signingKeyPem: signingKey.pem,
    tierRoles: approvalsConfig.tierRoles,
    secureCookies: approvalsConfig.secureCookies,
  });
  await approvals.listen({ host: '127.0.0.1', port: config.approvalsPort });

  say(`
Mandate is running.
  Temporal frontend   ${server.address}   (namespace ${config.namespace})
  Temporal Web UI     ${server.uiAddress}
  Approvals service   http://localhost:${config.approvalsPort}/   (tokens ${tokensFile}${approvalsConfig.oidc ? `, OIDC ${approvalsConfig.oidc.issuer}` : ''})
  Decision signing    key ${createAttestationSigner(signingKey.pem).keyId} (${signingKey.source})
  Mission worker      task queue ${config.taskQueue}
  Sample systems      ${config.enterpriseDb}

Try, in another terminal:
  echo '{"caseId":"CASE-1002"}' | npx mandate mission start customer-refund --input - --as alice
  npx mandate token create --subject bob --roles supervisor     # prints bob's token once
  npx mandate login --url http://localhost:${config.approvalsPort} --token <token>
  npx mandate approvals list
  npx mandate approve <missionId> a1 --reason "receipt checked"
  npx mandate mission show <missionId>

Ctrl-C stops everything.`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`\n${signal}: stopping the approvals service, the worker and the dev server…`);
    await approvals.close();
    // The Temporal runtime also reacts to SIGINT/SIGTERM and may already be draining the worker.
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running.catch(() => undefined);
    deps.close();
    await native.close();
    await connection.close();
    await server.stop();
    say('Stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

function loadApprovalsOrExit() {
  try {
    return loadApprovalsConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
}

main().catch((err) => {
  console.error(`mandate: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
