import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { sha256Hex } from './hash';

/**
 * Ed25519 key pairs as the project keeps them: PEM (PKCS#8 private, SPKI public) plus a key id, the
 * first 16 hex characters of sha256 over the raw 32-byte public key. Grants, vote attestations and
 * every other signer use this one builder.
 */
export interface Ed25519KeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
  keyId: string;
}

/** The key id of an Ed25519 public key (SPKI PEM or a key object). */
export function ed25519KeyId(publicKey: string | KeyObject): string {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  const jwk = key.export({ format: 'jwk' });
  return sha256Hex(Buffer.from(jwk.x ?? '', 'base64url')).slice(0, 16);
}

/** A fresh Ed25519 key pair with its key id. */
export function generateEd25519KeyPair(): Ed25519KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const publicKeyPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  return {
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKeyPem,
    keyId: ed25519KeyId(publicKey),
  };
}
