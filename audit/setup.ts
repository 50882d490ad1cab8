import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditConfig } from '../config';
import { ensureSecretFile, readKeySetting } from '../config/key-files';
import { generateKeyPair, parseSignerKey, parseVerifierKey } from '../core/signed-note';
import type { AuditStore } from './store';
import { FsAuditStore } from './store-fs';
import { S3AuditStore } from './store-s3';
import type { WitnessEndpoint } from './witness-client';
import type { WitnessPolicy } from './witness-policy';
import type { TrustedKeys } from './report-verification';

/**
 * The audit store and keys from the audit configuration (worker, CLI, demo). Key settings accept
 * the key text itself or a path to a file holding it. With no signer key configured, a local
 * Ed25519 pair is generated once under `<data dir>/audit-keys/` (signer 0600) and reused: fine for
 * a laptop, not for production, where the signer key belongs in a secret store and auditors get
 * the verifier.
 */
export const LOCAL_KEY_NAME = 'mandate-audit';

export interface AuditKeys {
  signerKey?: string;
  verifierKeys: string[];
  /** Set when the keys are the local pair (and `created` when this call generated it). */
  local?: { dir: string; created: boolean };
}

/**
 * Opens the configured store; `forWriting` also creates (or checks) the S3 bucket with Object Lock,
 * or checks that the filesystem can hold the immutable flag its retention setting needs.
 */
export async function openAuditStore(config: AuditConfig, forWriting = true): Promise<AuditStore> {
  if (config.store === 'fs' || !config.s3) {
    const store = new FsAuditStore({ root: config.dir, retentionDays: config.fsRetentionDays });
    if (forWriting && config.fsRetentionDays) await store.checkImmutableFlag();
    return store;
  }
  const store = new S3AuditStore(config.s3);
  if (forWriting) await store.ensureBucket();
  return store;
}

/** The witnesses the exporter asks, as configured. */
export function witnessEndpoints(config: AuditConfig): WitnessEndpoint[] {
  return config.witnesses.map(({ url, verifierKey }) => ({ url, verifierKey }));
}

/** The witness policy `audit verify` applies: the configured witnesses' keys and quorum, if any. */
export function witnessPolicy(config: AuditConfig): WitnessPolicy | undefined {
  if (!config.witnesses.length) return undefined;
  return { keys: config.witnesses.map((w) => w.verifierKey), quorum: config.witnessQuorum };
}

/** Configured keys, else the local pair (generated on first use unless `generate` is false). */
export function resolveAuditKeys(config: AuditConfig, generate = true): AuditKeys {
  const configuredVerifier = config.verifierKey
    ? readKeySetting(config.verifierKey, 'MANDATE_AUDIT_VERIFIER_KEY').trim()
    : undefined;
  if (configuredVerifier) parseVerifierKey(configuredVerifier);
  if (config.signerKey) {
    const signerKey = readKeySetting(config.signerKey, 'MANDATE_AUDIT_SIGNER_KEY').trim();
    const derived = parseSignerKey(signerKey).verifierKey;
    return { signerKey, verifierKeys: [...new Set([configuredVerifier ?? derived, derived])] };
  }
  if (configuredVerifier) return { verifierKeys: [configuredVerifier] };
  const dir = join(config.dataDir, 'audit-keys');
  const signerPath = join(dir, 'checkpoint.signer');
  if (!generate) {
    try {
      const signerKey = readKeySetting(signerPath, 'the local checkpoint key').trim();
      return { signerKey, verifierKeys: [parseSignerKey(signerKey).verifierKey], local: { dir, created: false } };
    } catch {
      return { verifierKeys: [] };
    }
  }
  const { text, created } = ensureSecretFile(signerPath, () => {
    const pair = generateKeyPair(LOCAL_KEY_NAME);
    return {
      secret: `${pair.signerKey}\n`,
      companions: { [join(dir, 'checkpoint.verifier')]: `${pair.verifierKey}\n` },
    };
  });
  const signerKey = text.trim();
  return { signerKey, verifierKeys: [parseSignerKey(signerKey).verifierKey], local: { dir, created } };
}

/** The worker's grant public keys (PEM): configured, or read from this host's grant key file if it has one. */
export function grantPublicKeys(config: AuditConfig, grantKeyFile?: string): string[] {
  if (config.grantPublicKey) return [readKeySetting(config.grantPublicKey, 'MANDATE_AUDIT_GRANT_PUBLIC_KEY').trim()];
  if (grantKeyFile && existsSync(grantKeyFile)) {
    const stored = JSON.parse(readFileSync(grantKeyFile, 'utf8')) as { publicKeyPem?: string };
    if (stored.publicKeyPem) return [stored.publicKeyPem];
  }
  return [];
}

/**
 * Every key a readable report and an evidence package check against, as configured on this host.
 * (Approval, start and control signatures are checked against the keys pinned in each history.)
 */
export function trustedKeys(
  config: AuditConfig,
  hosts: { grantKeyFile?: string },
  witnesses = witnessPolicy(config),
): TrustedKeys {
  return {
    checkpoint: resolveAuditKeys(config, false).verifierKeys,
    ...(witnesses ? { witnesses } : {}),
    grants: grantPublicKeys(config, hosts.grantKeyFile),
  };
}
