import type {
  ApprovalOutcome,
  PendingApproval,
  VoteAttestation,
  VoteInput,
  VoteRefusalCode,
} from '../contract/mission';

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

export type VoteCheck = { ok: true; vote: VoteInput } | { ok: false; code: VoteRefusalCode; message: string };

export const MAX_REASON_LENGTH = 2000;

/** Identities compare case-insensitively and without surrounding space: Ivan@Example.com is ivan@example.com. */
export function sameIdentity(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

/**
 * Checks one vote against the gate's current state. Never throws. A vote counts only if it names
 * a pending action, is bound to that action's params hash and policy version, comes from someone
 * other than the initiator holding a role of the current ladder step, and is that person's first
 * vote in this step.
 */
export function validateVote(input: unknown, gate: GateView): VoteCheck {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return refuse(
      'malformed',
      'a vote must be an object {actionId, decision, approver, roles, paramsHash, policyVersion, reason?}',
    );
  }
  const { actionId, decision, approver, reason, roles, paramsHash, policyVersion, attestation } = input as Record<
    string,
    unknown
  >;
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
      ...(attestation !== undefined ? { attestation: attestation as VoteAttestation } : {}),
    },
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
