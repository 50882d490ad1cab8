import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { castVote, pendingAction } from '../../client/votes';
import type { TrustedSigner, VoteChoice, VoteInput, VoteResult } from '../../contract/mission';
import { generateEd25519KeyPair } from '../../core/ed25519';
import { createAttestationSigner } from '../../core/signer';

/**
 * The keys of a test run (one set per test process): a stand-in for the approvals service's key and
 * an operator's break-glass key, both trusted by the workers the harness starts, plus an outsider's
 * key nobody trusts. The CLI, as a separate process, gets the operator key through a file.
 */
export const testKeys = {
  approvals: generateEd25519KeyPair(),
  operator: generateEd25519KeyPair(),
  outsider: generateEd25519KeyPair(),
};
export const approvalsSigner = createAttestationSigner(testKeys.approvals.privateKeyPem);
export const operatorSigner = createAttestationSigner(testKeys.operator.privateKeyPem);
export const outsiderSigner = createAttestationSigner(testKeys.outsider.privateKeyPem);

export const TEST_SIGNERS: TrustedSigner[] = [
  approvalsSigner.trusted(['approval', 'start', 'control'], false, 'test approvals service'),
  operatorSigner.trusted(['approval', 'start', 'control'], true, 'test operator'),
];

let operatorKeyFile: string | undefined;
/** The operator key as a file, for MANDATE_OPERATOR_KEY in a CLI subprocess. */
export function operatorKeyPath(): string {
  if (!operatorKeyFile) {
    operatorKeyFile = join(mkdtempSync(join(tmpdir(), 'mandate-operator-')), 'operator.pem');
    writeFileSync(operatorKeyFile, testKeys.operator.privateKeyPem, { mode: 0o600 });
  }
  return operatorKeyFile;
}

export interface VoteSpec {
  actionId: string;
  decision: VoteChoice;
  approver: string;
  roles?: string[];
  reason?: string;
  /** Bind to these instead of the pending action's (to test refusals). */
  paramsHash?: string;
  policyVersion?: string;
  step?: number;
}

/**
 * A vote as the approvals service would send it: bound to the pending action as the mission shows
 * it now (unless the spec says otherwise) and signed with the test approvals key.
 */
export async function signedVote(
  client: Client,
  missionId: string,
  spec: VoteSpec,
  signer = approvalsSigner,
): Promise<VoteInput> {
  const pending = await pendingAction(client, missionId, spec.actionId).catch(() => undefined);
  return signer.signVote(missionId, {
    actionId: spec.actionId,
    decision: spec.decision,
    approver: spec.approver,
    roles: spec.roles ?? [],
    ...(spec.reason !== undefined ? { reason: spec.reason } : {}),
    paramsHash: spec.paramsHash ?? pending?.paramsHash,
    policyVersion: spec.policyVersion ?? pending?.policyVersion,
    step: spec.step ?? pending?.step ?? 0,
  });
}

/** Signs (as the approvals service) and casts a vote through the validated Update. */
export async function castSigned(client: Client, missionId: string, spec: VoteSpec): Promise<VoteResult> {
  return castVote(client, missionId, await signedVote(client, missionId, spec));
}
