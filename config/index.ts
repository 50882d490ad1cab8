import { homedir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import type { ApprovalsConfig } from './approvals';
import { parseApprovalsConfig } from './approvals';
import type { AuditConfig } from './audit';
import { parseAuditConfig } from './audit';
import type { CodecServerConfig, EncryptionConfig } from './encryption';
import { parseEncryptionConfig } from './encryption';
import type { WitnessServiceConfig } from './witness';
import { parseWitnessConfig } from './witness';
import type { ProviderConfig } from './providers';
import { parseProviderConfig } from './providers';
import type { Env } from './schema';
import { ConfigError, optionalText, parseSection, port } from './schema';

/**
 * The one configuration module: every `MANDATE_*` setting (and the provider and tool variables) is
 * parsed here, once per process, by the entry point (worker, `npm start`, the CLI, the demo), and
 * passed down. No other file reads `process.env` (a lint rule keeps it so). A wrong setting stops
 * the process with a one-line explanation.
 */
export type { ApprovalsConfig, OidcLoginOptions, OidcOptions } from './approvals';
export type { AuditConfig, S3StoreConfig, WitnessSetting } from './audit';
export type { WitnessServiceConfig } from './witness';
export { parseLogs, parseWitnessConfig } from './witness';
export type { Price, ProviderConfig, ProviderName } from './providers';
export { PROVIDER_NAMES, parseProviderConfig } from './providers';
export { defaultAllowedHosts, parseApprovalsConfig } from './approvals';
export { parseAuditConfig, parseWitnesses } from './audit';
export type { CodecServerConfig, EncryptionConfig } from './encryption';
export { parseEncryptionConfig } from './encryption';
export type { LoadedKeyRing } from './key-ring';
export { EncryptionKeyMissing, loadKeyRing, rotateKeyFile, useKey } from './key-ring';
export { ConfigError } from './schema';
export type { Env } from './schema';
export { Secret } from './secret';

const CoreEnv = z.object({
  MANDATE_TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^:\s]+:\d+$/, 'host:port')
    .default('127.0.0.1:7233'),
  MANDATE_NAMESPACE: z.string().min(1).default('default'),
  MANDATE_TASK_QUEUE: z.string().min(1).default('mandate-missions'),
  MANDATE_DATA_DIR: z.string().min(1).default('.mandate'),
  /** The sample enterprise systems' SQLite file (default: <data dir>/enterprise.db). */
  MANDATE_ENTERPRISE_DB: z.string().min(1).optional(),
  MANDATE_CATALOG_DIR: z.string().min(1).optional(),
  MANDATE_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  MANDATE_APPROVALS_PORT: port(8780),
  MANDATE_TEMPORAL_UI_PORT: port(8233),
  /** Approval notices (requests, escalations) are POSTed here; default: a JSON-lines file in the data dir. */
  MANDATE_NOTIFY_WEBHOOK: z.url({ protocol: /^https?$/ }).optional(),
  /** The worker's Ed25519 grant key pair (JSON); created on first start when missing. */
  MANDATE_GRANT_KEY_FILE: z.string().min(1).optional(),
  /** The worker's secret for keyed pseudonyms (32 random bytes, base64); created on first start when missing. */
  MANDATE_PSEUDONYM_KEY_FILE: z.string().min(1).optional(),
  /** Who the CLI acts as where an identity is stated (default: the login name). */
  MANDATE_USER: optionalText,
  /** The keys trusted to sign votes, starts and controls: a JSON file or the JSON (see config/trusted-signers.ts). */
  MANDATE_TRUSTED_SIGNERS: optionalText,
  /** The operators' break-glass signing key (PKCS#8 PEM, inline or a path) for `--direct`. */
  MANDATE_OPERATOR_KEY: optionalText,
  /** Tools: the Temporal CLI and local S3 server binaries to use, the cache for builds. */
  TEMPORAL_CLI: optionalText,
  MANDATE_S3_SERVER: optionalText,
  MANDATE_CACHE_DIR: optionalText,
  /** The Chromium that prints reports to PDF (Debian's by default). */
  MANDATE_CHROMIUM: z.string().min(1).default('/usr/bin/chromium'),
  XDG_CACHE_HOME: optionalText,
  XDG_CONFIG_HOME: optionalText,
  PATH: z.string().default(''),
});

export type LogLevel = z.infer<typeof CoreEnv>['MANDATE_LOG_LEVEL'];

/** Where the project finds and keeps its tools (see infra/provision). */
export interface ToolsConfig {
  temporalCli?: string;
  s3Server?: string;
  /** Chromium for PDF reports. */
  chromium: string;
  /** Cache for `go install` builds: `$MANDATE_CACHE_DIR`, else `$XDG_CACHE_HOME/mandate`, else `~/.cache/mandate`. */
  cacheDir: string;
  /** PATH entries searched for executables. */
  path: string;
  /** The environment child processes inherit (the Go toolchain, servers the project starts). */
  env: Env;
}

export interface MandateConfig {
  temporal: { address: string; namespace: string; taskQueue: string; uiPort: number };
  dataDir: string;
  enterpriseDb: string;
  catalogDir?: string;
  logLevel: LogLevel;
  approvalsPort: number;
  notifyWebhook?: string;
  grantKeyFile: string;
  pseudonymKeyFile: string;
  /** Who the CLI acts as where an identity is stated. */
  user: string;
  /** The approver CLI's stored login: `$XDG_CONFIG_HOME/mandate/credentials.json` (default `~/.config/…`). */
  credentialsFile: string;
  /** MANDATE_TRUSTED_SIGNERS as given (resolve with `resolveTrustedSigners`, when the keys exist). */
  trustedSigners?: string;
  /** MANDATE_OPERATOR_KEY as given (resolve with `operatorKeyPem`). */
  operatorKey?: string;
  approvals: ApprovalsConfig;
  audit: AuditConfig;
  /** Payload encryption: on unless MANDATE_ENCRYPTION=off; the key ring is loaded with `loadKeyRing`. */
  encryption: EncryptionConfig;
  codecServer: CodecServerConfig;
  witness: WitnessServiceConfig;
  providers: ProviderConfig;
  tools: ToolsConfig;
}

/** Parses every setting from `env` (the process environment by default). Throws ConfigError. */
export function loadConfig(env: Env = process.env): MandateConfig {
  const c = parseSection(CoreEnv, env);
  const dataDir = resolve(c.MANDATE_DATA_DIR);
  const namespace = c.MANDATE_NAMESPACE;
  return {
    temporal: {
      address: c.MANDATE_TEMPORAL_ADDRESS,
      namespace,
      taskQueue: c.MANDATE_TASK_QUEUE,
      uiPort: c.MANDATE_TEMPORAL_UI_PORT,
    },
    dataDir,
    enterpriseDb: resolve(c.MANDATE_ENTERPRISE_DB ?? `${dataDir}/enterprise.db`),
    catalogDir: c.MANDATE_CATALOG_DIR ? resolve(c.MANDATE_CATALOG_DIR) : undefined,
    logLevel: c.MANDATE_LOG_LEVEL,
    approvalsPort: c.MANDATE_APPROVALS_PORT,
    notifyWebhook: c.MANDATE_NOTIFY_WEBHOOK,
    grantKeyFile: resolve(c.MANDATE_GRANT_KEY_FILE ?? `${dataDir}/keys/grant-ed25519.json`),
    pseudonymKeyFile: resolve(c.MANDATE_PSEUDONYM_KEY_FILE ?? `${dataDir}/keys/pseudonym-hmac.key`),
    user: c.MANDATE_USER ?? userInfo().username,
    credentialsFile: join(c.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'mandate', 'credentials.json'),
    trustedSigners: c.MANDATE_TRUSTED_SIGNERS,
    operatorKey: c.MANDATE_OPERATOR_KEY,
    approvals: withDefaultStore(parseApprovalsConfig(env), dataDir),
    audit: parseAuditConfig(env, { dataDir, namespace }),
    ...parseEncryptionConfig(env, { dataDir, uiPort: c.MANDATE_TEMPORAL_UI_PORT }),
    witness: parseWitnessConfig(env, { dataDir }),
    providers: parseProviderConfig(env),
    tools: {
      temporalCli: c.TEMPORAL_CLI,
      s3Server: c.MANDATE_S3_SERVER,
      chromium: c.MANDATE_CHROMIUM,
      cacheDir: c.MANDATE_CACHE_DIR ?? join(c.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'mandate'),
      path: c.PATH,
      env: { ...env },
    },
  };
}

/** The approvals service keeps its sessions and counters in the data dir unless told otherwise. */
function withDefaultStore(approvals: ApprovalsConfig, dataDir: string): ApprovalsConfig {
  return { ...approvals, store: approvals.store ?? `sqlite:${join(dataDir, 'approvals.db')}` };
}

/** loadConfig for process entry points: prints the one-line explanation and exits (2) on error. */
export function loadConfigOrExit(env: Env = process.env): MandateConfig {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
}
