import { dirname, join } from 'node:path';
import type { ActivityDeps, GrantKeys } from '../activities/mission';
import { fileNotifier, webhookNotifier } from '../activities/notify';
import type { DefinitionOverrides } from '../catalog/catalog';
import { Catalog } from '../catalog/catalog';
import type { ProviderConfig } from '../config';
import type { TrustedSigner } from '../contract/mission';
import { parseProviderConfig } from '../config';
import { randomBytes } from 'node:crypto';
import { ensureSecretFile } from '../config/key-files';
import { checkDecisionInputs } from '../activities/decision-pipeline';
import { createEnterpriseDb } from '../connectors/enterprise-db';
import { openSqliteLedger } from '../policy/ledger';
import { generateEd25519KeyPair } from '../core/ed25519';
import { GRANT_MAX_LIFETIME_MS } from '../core/grant';
import { DecisionService } from '../policy/decision-service';
import type { ReasoningProvider } from '../reasoning/provider';
import { buildProviderRegistry, priceTable } from '../reasoning/providers';
import { ProviderRegistry } from '../reasoning/registry';

/** The one builder of a worker's dependencies: catalog, policy, grant keys, notices, connectors, providers. */
export interface WorkerDepsOptions {
  enterpriseDb: string;
  /** The keys this deployment trusts to sign votes, starts and controls (none: nothing can be started). */
  trustedSigners: TrustedSigner[];
  catalogDir?: string;
  overrides?: DefinitionOverrides;
  faults?: ActivityDeps['faults'];
  /** Grant signing keys; default: a key pair kept in `grantKeyFile` (created on first use). */
  grantKeys?: GrantKeys;
  /** Where a generated grant key pair is kept (0600). Default: next to the enterprise database. */
  grantKeyFile?: string;
  /** The secret for keyed pseudonyms (32+ bytes, base64, 0600). Default: `keys/pseudonym-hmac.key` next to the database. */
  pseudonymKeyFile?: string;
  /** Provider settings (default: none configured, so only the offline provider can answer). */
  providerConfig?: ProviderConfig;
  /** Reasoning providers instead of those built from `providerConfig` (scripted test providers). */
  providers?: ReasoningProvider[];
  /** Provider names inside the deployment boundary (default: the configuration's). */
  boundary?: ReadonlySet<string>;
  /** Approval notices: a webhook URL, or a JSON-lines file (default: next to the enterprise database). */
  notify?: { webhookUrl?: string; file?: string };
}

export type WorkerDeps = ActivityDeps & { close(): void };

export function buildWorkerDeps(options: WorkerDepsOptions): WorkerDeps {
  const providerConfig = options.providerConfig ?? parseProviderConfig({});
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
  const connectors = { [enterprise.name]: enterprise };
  // The action ledger lives next to the enterprise database (embedded SQLite), opened only when needed.
  const needsLedger = catalog.types().some((type) => catalog.get(type).definition.history);
  const ledger = needsLedger ? openSqliteLedger(join(dir, 'action-ledger.db')) : undefined;
  const closeAll = () => {
    enterprise.close();
    ledger?.close();
  };
  try {
    // A definition whose subject, policy facts or aggregates nothing provides stops the worker here.
    checkDecisionInputs(catalog, { decisions, connectors, ...(ledger ? { ledger } : {}) });
  } catch (err) {
    closeAll();
    throw err;
  }
  return {
    catalog,
    decisions,
    grants,
    notifier,
    connectors,
    reasoning: {
      registry: options.providers ? new ProviderRegistry(options.providers) : buildProviderRegistry(providerConfig),
      boundary: options.boundary ?? providerConfig.boundaryInside,
      prices: priceTable(providerConfig),
      validationRetries: 2,
      pseudonymKey: loadOrCreatePseudonymKey(options.pseudonymKeyFile ?? join(dir, 'keys', 'pseudonym-hmac.key')),
      phoneRegions: providerConfig.phoneRegions,
    },
    trustedSigners: options.trustedSigners,
    faults: options.faults,
    ...(ledger ? { ledger } : {}),
    close: closeAll,
  };
}

/** Reads the worker's grant key pair, or creates one (readable by this user only). */
export function loadOrCreateGrantKeys(path: string, lifetimeMs = GRANT_MAX_LIFETIME_MS): GrantKeys {
  const { text } = ensureSecretFile(path, () => ({ secret: JSON.stringify(generateEd25519KeyPair()) }));
  const stored = JSON.parse(text) as { privateKeyPem: string; publicKeyPem: string; keyId: string };
  return {
    signer: { privateKeyPem: stored.privateKeyPem, keyId: stored.keyId },
    publicKeys: { [stored.keyId]: stored.publicKeyPem },
    lifetimeMs,
  };
}

/**
 * Reads the worker's pseudonym key, or creates one (readable by this user only). Every worker of a
 * deployment must hold the same key for a mission's pseudonyms to stay the same across workers.
 */
export function loadOrCreatePseudonymKey(path: string): Uint8Array {
  const { text } = ensureSecretFile(path, () => ({ secret: `${randomBytes(32).toString('base64')}\n` }));
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length < 32) throw new Error(`${path}: a pseudonym key must hold at least 32 bytes (base64)`);
  return key;
}
