import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import type { VoteAttestation, VoteInput } from '../contract/mission';
import { ed25519KeyId } from './ed25519';
import { canonicalJson } from './hash';

/**
 * Attestations: the approvals service's Ed25519 signature over one approval decision, so history
 * carries proof of which service vouched for which authenticated approver. The worker and the audit
 * verifier check them with {@link verifyAttestation}.
 */

/** The fields an attestation covers, in canonical JSON (keys sorted, `undefined` dropped). */
export function attestationPayload(missionId: string, input: VoteInput, signedAt: string): string {
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

/** A signer bound to one private key (PKCS#8 PEM); its public key and key id are derived from it. */
export interface AttestationSigner {
  keyId: string;
  publicKeyPem: string;
  sign(missionId: string, input: VoteInput, now?: Date): VoteAttestation;
}

export function createAttestationSigner(privateKeyPem: string): AttestationSigner {
  const privateKey = createPrivateKey(privateKeyPem);
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(`approvals signing key must be Ed25519, got ${privateKey.asymmetricKeyType}`);
  }
  const publicKey = createPublicKey(privateKey);
  const keyId = ed25519KeyId(publicKey);
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
  input: VoteInput,
  publicKeys: Readonly<Record<string, string>>,
): AttestationVerification {
  try {
    const attestation = input?.attestation as Partial<VoteAttestation> | undefined;
    if (!attestation || typeof attestation !== 'object') return { ok: false, reason: 'no attestation' };
    const { keyId, signature, signedAt } = attestation;
    if (typeof keyId !== 'string' || typeof signature !== 'string' || typeof signedAt !== 'string') {
      return { ok: false, reason: 'malformed attestation: keyId, signature and signedAt must be strings' };
    }
    if (!Object.hasOwn(publicKeys, keyId)) return { ok: false, reason: `unknown attestation key ${keyId}` };
    const publicKey = createPublicKey(publicKeys[keyId]);
    if (ed25519KeyId(publicKey) !== keyId) return { ok: false, reason: `key ${keyId} does not match its id` };
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
