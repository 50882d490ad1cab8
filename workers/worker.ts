import { Worker } from '@temporalio/worker';
import type { WorkerOptions, NativeConnection } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { ActivityDeps, GrantKeys } from '../activities';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileNotifier, webhookNotifier } from '../activities/notify';
import { DecisionService } from '../activities/policy/decision-service';
import { GRANT_MAX_LIFETIME_MS, generateGrantKeys } from '../core/grant';
import { createBenchActivities } from '../activities/bench';
import { createAuditActivities } from '../activities/audit/export';
import type { AuditDeps } from '../activities/audit/export';
import { auditDepsFromEnv } from '../activities/audit/setup';
import { createEnterpriseDb } from '../activities/integrations/enterprise-db';
import { buildProviderRegistry, providerBoundary } from '../activities/reasoning/config';
import type { ReasoningProvider } from '../activities/reasoning/provider';
import { pricesFromEnv } from '../activities/reasoning/router';
import { ProviderRegistry } from '../activities/reasoning/registry';
import { Catalog } from '../core/catalog';
import type { DefinitionOverrides } from '../core/catalog';

export const WORKFLOWS_PATH = require.resolve('../workflows');

export interface MissionDepsOptions {
  enterpriseDb: string;
  catalogDir?: string;
  overrides?: DefinitionOverrides;
  faults?: ActivityDeps['faults'];
  /** Grant signing keys; default: a key pair kept in `grantKeyFile` (created on first use). */
  grantKeys?: GrantKeys;
  /** Where a generated grant key pair is kept (0600). Default: next to the enterprise database. */
  grantKeyFile?: string;
  /** Reasoning providers (default: offline plus those configured in the environment). */
  providers?: ReasoningProvider[];
  /** Provider names inside the deployment boundary (default: MANDATE_BOUNDARY_INSIDE). */
  boundary?: ReadonlySet<string>;
  /** Environment for provider settings (default: process.env). */
  env?: Record<string, string | undefined>;
  /** Approval notices: a webhook URL, or a JSON-lines file (default: next to the enterprise database). */
  notify?: { webhookUrl?: string; file?: string };
}

/** Builds the activities' dependencies: catalog, integrations, reasoning providers. */
export function buildMissionDeps(options: MissionDepsOptions): ActivityDeps & { close(): void } {
  const env = options.env ?? process.env;
  const catalog = Catalog.load(options.catalogDir, options.overrides);
  // Loads and strictly validates every Cedar policy: a bad one stops the worker here.
  const decisions = DecisionService.load(catalog);
  const dir = dirname(options.enterpriseDb);
  const grants =
    options.grantKeys ?? loadOrCreateGrantKeys(options.grantKeyFile ?? join(dir, 'keys', 'grant-ed25519.json'));
  const notifier = options.notify?.webhookUrl
    ? webhookNotifier(options.notify.webhookUrl)
    : fileNotifier(options.notify?.file ?? join(dir, 'approval-notices.jsonl'));
  const enterprise = createEnterpriseDb(options.enterpriseDb);
  return {
    catalog,
    decisions,
    grants,
    notifier,
    integrations: { [enterprise.name]: enterprise },
    reasoning: {
      registry: options.providers ? new ProviderRegistry(options.providers) : buildProviderRegistry(env),
      boundary: options.boundary ?? providerBoundary(env),
      prices: pricesFromEnv(env),
      validationRetries: 2,
    },
    faults: options.faults,
    close: () => enterprise.close(),
  };
}

/** Reads the worker's grant key pair, or creates one (readable by this user only). */
export function loadOrCreateGrantKeys(path: string, lifetimeMs = GRANT_MAX_LIFETIME_MS): GrantKeys {
  let stored: { privateKeyPem: string; publicKeyPem: string; keyId: string };
  if (existsSync(path)) {
    stored = JSON.parse(readFileSync(path, 'utf8'));
  } else {
    stored = generateGrantKeys();
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, JSON.stringify(stored), { mode: 0o600, flag: 'wx' });
  }
  return {
    signer: { privateKeyPem: stored.privateKeyPem, keyId: stored.keyId },
    publicKeys: { [stored.keyId]: stored.publicKeyPem },
    lifetimeMs,
  };
}

export interface MissionWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** A prebuilt bundle (tests bundle once per run); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  identity?: string;
  /** Audit exporter store and keys (issue 5); default: from the MANDATE_AUDIT_* settings, built on first use. */
  audit?: AuditDeps | (() => Promise<AuditDeps>);
}

/** A worker that runs mission workflows and their activities on one task queue. */
export function createMissionWorker(options: MissionWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: {
      ...createActivities(options.deps),
      ...createBenchActivities(),
      ...createAuditActivities(options.audit ?? auditDepsFromEnv()),
    },
    ...(options.identity ? { identity: options.identity } : {}),
    // In-flight activities get this long to finish when the worker stops (Ctrl-C, deploys, tests).
    shutdownGraceTime: '10 seconds',
  });
}
