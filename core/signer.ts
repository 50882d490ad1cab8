import { createPrivateKey, createPublicKey, randomUUID, sign } from 'node:crypto';
import type { Attestation, ControlInput, ControlKind, TrustedSigner, VoteInput } from '../contract/mission';
import type { SignerPurpose } from '../contract/mission';
import { controlMessage, signedBytes, startMessage, voteMessage } from './attestation';
import { ed25519KeyId } from './ed25519';

/**
 * Signing attestations with a private key (PKCS#8 PEM): the approvals service signs votes, starts
 * and controls for authenticated people; an operator's break-glass key signs the `--direct` path.
 */
export const DEFAULT_VALIDITY_MS = 5 * 60_000;

export interface AttestationSigner {
  keyId: string;
  publicKeyPem: string;
  /** Raw public key, hex: what a trusted-signers entry pins. */
  publicKeyHex: string;
  sign(message: Record<string, unknown>, now?: Date, validityMs?: number): Attestation;
  /** A vote with its step, a fresh vote id and the attestation. */
  signVote(
    missionId: string,
    vote: Omit<VoteInput, 'attestation' | 'voteId'> & { step: number },
    now?: Date,
  ): VoteInput;
  /** A control with a fresh control id and the attestation. */
  signControl(
    missionId: string,
    kind: ControlKind,
    control: Omit<ControlInput, 'attestation' | 'controlId'>,
    now?: Date,
  ): ControlInput;
  signStart(
    missionId: string,
    start: { missionType: string; input: unknown; initiator: string; provider?: string },
    now?: Date,
  ): Attestation;
  /** This key as a trusted-signers entry. */
  trusted(may: SignerPurpose[], breakGlass: boolean, name?: string): TrustedSigner;
}

export function createAttestationSigner(privateKeyPem: string): AttestationSigner {
  const privateKey = createPrivateKey(privateKeyPem);
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(`a signing key must be Ed25519, got ${privateKey.asymmetricKeyType}`);
  }
  const publicKey = createPublicKey(privateKey);
  const keyId = ed25519KeyId(publicKey);
  const publicKeyHex = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url').toString('hex');
  const attest = (
    message: Record<string, unknown>,
    now = new Date(),
    validityMs = DEFAULT_VALIDITY_MS,
  ): Attestation => {
    const window = {
      keyId,
      signedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + validityMs).toISOString(),
    };
    const signature = sign(null, signedBytes(message, window), privateKey).toString('hex');
    return { v: 2, ...window, signature };
  };
  return {
    keyId,
    publicKeyHex,
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    sign: attest,
    signVote(missionId, vote, now) {
      const unsigned: VoteInput = { ...vote, voteId: `v-${randomUUID()}` };
      return { ...unsigned, attestation: attest(voteMessage(missionId, unsigned), now) };
    },
    signControl(missionId, kind, control, now) {
      const unsigned: ControlInput = { ...control, controlId: `c-${randomUUID()}` };
      return { ...unsigned, attestation: attest(controlMessage(missionId, kind, unsigned), now) };
    },
    signStart(missionId, start, now) {
      return attest(startMessage(missionId, start), now);
    },
    trusted(may, breakGlass, name) {
      return { keyId, publicKey: publicKeyHex, may, breakGlass, ...(name ? { name } : {}) };
    },
  };
}
