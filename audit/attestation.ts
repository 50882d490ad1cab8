import type { VoteInput } from '../contract/mission';
import { verifyAttestation } from '../core/attestation';
import { ed25519KeyId } from '../core/ed25519';
import type { DecisionReport, SignatureStatus } from './report';

/**
 * Approval attestations in an exported history: the approvals service's Ed25519 signature on each
 * recorded approval input, checked with `core/attestation` (the same code the worker uses) against
 * the configured approvals public keys. Without keys, a present attestation is noted as not checked.
 */

/** Trusted approvals-service public keys (SPKI PEM) by key id. */
export type AttestationKeys = Record<string, string>;

export function attestationKeyMap(publicKeysPem: readonly string[]): AttestationKeys {
  return Object.fromEntries(publicKeysPem.map((pem) => [ed25519KeyId(pem), pem]));
}

export function checkAttestation(
  missionId: string,
  input: Record<string, unknown>,
  keys: AttestationKeys | undefined,
): SignatureStatus {
  if (input.attestation === undefined) return 'absent';
  if (!keys || Object.keys(keys).length === 0) return 'not checked (no approvals verifier key configured)';
  return verifyAttestation(missionId, input as unknown as VoteInput, keys).ok ? 'valid' : 'invalid';
}

/** Fills in each approval's signature status (report approvals and recorded inputs are in history order). */
export function applyAttestations(
  report: DecisionReport,
  inputs: Record<string, unknown>[],
  keys: AttestationKeys | undefined,
): SignatureStatus[] {
  const people = report.layers.approvals.filter((a) => a.via !== 'timeout');
  const statuses = inputs.map((input) => checkAttestation(report.workflowId ?? '', input, keys));
  people.forEach((approval, i) => {
    if (statuses[i]) approval.signature = statuses[i];
  });
  return statuses;
}
