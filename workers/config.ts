import { resolve } from 'node:path';
import { z } from 'zod';
import type { OidcLoginOptions } from '../approvals-ui/oidc-login';

/**
 * The one configuration module: read from the environment at process start by workers, the
 * approvals service and the CLI. A wrong setting stops the process with a one-line explanation.
 */
const Config = z.object({
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
  MANDATE_APPROVALS_PORT: z.coerce.number().int().min(1).max(65535).default(8780),
  MANDATE_TEMPORAL_UI_PORT: z.coerce.number().int().min(1).max(65535).default(8233),
  /** Approval notices (requests, escalations) are POSTed here; default: a JSON-lines file in the data dir. */
  MANDATE_NOTIFY_WEBHOOK: z.url({ protocol: /^https?$/ }).optional(),
  /** The worker's Ed25519 grant key pair (JSON); created on first start when missing. */
  MANDATE_GRANT_KEY_FILE: z.string().min(1).optional(),
});

export interface MandateConfig {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  dataDir: string;
  enterpriseDb: string;
  catalogDir?: string;
  logLevel: z.infer<typeof Config>['MANDATE_LOG_LEVEL'];
  approvalsPort: number;
  temporalUiPort: number;
  notifyWebhook?: string;
  grantKeyFile: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): MandateConfig {
  const result = Config.safeParse(env);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError(`configuration error: ${issue.path.join('.')}: ${issue.message}`);
  }
  const c = result.data;
  const dataDir = resolve(c.MANDATE_DATA_DIR);
  return {
    temporalAddress: c.MANDATE_TEMPORAL_ADDRESS,
    namespace: c.MANDATE_NAMESPACE,
    taskQueue: c.MANDATE_TASK_QUEUE,
    dataDir,
    enterpriseDb: resolve(c.MANDATE_ENTERPRISE_DB ?? `${dataDir}/enterprise.db`),
    catalogDir: c.MANDATE_CATALOG_DIR ? resolve(c.MANDATE_CATALOG_DIR) : undefined,
    logLevel: c.MANDATE_LOG_LEVEL,
    approvalsPort: c.MANDATE_APPROVALS_PORT,
    temporalUiPort: c.MANDATE_TEMPORAL_UI_PORT,
    notifyWebhook: c.MANDATE_NOTIFY_WEBHOOK,
    grantKeyFile: resolve(c.MANDATE_GRANT_KEY_FILE ?? `${dataDir}/keys/grant-ed25519.json`),
  };
}

/** loadConfig for process entry points: prints the one-line explanation and exits on error. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): MandateConfig {
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

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v && v.trim() !== '' ? v.trim() : undefined));

/** Settings of the approvals service and the approver CLI (read separately: workers need none of them). */
const ApprovalsEnv = z.object({
  /** Local token file (JSON, hashed tokens → subject, roles); the embedded default sign-in. */
  MANDATE_APPROVALS_TOKENS_FILE: optionalText,
  /** OIDC: issuer (`iss`), audience (`aud`) and the JWKS URL the service verifies ID/access tokens with. */
  MANDATE_OIDC_ISSUER: optionalText,
  MANDATE_OIDC_AUDIENCE: optionalText,
  MANDATE_OIDC_JWKS_URL: optionalText.pipe(z.url({ protocol: /^https?$/ }).optional()),
  /** OIDC browser sign-in (code flow + PKCE): client id (the ID token audience), optional secret, endpoints. */
  MANDATE_OIDC_CLIENT_ID: optionalText,
  MANDATE_OIDC_CLIENT_SECRET: optionalText,
  MANDATE_OIDC_AUTHORIZATION_URL: optionalText.pipe(z.url({ protocol: /^https?$/ }).optional()),
  MANDATE_OIDC_TOKEN_URL: optionalText.pipe(z.url({ protocol: /^https?$/ }).optional()),
  /** The service's public base URL (the OIDC redirect goes to <it>/login/oidc/callback). */
  MANDATE_APPROVALS_PUBLIC_URL: optionalText.pipe(z.url({ protocol: /^https?$/ }).optional()),
  /** Ed25519 private key (PKCS#8 PEM, inline or a file path) the service signs forwarded decisions with. */
  MANDATE_APPROVALS_SIGNING_KEY: optionalText,
  /** Mark session cookies Secure (default on; browsers accept them on http://localhost and 127.0.0.1). */
  MANDATE_APPROVALS_SECURE_COOKIES: z.enum(['true', 'false', '1', '0']).default('true'),
  /** Fallback roles per approval tier while the workflow does not yet publish the ladder step's roles. */
  MANDATE_APPROVALS_TIER_ROLES: z
    .string()
    .default('{"supervisor":["supervisor"]}')
    .transform((text, ctx) => {
      try {
        return z.record(z.string(), z.array(z.string().min(1))).parse(JSON.parse(text));
      } catch {
        ctx.addIssue({ code: 'custom', message: 'JSON object tier → ["role", …]' });
        return z.NEVER;
      }
    }),
  /** Where the approver CLI finds the service (overrides the URL stored by `mandate login`). */
  MANDATE_APPROVALS_URL: optionalText.pipe(z.url({ protocol: /^https?$/ }).optional()),
  /** The approver CLI's token (overrides the one stored by `mandate login`). */
  MANDATE_APPROVALS_TOKEN: optionalText,
});

export interface ApprovalsConfig {
  tokensFile?: string;
  oidc?: { issuer: string; audience: string; jwksUrl: string };
  oidcLogin?: OidcLoginOptions;
  signingKey?: string;
  secureCookies: boolean;
  tierRoles: Record<string, string[]>;
  url?: string;
  token?: string;
}

export function loadApprovalsConfig(env: NodeJS.ProcessEnv = process.env): ApprovalsConfig {
  const result = ApprovalsEnv.safeParse(env);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError(`configuration error: ${issue.path.join('.')}: ${issue.message}`);
  }
  const c = result.data;
  const oidcSet = [c.MANDATE_OIDC_ISSUER, c.MANDATE_OIDC_AUDIENCE, c.MANDATE_OIDC_JWKS_URL].filter(Boolean).length;
  if (oidcSet !== 0 && oidcSet !== 3) {
    throw new ConfigError(
      'configuration error: MANDATE_OIDC_ISSUER, MANDATE_OIDC_AUDIENCE and MANDATE_OIDC_JWKS_URL must be set together',
    );
  }
  const flow = [
    c.MANDATE_OIDC_CLIENT_ID,
    c.MANDATE_OIDC_AUTHORIZATION_URL,
    c.MANDATE_OIDC_TOKEN_URL,
    c.MANDATE_APPROVALS_PUBLIC_URL,
  ];
  const flowSet = flow.filter(Boolean).length;
  if ((flowSet !== 0 && flowSet !== flow.length) || (flowSet !== 0 && oidcSet !== 3)) {
    throw new ConfigError(
      'configuration error: OIDC sign-in needs MANDATE_OIDC_CLIENT_ID, MANDATE_OIDC_AUTHORIZATION_URL, MANDATE_OIDC_TOKEN_URL and MANDATE_APPROVALS_PUBLIC_URL together, with the OIDC issuer, audience and JWKS URL',
    );
  }
  return {
    oidcLogin: flowSet
      ? {
          issuer: c.MANDATE_OIDC_ISSUER!,
          jwksUrl: c.MANDATE_OIDC_JWKS_URL!,
          clientId: c.MANDATE_OIDC_CLIENT_ID!,
          clientSecret: c.MANDATE_OIDC_CLIENT_SECRET,
          authorizationUrl: c.MANDATE_OIDC_AUTHORIZATION_URL!,
          tokenUrl: c.MANDATE_OIDC_TOKEN_URL!,
          redirectUrl: `${c.MANDATE_APPROVALS_PUBLIC_URL!.replace(/\/$/, '')}/login/oidc/callback`,
        }
      : undefined,
    tokensFile: c.MANDATE_APPROVALS_TOKENS_FILE ? resolve(c.MANDATE_APPROVALS_TOKENS_FILE) : undefined,
    oidc:
      oidcSet === 3
        ? { issuer: c.MANDATE_OIDC_ISSUER!, audience: c.MANDATE_OIDC_AUDIENCE!, jwksUrl: c.MANDATE_OIDC_JWKS_URL! }
        : undefined,
    signingKey: c.MANDATE_APPROVALS_SIGNING_KEY,
    secureCookies: c.MANDATE_APPROVALS_SECURE_COOKIES === 'true' || c.MANDATE_APPROVALS_SECURE_COOKIES === '1',
    tierRoles: c.MANDATE_APPROVALS_TIER_ROLES,
    url: c.MANDATE_APPROVALS_URL,
    token: c.MANDATE_APPROVALS_TOKEN,
  };
}

// ---- Audit export and verification (issue 5) ----------------------------------------------------

const auditText = z
  .string()
  .optional()
  .transform((v) => (v && v.trim() !== '' ? v.trim() : undefined));

/** Settings of the audit exporter, verifier and `mandate audit` (read separately, like the approvals ones). */
const AuditEnv = z.object({
  MANDATE_DATA_DIR: z.string().min(1).default('.mandate'),
  MANDATE_NAMESPACE: z.string().min(1).default('default'),
  MANDATE_AUDIT_STORE: z.enum(['fs', 's3']).default('fs'),
  /** Filesystem store root (default <data dir>/audit). */
  MANDATE_AUDIT_DIR: auditText,
  /** Checkpoint origin line (default mandate/audit/<namespace>). */
  MANDATE_AUDIT_ORIGIN: auditText,
  /** C2SP signer key (`PRIVATE+KEY+…`), inline or a file path. Without one, a local pair is generated. */
  MANDATE_AUDIT_SIGNER_KEY: auditText,
  /** C2SP verifier key, inline or a file path (default: derived from the signer key). */
  MANDATE_AUDIT_VERIFIER_KEY: auditText,
  /** Approvals service Ed25519 public key (SPKI PEM, inline or a file path) for attestation checks. */
  MANDATE_AUDIT_APPROVALS_PUBLIC_KEY: auditText,
  MANDATE_AUDIT_S3_ENDPOINT: auditText,
  MANDATE_AUDIT_S3_REGION: z.string().min(1).default('us-east-1'),
  MANDATE_AUDIT_S3_BUCKET: auditText,
  MANDATE_AUDIT_S3_ACCESS_KEY_ID: auditText,
  MANDATE_AUDIT_S3_SECRET_ACCESS_KEY: auditText,
  MANDATE_AUDIT_S3_FORCE_PATH_STYLE: z.enum(['true', 'false', '1', '0']).default('false'),
  MANDATE_AUDIT_S3_RETENTION_DAYS: z.coerce.number().int().positive().max(36_500).default(365),
  MANDATE_AUDIT_S3_LEGAL_HOLD: z.enum(['true', 'false', '1', '0']).default('false'),
});

export interface AuditConfig {
  store: 'fs' | 's3';
  dataDir: string;
  /** Filesystem store root. */
  dir: string;
  origin: string;
  signerKey?: string;
  verifierKey?: string;
  approvalsPublicKey?: string;
  s3?: {
    endpoint?: string;
    region: string;
    bucket: string;
    accessKeyId: string;
    secretAccessKey: string;
    forcePathStyle: boolean;
    retentionDays: number;
    legalHold: boolean;
  };
}

export function loadAuditConfig(env: NodeJS.ProcessEnv = process.env): AuditConfig {
  const result = AuditEnv.safeParse(env);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError(`configuration error: ${issue.path.join('.')}: ${issue.message}`);
  }
  const c = result.data;
  const dataDir = resolve(c.MANDATE_DATA_DIR);
  const yes = (v: string) => v === 'true' || v === '1';
  let s3: AuditConfig['s3'];
  if (c.MANDATE_AUDIT_STORE === 's3') {
    const missing = (['BUCKET', 'ACCESS_KEY_ID', 'SECRET_ACCESS_KEY'] as const).filter(
      (k) => !c[`MANDATE_AUDIT_S3_${k}`],
    );
    if (missing.length) {
      throw new ConfigError(
        `configuration error: MANDATE_AUDIT_STORE=s3 needs ${missing.map((k) => `MANDATE_AUDIT_S3_${k}`).join(', ')}`,
      );
    }
    s3 = {
      endpoint: c.MANDATE_AUDIT_S3_ENDPOINT,
      region: c.MANDATE_AUDIT_S3_REGION,
      bucket: c.MANDATE_AUDIT_S3_BUCKET!,
      accessKeyId: c.MANDATE_AUDIT_S3_ACCESS_KEY_ID!,
      secretAccessKey: c.MANDATE_AUDIT_S3_SECRET_ACCESS_KEY!,
      forcePathStyle: yes(c.MANDATE_AUDIT_S3_FORCE_PATH_STYLE),
      retentionDays: c.MANDATE_AUDIT_S3_RETENTION_DAYS,
      legalHold: yes(c.MANDATE_AUDIT_S3_LEGAL_HOLD),
    };
  }
  return {
    store: c.MANDATE_AUDIT_STORE,
    dataDir,
    dir: resolve(c.MANDATE_AUDIT_DIR ?? `${dataDir}/audit`),
    origin: c.MANDATE_AUDIT_ORIGIN ?? `mandate/audit/${c.MANDATE_NAMESPACE}`,
    signerKey: c.MANDATE_AUDIT_SIGNER_KEY,
    verifierKey: c.MANDATE_AUDIT_VERIFIER_KEY,
    approvalsPublicKey: c.MANDATE_AUDIT_APPROVALS_PUBLIC_KEY,
    ...(s3 ? { s3 } : {}),
  };
}
