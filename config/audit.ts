import { resolve } from 'node:path';
import { z } from 'zod';
import type { Env } from './schema';
import { ConfigError, flag, optionalText, parseSection, yes } from './schema';

/** Settings of the audit exporter, verifier and `mandate audit`. */
const AuditEnv = z.object({
  MANDATE_AUDIT_STORE: z.enum(['fs', 's3']).default('fs'),
  /** Filesystem store root (default <data dir>/audit). */
  MANDATE_AUDIT_DIR: optionalText,
  /** Checkpoint origin line (default mandate/audit/<namespace>). */
  MANDATE_AUDIT_ORIGIN: optionalText,
  /** C2SP signer key (`PRIVATE+KEY+…`), inline or a file path. Without one, a local pair is generated. */
  MANDATE_AUDIT_SIGNER_KEY: optionalText,
  /** C2SP verifier key, inline or a file path (default: derived from the signer key). */
  MANDATE_AUDIT_VERIFIER_KEY: optionalText,
  MANDATE_AUDIT_S3_ENDPOINT: optionalText,
  MANDATE_AUDIT_S3_REGION: z.string().min(1).default('us-east-1'),
  MANDATE_AUDIT_S3_BUCKET: optionalText,
  MANDATE_AUDIT_S3_ACCESS_KEY_ID: optionalText,
  MANDATE_AUDIT_S3_SECRET_ACCESS_KEY: optionalText,
  MANDATE_AUDIT_S3_FORCE_PATH_STYLE: flag('false'),
  MANDATE_AUDIT_S3_RETENTION_DAYS: z.coerce.number().int().positive().max(36_500).default(365),
  MANDATE_AUDIT_S3_LEGAL_HOLD: flag('false'),
});

export interface S3StoreConfig {
  endpoint?: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
  retentionDays: number;
  legalHold: boolean;
}

export interface AuditConfig {
  store: 'fs' | 's3';
  dataDir: string;
  /** Filesystem store root. */
  dir: string;
  origin: string;
  signerKey?: string;
  verifierKey?: string;
  s3?: S3StoreConfig;
}

export function parseAuditConfig(env: Env, base: { dataDir: string; namespace: string }): AuditConfig {
  const c = parseSection(AuditEnv, env);
  let s3: S3StoreConfig | undefined;
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
    dataDir: base.dataDir,
    dir: resolve(c.MANDATE_AUDIT_DIR ?? `${base.dataDir}/audit`),
    origin: c.MANDATE_AUDIT_ORIGIN ?? `mandate/audit/${base.namespace}`,
    signerKey: c.MANDATE_AUDIT_SIGNER_KEY,
    verifierKey: c.MANDATE_AUDIT_VERIFIER_KEY,
    ...(s3 ? { s3 } : {}),
  };
}
