import { createPrivateKey, createPublicKey } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair, parseSignerKey, parseVerifierKey } from '../../core/signed-note';
import type { AuditConfig } from '../../workers/config';
import { loadAuditConfig } from '../../workers/config';
import type { AuditDeps } from './export';
import type { AuditStore } from './store';
import { FsAuditStore } from './store-fs';
import { S3AuditStore } from './store-s3';

/**
 * Builds the audit store and keys from `AuditConfig` (workers, CLI, demo). Key settings accept the
 * key text itself or a path to a file holding it. With no signer key configured, a local Ed25519
 * pair is generated once under `<data dir>/audit-keys/` (signer 0600) and reused: fine for a laptop,
 * not for production, where the signer key belongs in a secret store and auditors get the verifier.
 */
export const LOCAL_KEY_NAME = 'mandate-audit';

export interface AuditKeys {
  signerKey?: string;
  verifierKeys: string[];
  /** Set when the keys are the local pair (and `created` when this call generated it). */
  local?: { dir: string; created: boolean };
}

/** Opens the configured store; `forWriting` also creates (or checks) the S3 bucket with Object Lock. */
export async function openAuditStore(config: AuditConfig, forWriting = true): Promise<AuditStore> {
  if (config.store === 'fs' || !config.s3) return new FsAuditStore({ root: config.dir });
  const store = new S3AuditStore(config.s3);
  if (forWriting) await store.ensureBucket();
  return store;
}

/** Configured keys, else the local pair (generated on first use unless `generate` is false). */
export function resolveAuditKeys(config: AuditConfig, generate = true): AuditKeys {
  const configuredVerifier = config.verifierKey ? readKey(config.verifierKey) : undefined;
  if (configuredVerifier) parseVerifierKey(configuredVerifier);
  if (config.signerKey) {
    const signerKey = readKey(config.signerKey);
    const derived = parseSignerKey(signerKey).verifierKey;
    return { signerKey, verifierKeys: unique([configuredVerifier ?? derived, derived]) };
  }
  if (configuredVerifier) return { verifierKeys: [configuredVerifier] };
  const dir = join(config.dataDir, 'audit-keys');
  const signerPath = join(dir, 'checkpoint.signer');
  const verifierPath = join(dir, 'checkpoint.verifier');
  let created = false;
  if (!existsSync(signerPath) && !generate) return { verifierKeys: [] };
  if (!existsSync(signerPath)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const pair = generateKeyPair(LOCAL_KEY_NAME);
    writeFileSync(signerPath, `${pair.signerKey}\n`, { mode: 0o600, flag: 'wx' });
    writeFileSync(verifierPath, `${pair.verifierKey}\n`, { mode: 0o644 });
    chmodSync(signerPath, 0o600);
    created = true;
  }
  const signerKey = readFileSync(signerPath, 'utf8').trim();
  return { signerKey, verifierKeys: [parseSignerKey(signerKey).verifierKey], local: { dir, created } };
}

/** The approvals service's public key (PEM): configured, or derived from its signing key if this host has it. */
export function approvalsPublicKeys(config: AuditConfig, approvalsSigningKey?: string): string[] {
  if (config.approvalsPublicKey) return [readKey(config.approvalsPublicKey)];
  if (approvalsSigningKey) {
    const pem = readKey(approvalsSigningKey);
    return [createPublicKey(createPrivateKey(pem)).export({ format: 'pem', type: 'spki' }).toString()];
  }
  return [];
}

/** Key text inline, or the contents of the file it names. */
function readKey(value: string): string {
  const inline =
    value.startsWith('PRIVATE+KEY+') || value.includes('-----BEGIN') || /^[^/\s]+\+[0-9a-f]{8}\+/.test(value);
  return inline ? value.trim() : readFileSync(value, 'utf8').trim();
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/**
 * Audit deps from the MANDATE_AUDIT_* settings, built on first call (the worker's default): opens the
 * store and resolves the keys, saying so when it generated a local key pair.
 */
export function auditDepsFromEnv(log: (line: string) => void = (l) => console.warn(l)): () => Promise<AuditDeps> {
  let deps: Promise<AuditDeps> | undefined;
  return () =>
    (deps ??= (async () => {
      const config = loadAuditConfig();
      const keys = resolveAuditKeys(config);
      if (!keys.signerKey) throw new Error('audit export needs MANDATE_AUDIT_SIGNER_KEY (only a verifier key is set)');
      if (keys.local?.created) log(`audit: generated a local checkpoint key pair in ${keys.local.dir}`);
      return { store: await openAuditStore(config), signerKey: keys.signerKey, origin: config.origin };
    })());
}
