import { createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { SignerPurpose, TrustedSigner } from '../contract/mission';
import { ed25519KeyId, generateEd25519KeyPair } from '../core/ed25519';
import { ensureSecretFile, readKeySetting } from './key-files';

/**
 * The keys a deployment trusts to sign votes, mission starts and controls (MANDATE_TRUSTED_SIGNERS:
 * a JSON file, or the JSON itself). Each mission pins the set in its history when it loads, so keys
 * can rotate: trust the new key, let new missions pick it up, remove the old one once no waiting
 * mission needs it (see the README's Trust model).
 *
 *     {"signers": [{"name": "approvals-service", "publicKey": "-----BEGIN PUBLIC KEY-----…",
 *                   "may": ["approval", "start", "control"], "breakGlass": false}]}
 *
 * Without the setting, a local stack trusts the keys it generated in its data dir: the approvals
 * service's (`approvals-signing-key.pub.pem`) and the operators' break-glass key
 * (`keys/operator-break-glass.pub.pem`), each only if present.
 */
const SignerEntry = z
  .object({
    name: z.string().min(1).optional(),
    /** SPKI PEM, or the raw 32-byte key as 64 hex digits. */
    publicKey: z.string().min(1),
    may: z.array(z.enum(['approval', 'start', 'control'])).min(1),
    breakGlass: z.boolean().default(false),
  })
  .strict();
const SignersFile = z.object({ signers: z.array(SignerEntry) }).strict();

export const LOCAL_APPROVALS_PUBLIC_KEY = 'approvals-signing-key.pub.pem';
export const LOCAL_OPERATOR_KEY = join('keys', 'operator-break-glass.pem');
export const LOCAL_OPERATOR_PUBLIC_KEY = join('keys', 'operator-break-glass.pub.pem');
const EVERYTHING: SignerPurpose[] = ['approval', 'start', 'control'];

/** A trusted-signers entry for an Ed25519 public key (SPKI PEM or 64 hex digits). */
export function trustedSigner(
  publicKey: string,
  may: SignerPurpose[],
  breakGlass: boolean,
  name?: string,
): TrustedSigner {
  const key = /^[0-9a-fA-F]{64}$/.test(publicKey.trim())
    ? createPublicKey({
        key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey.trim(), 'hex').toString('base64url') },
        format: 'jwk',
      })
    : createPublicKey(publicKey);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`trusted signer ${name ?? ''} is not an Ed25519 key`);
  const raw = Buffer.from(key.export({ format: 'jwk' }).x ?? '', 'base64url').toString('hex');
  return { keyId: ed25519KeyId(key), publicKey: raw, may, breakGlass, ...(name ? { name } : {}) };
}

/** The deployment's trusted signers: the configured set, or the local stack's generated keys. */
export function resolveTrustedSigners(setting: string | undefined, dataDir: string): TrustedSigner[] {
  if (setting) {
    const text = setting.trim().startsWith('{') ? setting : readKeySetting(setting, 'MANDATE_TRUSTED_SIGNERS');
    let parsed: z.infer<typeof SignersFile>;
    try {
      parsed = SignersFile.parse(JSON.parse(text));
    } catch (err) {
      throw new Error(
        `MANDATE_TRUSTED_SIGNERS: ${err instanceof z.ZodError ? z.prettifyError(err) : (err as Error).message}`,
      );
    }
    return parsed.signers.map((s) => trustedSigner(s.publicKey, s.may, s.breakGlass, s.name));
  }
  const local: TrustedSigner[] = [];
  const approvals = join(dataDir, LOCAL_APPROVALS_PUBLIC_KEY);
  if (existsSync(approvals))
    local.push(trustedSigner(readFileSync(approvals, 'utf8'), EVERYTHING, false, 'approvals-service'));
  const operator = join(dataDir, LOCAL_OPERATOR_PUBLIC_KEY);
  if (existsSync(operator))
    local.push(trustedSigner(readFileSync(operator, 'utf8'), EVERYTHING, true, 'operator break-glass'));
  return local;
}

/** The operators' break-glass private key (PKCS#8 PEM): MANDATE_OPERATOR_KEY, or the local stack's. */
export function operatorKeyPem(setting: string | undefined, dataDir: string): string | undefined {
  if (setting) return readKeySetting(setting, 'MANDATE_OPERATOR_KEY');
  const local = join(dataDir, LOCAL_OPERATOR_KEY);
  if (!existsSync(local)) return undefined;
  const pem = readFileSync(local, 'utf8');
  createPrivateKey(pem); // a damaged file fails here, naming nothing secret
  return pem;
}

/** Generates the local stack's break-glass key once (0600; public key beside it); returns its path. */
export function ensureLocalOperatorKey(dataDir: string): { path: string; created: boolean } {
  const path = join(dataDir, LOCAL_OPERATOR_KEY);
  const { created } = ensureSecretFile(path, () => {
    const keys = generateEd25519KeyPair();
    return {
      secret: keys.privateKeyPem,
      companions: { [join(dataDir, LOCAL_OPERATOR_PUBLIC_KEY)]: keys.publicKeyPem },
    };
  });
  return { path, created };
}
