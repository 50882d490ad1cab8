import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { ApprovalAttestation, ApprovalDecisionInput } from './approval';
import { canonicalJson, sha256Hex } from './hash';

/**
 * Attestations: the approvals service's Ed25519 signature over one approval decision, so history
 * carries proof of which service vouched for which authenticated approver. The worker and the audit
 * verifier check them with {@link verifyAttestation}.
 */

/** The fields an attestation covers, in canonical JSON (keys sorted, `undefined` dropped). */
export function attestationPayload(missionId: string, input: ApprovalDecisionInput, signedAt: string): string {
  return canonicalJson({
    missionId,
    actionId: input.actionId,
    decision: input.decision,
    approver: input.approver,
    roles: input.roles ?? [],
    reason: input.reason,
    paramsHash: input.paramsHash,
    policyVersion: input.policyVersion,
    signedAt,
  });
}

/** Key id: the first 16 hex characters of sha256 over the raw 32-byte Ed25519 public key. */
export function attestationKeyId(publicKey: string | KeyObject): string {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  const jwk = key.export({ format: 'jwk' });
  return sha256Hex(Buffer.from(jwk.x ?? '', 'base64url')).slice(0, 16);
}

/** A fresh Ed25519 key pair in PEM (PKCS#8 private, SPKI public) with its key id. */
export function generateAttestationKeys(): { privateKeyPem: string; publicKeyPem: string; keyId: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const publicKeyPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  return {
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKeyPem,
    keyId: attestationKeyId(publicKeyPem),
  };
}

/** A signer bound to one private key (PKCS#8 PEM); its public key and key id are derived from it. */
export interface AttestationSigner {
  keyId: string;
  publicKeyPem: string;
  sign(missionId: string, input: ApprovalDecisionInput, now?: Date): ApprovalAttestation;
}

export function createAttestationSigner(privateKeyPem: string): AttestationSigner {
  const privateKey = createPrivateKey(privateKeyPem);
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(`approvals signing key must be Ed25519, got ${privateKey.asymmetricKeyType}`);
  }
  const publicKey = createPublicKey(privateKey);
  const keyId = attestationKeyId(publicKey);
  return {
    keyId,
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    sign(missionId, input, now = new Date()) {
      const signedAt = now.toISOString();
      const signature = sign(null, Buffer.from(attestationPayload(missionId, input, signedAt)), privateKey);
      return { keyId, signature: signature.toString('base64'), signedAt };
    },
  };
}

export type AttestationVerification = { ok: true; keyId: string } | { ok: false; reason: string };

/**
 * Checks the attestation carried by `input` against trusted public keys (key id → SPKI PEM).
 * Never throws: any input, however broken, yields a result.
 */
export function verifyAttestation(
  missionId: string,
  input: ApprovalDecisionInput,
  publicKeys: Readonly<Record<string, string>>,
): AttestationVerification {
  try {
    const attestation = input?.attestation as Partial<ApprovalAttestation> | undefined;
    if (!attestation || typeof attestation !== 'object') return { ok: false, reason: 'no attestation' };
    const { keyId, signature, signedAt } = attestation;
    if (typeof keyId !== 'string' || typeof signature !== 'string' || typeof signedAt !== 'string') {
      return { ok: false, reason: 'malformed attestation: keyId, signature and signedAt must be strings' };
    }
    if (!Object.hasOwn(publicKeys, keyId)) return { ok: false, reason: `unknown attestation key ${keyId}` };
    const publicKey = createPublicKey(publicKeys[keyId]);
    if (attestationKeyId(publicKey) !== keyId) return { ok: false, reason: `key ${keyId} does not match its id` };
    const valid = verify(
      null,
      Buffer.from(attestationPayload(missionId, input, signedAt)),
      publicKey,
      Buffer.from(signature, 'base64'),
    );
    return valid ? { ok: true, keyId } : { ok: false, reason: 'attestation signature does not match the decision' };
  } catch (err) {
    return { ok: false, reason: `attestation cannot be checked: ${(err as Error).message}` };
  }
}
