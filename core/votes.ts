import type {
  ApprovalOutcome,
  Attestation,
  PendingApproval,
  TrustedSigner,
  VoteInput,
  VoteRefusalCode,
} from '../contract/mission';
import { verifyAttestation, voteMessage } from './attestation';

/**
 * Votes and their validation. Pure code: the mission workflow runs it in the Update validator and
 * again for the Signal path, so both channels accept and refuse exactly the same votes; the
 * approvals service runs it to tell an approver beforehand what the workflow would say.
 */

export interface GateView {
  initiator: string;
  pending: Readonly<Record<string, PendingApproval>>;
  settled: Readonly<Record<string, ApprovalOutcome>>;
}

/** What a vote's signature is checked against: the mission's pinned keys, at the mission's time. */
export interface VoteTrust {
  missionId: string;
  signers: readonly TrustedSigner[];
  now: Date;
}

export type VoteCheck =
  { ok: true; vote: VoteInput; signer?: TrustedSigner } | { ok: false; code: VoteRefusalCode; message: string };

export const MAX_REASON_LENGTH = 2000;

/** Identities compare case-insensitively and without surrounding space: Ivan@Example.com is ivan@example.com. */
export function sameIdentity(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

/**
 * Checks one vote against the gate's current state. Never throws. A vote counts only if it is
 * signed by a key the mission trusts for votes (when `trust` is given: always in the workflow; the
 * approvals service pre-checks an unsigned vote before signing it), names a pending action and its
 * current ladder step, is bound to that action's params hash and policy version, comes from
 * someone other than the initiator holding a role of the current step, and is that person's first
 * vote in this step. Identity and roles are those of the signed payload.
 */
export function validateVote(input: unknown, gate: GateView, trust?: VoteTrust): VoteCheck {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return refuse(
      'malformed',
      'a vote must be an object {actionId, decision, approver, roles, paramsHash, policyVersion, reason?}',
    );
  }
  const { actionId, decision, approver, reason, roles, paramsHash, policyVersion, attestation, step, voteId } =
    input as Record<string, unknown>;
  if (typeof actionId !== 'string' || actionId.trim() === '') return refuse('malformed', 'actionId is required');
  if (decision !== 'approve' && decision !== 'reject') {
    return refuse('malformed', `decision must be "approve" or "reject", got ${JSON.stringify(decision ?? null)}`);
  }
  if (typeof approver !== 'string' || approver.trim() === '') return refuse('malformed', 'approver is required');
  if (reason !== undefined && typeof reason !== 'string') return refuse('malformed', 'reason must be a string');
  const trimmedReason = typeof reason === 'string' ? reason.trim() : '';
  if (decision === 'reject' && trimmedReason === '') return refuse('reason_required', 'a reason is required to reject');
  if (trimmedReason.length > MAX_REASON_LENGTH) {
    return refuse('malformed', `reason is longer than ${MAX_REASON_LENGTH} characters`);
  }
  if (roles !== undefined && (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string'))) {
    return refuse('malformed', 'roles must be a list of role names');
  }
  if (step !== undefined && (typeof step !== 'number' || !Number.isInteger(step) || step < 0)) {
    return refuse('malformed', 'step must be the ladder step (0-based) the vote is cast in');
  }
  if (voteId !== undefined && (typeof voteId !== 'string' || voteId === '' || voteId.length > 200)) {
    return refuse('malformed', 'voteId must be a non-empty string');
  }
  let signer: TrustedSigner | undefined;
  if (trust) {
    // The signature covers the vote exactly as sent: nothing below is trusted until it verifies.
    const checked = verifyAttestation(
      voteMessage(trust.missionId, input as VoteInput),
      attestation,
      trust.signers,
      'approval',
      trust.now,
    );
    if (!checked.ok) return refuse(checked.code, `vote refused: ${checked.message}`);
    if (typeof step !== 'number' || typeof voteId !== 'string') {
      return refuse('malformed', 'a signed vote must name its ladder step and a vote id');
    }
    signer = checked.signer;
  }

  const earlier = Object.hasOwn(gate.settled, actionId) ? gate.settled[actionId] : undefined;
  if (earlier) return refuse(earlier.via === 'timeout' ? 'expired' : 'already_decided', alreadySettled(earlier));
  if (!Object.hasOwn(gate.pending, actionId)) {
    const waiting = Object.keys(gate.pending);
    const hint = waiting.length ? `pending: ${waiting.join(', ')}` : 'nothing is pending';
    return refuse(
      'not_pending',
      `unknown action ${actionId}: no such action awaits approval in this mission (${hint})`,
    );
  }
  const pending = gate.pending[actionId];
  if (typeof step === 'number' && step !== pending.step) {
    return refuse(
      'stale',
      `vote is for step ${step + 1} of action ${actionId}, which is now at step ${pending.step + 1} of ${pending.steps}`,
    );
  }
  if (typeof voteId === 'string' && pending.votes.some((v) => v.voteId === voteId)) {
    return refuse('replayed', `vote ${voteId} was counted before: a signed vote counts once`);
  }
  const who = approver.trim();
  if (sameIdentity(who, gate.initiator)) {
    return refuse('initiator', `separation of duties: ${who} initiated this mission and cannot decide its actions`);
  }
  if (typeof paramsHash !== 'string' || typeof policyVersion !== 'string') {
    return refuse(
      'unbound',
      `a vote must be bound to the action: name its paramsHash and policyVersion (see the pending action ${actionId})`,
    );
  }
  if (paramsHash !== pending.paramsHash) {
    return refuse(
      'stale',
      `vote is bound to other params (${short(paramsHash)}) than action ${actionId} has (${short(pending.paramsHash)})`,
    );
  }
  if (policyVersion !== pending.policyVersion) {
    return refuse(
      'stale',
      `vote is bound to policy version ${short(policyVersion)}, but action ${actionId} was decided under ${short(pending.policyVersion)}`,
    );
  }
  const held = (roles ?? []) as string[];
  if (!held.some((role) => pending.roles.includes(role))) {
    return refuse(
      'not_your_step',
      `${who} holds none of the roles of step ${pending.step + 1} of ${pending.steps} (${pending.roles.join(', ')}) for action ${actionId}`,
    );
  }
  if (pending.votes.some((v) => v.step === pending.step && sameIdentity(v.approver, who))) {
    return refuse('already_voted', `one person, one vote: ${who} has already voted on action ${actionId}`);
  }
  return {
    ok: true,
    vote: {
      actionId,
      decision,
      approver: who,
      roles: held,
      paramsHash,
      policyVersion,
      ...(trimmedReason ? { reason: trimmedReason } : {}),
      ...(typeof step === 'number' ? { step } : {}),
      ...(typeof voteId === 'string' ? { voteId } : {}),
      ...(attestation !== undefined ? { attestation: attestation as Attestation } : {}),
    },
    ...(signer ? { signer } : {}),
  };
}

/** Approvals of the current step by distinct approvers. */
export function approvalsInStep(pending: PendingApproval): string[] {
  return [
    ...new Set(pending.votes.filter((v) => v.step === pending.step && v.decision === 'approve').map((v) => v.approver)),
  ];
}

function short(hash: string): string {
  return hash.length > 16 ? `${hash.slice(0, 12)}…` : hash;
}

/** "decision already taken: action a1 was approved by … at …" */
export function alreadySettled(earlier: ApprovalOutcome): string {
  const past = earlier.decision === 'approve' ? 'approved' : 'rejected';
  const who = earlier.via === 'timeout' ? 'the approval timeout (fail closed)' : earlier.approver;
  return `decision already taken: action ${earlier.actionId} was ${past} by ${who} at ${earlier.at}`;
}

function refuse(code: VoteRefusalCode, message: string): VoteCheck {
  return { ok: false, code, message };
}
