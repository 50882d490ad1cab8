import { ed25519 } from '@noble/curves/ed25519';
import type {
  Attestation,
  ControlInput,
  ControlKind,
  SignerPurpose,
  TrustedSigner,
  VoteInput,
} from '../contract/mission';
import { canonicalJson } from './canonical-json';

/**
 * Attestations: Ed25519 signatures over the canonical JSON of a vote, a mission start or a control,
 * checked against the keys pinned for the mission. Pure code with an audited pure-JS Ed25519
 * (@noble/curves), so the workflow verifies every message where the decision is made,
 * deterministically; the worker (before signing a grant) and the audit verifier run the same code.
 *
 * What is signed is `{purpose, missionId, …the message's own fields…, keyId, signedAt, expiresAt}`:
 * a signature cannot be moved to another mission, action, ladder step, params hash, policy version
 * or purpose, and counts only inside its validity window (at most {@link ATTESTATION_MAX_VALIDITY_MS}).
 */

/** Longest validity window an attestation may claim. */
export const ATTESTATION_MAX_VALIDITY_MS = 15 * 60_000;
/** How far a signer's clock may run ahead of the mission's. */
export const ATTESTATION_CLOCK_SKEW_MS = 60_000;

export type AttestationFailure = 'unsigned' | 'bad_signature' | 'untrusted_key' | 'signature_expired';
export type AttestationCheck =
  { ok: true; signer: TrustedSigner } | { ok: false; code: AttestationFailure; message: string };

/** What a vote's signature covers. */
export function voteMessage(missionId: string, vote: VoteInput): Record<string, unknown> {
  return {
    purpose: 'approval',
    missionId,
    actionId: vote.actionId,
    step: vote.step,
    voteId: vote.voteId,
    decision: vote.decision,
    approver: vote.approver,
    roles: vote.roles ?? [],
    reason: vote.reason,
    paramsHash: vote.paramsHash,
    policyVersion: vote.policyVersion,
  };
}

/** What a start's signature covers: who starts which mission type with which input (and provider). */
export function startMessage(
  missionId: string,
  start: { missionType: string; input: unknown; initiator: string; provider?: string },
): Record<string, unknown> {
  return {
    purpose: 'start',
    missionId,
    missionType: start.missionType,
    input: start.input,
    initiator: start.initiator,
    provider: start.provider,
  };
}

/** What a control's signature covers. */
export function controlMessage(missionId: string, kind: ControlKind, control: ControlInput): Record<string, unknown> {
  return {
    purpose: 'control',
    missionId,
    kind,
    controlId: control.controlId,
    by: control.by,
    roles: control.roles ?? [],
    reason: control.reason,
  };
}

/** The exact bytes signed: the message plus the attestation's key id and window, canonical JSON, UTF-8. */
export function signedBytes(
  message: Record<string, unknown>,
  a: Pick<Attestation, 'keyId' | 'signedAt' | 'expiresAt'>,
): Uint8Array {
  return new TextEncoder().encode(
    canonicalJson({ ...message, keyId: a.keyId, signedAt: a.signedAt, expiresAt: a.expiresAt }),
  );
}

const HEX = /^[0-9a-f]*$/;

function hexBytes(hex: string, length: number): Uint8Array | undefined {
  if (hex.length !== length * 2 || !HEX.test(hex)) return undefined;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/**
 * Checks `attestation` over `message` against the trusted signers, for `purpose`, at time `now`
 * (workflow time in the workflow; `undefined` skips the window check, e.g. a grant re-checking votes
 * that were in time when cast). Never throws.
 */
export function verifyAttestation(
  message: Record<string, unknown>,
  attestation: unknown,
  signers: readonly TrustedSigner[],
  purpose: SignerPurpose,
  now?: Date,
): AttestationCheck {
  const fail = (code: AttestationFailure, text: string): AttestationCheck => ({ ok: false, code, message: text });
  try {
    if (attestation === undefined || attestation === null) {
      return fail(
        'unsigned',
        `no attestation: a ${purpose === 'approval' ? 'vote' : purpose} must be signed by a trusted key`,
      );
    }
    const a = attestation as Partial<Attestation>;
    if (
      typeof a !== 'object' ||
      a.v !== 2 ||
      typeof a.keyId !== 'string' ||
      typeof a.signedAt !== 'string' ||
      typeof a.expiresAt !== 'string' ||
      typeof a.signature !== 'string'
    ) {
      return fail('bad_signature', 'malformed attestation: {v: 2, keyId, signedAt, expiresAt, signature} expected');
    }
    const signer = signers.find((s) => s.keyId === a.keyId);
    if (!signer) return fail('untrusted_key', `key ${a.keyId} is not trusted for this mission`);
    if (!signer.may.includes(purpose)) return fail('untrusted_key', `key ${a.keyId} may not sign ${purpose} messages`);
    const signature = hexBytes(a.signature, 64);
    const publicKey = hexBytes(signer.publicKey, 32);
    if (!signature || !publicKey)
      return fail('bad_signature', 'malformed attestation: signature must be 128 hex digits');
    const signedAt = Date.parse(a.signedAt);
    const expiresAt = Date.parse(a.expiresAt);
    if (!(expiresAt > signedAt) || expiresAt - signedAt > ATTESTATION_MAX_VALIDITY_MS) {
      return fail('bad_signature', `attestation window ${a.signedAt} – ${a.expiresAt} is not a valid window`);
    }
    if (!ed25519.verify(signature, signedBytes(message, a as Attestation), publicKey)) {
      return fail('bad_signature', `the signature by key ${a.keyId} does not match this message`);
    }
    if (now) {
      const t = now.getTime();
      if (t > expiresAt) return fail('signature_expired', `the attestation expired at ${a.expiresAt}`);
      if (t + ATTESTATION_CLOCK_SKEW_MS < signedAt)
        return fail('signature_expired', `the attestation is dated in the future (${a.signedAt})`);
    }
    return { ok: true, signer };
  } catch (err) {
    return fail('bad_signature', `attestation cannot be checked: ${err instanceof Error ? err.message : String(err)}`);
  }
}
