/**
 * Approval decisions and their validation. Pure code: the mission workflow runs it in the Update
 * validator and again for the Signal path, so both channels accept and refuse exactly the same votes.
 */

export type ApprovalVerdict = 'approve' | 'reject';

/** What an approver sends (Update `decide` or Signal `decideSignal`). */
export interface ApprovalDecisionInput {
  actionId: string;
  decision: ApprovalVerdict;
  approver: string;
  reason?: string;
  /** The approver's roles, as vouched for by the approvals service (see `attestation`). */
  roles?: string[];
  /** Binding: sha256 of {operation, params} (core/grant actionParamsHash) the approver saw. */
  paramsHash?: string;
  /** Binding: the policy version of the decision the approver saw. */
  policyVersion?: string;
  /** The approvals service's Ed25519 signature over the decision (core/attestation). */
  attestation?: ApprovalAttestation;
}

/** Proof that an authenticated approvals service vouched for this approver and decision. */
export interface ApprovalAttestation {
  /** Key id of the signing service key. */
  keyId: string;
  /** Base64 Ed25519 signature over the canonical JSON of the attested fields. */
  signature: string;
  signedAt: string;
}

/** One approver's vote on a pending action. */
export interface Vote {
  approver: string;
  roles: string[];
  decision: ApprovalVerdict;
  reason?: string;
  /** Ladder step (0-based) the vote was cast in; quorum counts the current step's votes only. */
  step: number;
  at: string;
  via: 'update' | 'signal';
  /** The vote carried an approvals-service signature (checked by the audit verifier). */
  signed: boolean;
}

/** A pending action as the gate sees it. */
export interface PendingApproval {
  actionId: string;
  operation: string;
  params: Record<string, unknown>;
  /** sha256 of {operation, params}: a decision must name it. */
  paramsHash: string;
  /** Policy version of the decision that asked for approval: a decision must name it. */
  policyVersion: string;
  tier: string;
  requestedAt: string;
  /** Current ladder step (0-based), its roles and quorum, and when it escalates. */
  step: number;
  steps: number;
  roles: string[];
  quorum: number;
  deadline: string;
  votes: Vote[];
}

/** The final decision on an action (by quorum, by a rejection, or by the system on timeout). */
export interface DecisionRecord {
  actionId: string;
  decision: ApprovalVerdict;
  /** The approver whose vote settled it ("system" on timeout). */
  approver: string;
  /** Everyone whose approval counted towards the quorum (empty for a rejection or timeout). */
  approvers: string[];
  reason?: string;
  at: string;
  via: 'update' | 'signal' | 'timeout';
}

export interface GateView {
  initiator: string;
  pending: Readonly<Record<string, PendingApproval>>;
  decided: Readonly<Record<string, DecisionRecord>>;
}

export type ValidationResult = { ok: true; decision: ApprovalDecisionInput } | { ok: false; reason: string };

export const MAX_REASON_LENGTH = 2000;

/**
 * Checks one vote against the gate's current state. Never throws. A vote counts only if it names
 * a pending action, is bound to that action's params hash and policy version, comes from someone
 * other than the initiator holding a role of the current ladder step, and is that person's first
 * vote in this step.
 */
export function validateApprovalDecision(input: unknown, gate: GateView): ValidationResult {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return refuse(
      'decision must be an object {actionId, decision, approver, roles, paramsHash, policyVersion, reason?}',
    );
  }
  const { actionId, decision, approver, reason, roles, paramsHash, policyVersion, attestation } = input as Record<
    string,
    unknown
  >;
  if (typeof actionId !== 'string' || actionId.trim() === '') return refuse('actionId is required');
  if (decision !== 'approve' && decision !== 'reject') {
    return refuse(`decision must be "approve" or "reject", got ${JSON.stringify(decision ?? null)}`);
  }
  if (typeof approver !== 'string' || approver.trim() === '') return refuse('approver is required');
  if (reason !== undefined && typeof reason !== 'string') return refuse('reason must be a string');
  const trimmedReason = typeof reason === 'string' ? reason.trim() : '';
  if (decision === 'reject' && trimmedReason === '') return refuse('a reason is required to reject');
  if (trimmedReason.length > MAX_REASON_LENGTH) return refuse(`reason is longer than ${MAX_REASON_LENGTH} characters`);
  if (roles !== undefined && (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string'))) {
    return refuse('roles must be a list of role names');
  }

  const earlier = Object.hasOwn(gate.decided, actionId) ? gate.decided[actionId] : undefined;
  if (earlier) return refuse(alreadyDecided(earlier));
  if (!Object.hasOwn(gate.pending, actionId)) {
    const waiting = Object.keys(gate.pending);
    const hint = waiting.length ? `pending: ${waiting.join(', ')}` : 'nothing is pending';
    return refuse(`unknown action ${actionId}: no such action awaits approval in this mission (${hint})`);
  }
  const pending = gate.pending[actionId];
  const who = approver.trim();
  // Identities compare case-insensitively: Ivan@Example.com is ivan@example.com.
  const same = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();
  if (same(who, gate.initiator)) {
    return refuse(`separation of duties: ${who} initiated this mission and cannot decide its actions`);
  }
  if (typeof paramsHash !== 'string' || typeof policyVersion !== 'string') {
    return refuse(
      `a decision must be bound to the action: name its paramsHash and policyVersion (see the pending action ${actionId})`,
    );
  }
  if (paramsHash !== pending.paramsHash) {
    return refuse(
      `decision is bound to other params (${short(paramsHash)}) than action ${actionId} has (${short(pending.paramsHash)})`,
    );
  }
  if (policyVersion !== pending.policyVersion) {
    return refuse(
      `decision is bound to policy version ${short(policyVersion)}, but action ${actionId} was decided under ${short(pending.policyVersion)}`,
    );
  }
  const held = (roles ?? []) as string[];
  if (!held.some((role) => pending.roles.includes(role))) {
    return refuse(
      `${who} holds none of the roles of step ${pending.step + 1} of ${pending.steps} (${pending.roles.join(', ')}) for action ${actionId}`,
    );
  }
  if (pending.votes.some((v) => v.step === pending.step && same(v.approver, who))) {
    return refuse(`one person, one vote: ${who} has already voted on action ${actionId}`);
  }
  return {
    ok: true,
    decision: {
      actionId,
      decision,
      approver: who,
      roles: held,
      paramsHash,
      policyVersion,
      ...(trimmedReason ? { reason: trimmedReason } : {}),
      ...(attestation !== undefined ? { attestation: attestation as ApprovalAttestation } : {}),
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
export function alreadyDecided(earlier: DecisionRecord): string {
  const past = earlier.decision === 'approve' ? 'approved' : 'rejected';
  const who = earlier.via === 'timeout' ? 'the approval timeout (fail closed)' : earlier.approver;
  return `decision already taken: action ${earlier.actionId} was ${past} by ${who} at ${earlier.at}`;
}

function refuse(reason: string): ValidationResult {
  return { ok: false, reason };
}
