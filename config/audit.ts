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
  /** The worker's grant Ed25519 public key (SPKI PEM, inline or a file path) for the report's grant check. */
  MANDATE_AUDIT_GRANT_PUBLIC_KEY: optionalText,
  MANDATE_AUDIT_S3_ENDPOINT: optionalText,
  MANDATE_AUDIT_S3_REGION: z.string().min(1).default('us-east-1'),
  MANDATE_AUDIT_S3_BUCKET: optionalText,
  MANDATE_AUDIT_S3_ACCESS_KEY_ID: optionalText,
  MANDATE_AUDIT_S3_SECRET_ACCESS_KEY: optionalText,
  MANDATE_AUDIT_S3_FORCE_PATH_STYLE: flag('false'),
  /** COMPLIANCE retention per object; 0 means none, allowed only with MANDATE_AUDIT_S3_LEGAL_HOLD=true. */
  MANDATE_AUDIT_S3_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(365),
  MANDATE_AUDIT_S3_LEGAL_HOLD: flag('false'),
  /** Key prefix of the store in the bucket ("" or segments ending in "/"). */
  MANDATE_AUDIT_S3_PREFIX: z
    .string()
    .regex(/^([A-Za-z0-9_-][A-Za-z0-9._-]*\/)*$/, 'must be empty or path segments ending in "/" (e.g. audit/prod/)')
    .default(''),
  /** Filesystem store: keep every object immutable (chattr +i) for this many days. Unset: no time lock. */
  MANDATE_AUDIT_FS_RETENTION_DAYS: z.coerce.number().int().positive().max(36_500).optional(),
  /** Witnesses asked to cosign each checkpoint: `<url>=<witness vkey>`, separated by commas or newlines. */
  MANDATE_AUDIT_WITNESSES: optionalText,
  /** How many of those witnesses must have cosigned the latest checkpoint for `audit verify` (default: all). */
  MANDATE_AUDIT_WITNESS_QUORUM: z.coerce.number().int().positive().optional(),
});

/** A witness the exporter asks to cosign, and whose cosignature `audit verify` checks. */
export interface WitnessSetting {
  url: string;
  verifierKey: string;
}

export interface S3StoreConfig {
  endpoint?: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
  retentionDays: number;
  legalHold: boolean;
  prefix: string;
}

export interface AuditConfig {
  store: 'fs' | 's3';
  dataDir: string;
  /** Filesystem store root. */
  dir: string;
  origin: string;
  signerKey?: string;
  verifierKey?: string;
  grantPublicKey?: string;
  s3?: S3StoreConfig;
  /** Filesystem store retention (days), enforced with the immutable flag. */
  fsRetentionDays?: number;
  witnesses: WitnessSetting[];
  /** Witness cosignatures `audit verify` requires on the latest checkpoint (default: every witness). */
  witnessQuorum?: number;
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
    if (c.MANDATE_AUDIT_S3_RETENTION_DAYS === 0 && !yes(c.MANDATE_AUDIT_S3_LEGAL_HOLD)) {
      throw new ConfigError(
        'configuration error: MANDATE_AUDIT_S3_RETENTION_DAYS=0 leaves audit objects deletable; set MANDATE_AUDIT_S3_LEGAL_HOLD=true to hold every object instead',
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
      prefix: c.MANDATE_AUDIT_S3_PREFIX,
    };
  }
  const witnesses = parseWitnesses(c.MANDATE_AUDIT_WITNESSES);
  if (c.MANDATE_AUDIT_WITNESS_QUORUM && c.MANDATE_AUDIT_WITNESS_QUORUM > witnesses.length) {
    throw new ConfigError(
      `configuration error: MANDATE_AUDIT_WITNESS_QUORUM is ${c.MANDATE_AUDIT_WITNESS_QUORUM}, but MANDATE_AUDIT_WITNESSES lists ${witnesses.length} witness(es)`,
    );
  }
  return {
    store: c.MANDATE_AUDIT_STORE,
    dataDir: base.dataDir,
    dir: resolve(c.MANDATE_AUDIT_DIR ?? `${base.dataDir}/audit`),
    origin: c.MANDATE_AUDIT_ORIGIN ?? `mandate/audit/${base.namespace}`,
    signerKey: c.MANDATE_AUDIT_SIGNER_KEY,
    verifierKey: c.MANDATE_AUDIT_VERIFIER_KEY,
    ...(c.MANDATE_AUDIT_GRANT_PUBLIC_KEY ? { grantPublicKey: c.MANDATE_AUDIT_GRANT_PUBLIC_KEY } : {}),
    ...(s3 ? { s3 } : {}),
    ...(c.MANDATE_AUDIT_FS_RETENTION_DAYS ? { fsRetentionDays: c.MANDATE_AUDIT_FS_RETENTION_DAYS } : {}),
    witnesses,
    ...(c.MANDATE_AUDIT_WITNESS_QUORUM ? { witnessQuorum: c.MANDATE_AUDIT_WITNESS_QUORUM } : {}),
  };
}

/** `<url>=<vkey>` entries (split at the first "="), separated by commas or newlines. */
export function parseWitnesses(text: string | undefined, variable = 'MANDATE_AUDIT_WITNESSES'): WitnessSetting[] {
  if (!text) return [];
  return text
    .split(/[,\n]/)
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const at = entry.indexOf('=');
      const url = entry.slice(0, at);
      const verifierKey = entry.slice(at + 1);
      if (at < 0 || !/^https?:\/\/[^\s]+$/.test(url) || !/^[^+\s]+\+[0-9a-f]{8}\+\S+$/.test(verifierKey)) {
        throw new ConfigError(
          `configuration error: ${variable}: each entry is <http(s) url>=<witness verifier key>, got ${JSON.stringify(entry.slice(0, 80))}`,
        );
      }
      return { url, verifierKey };
    });
}
