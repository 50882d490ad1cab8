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
}

/** A pending action as the gate sees it. */
export interface PendingApproval {
  actionId: string;
  operation: string;
  params: Record<string, unknown>;
  tier: string;
  requestedAt: string;
  deadline: string;
}

/** A decision the gate has recorded (by a person, or by the system on timeout). */
export interface DecisionRecord {
  actionId: string;
  decision: ApprovalVerdict;
  approver: string;
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

/** Checks one approval decision against the gate's current state. Never throws. */
export function validateApprovalDecision(input: unknown, gate: GateView): ValidationResult {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return refuse('decision must be an object {actionId, decision, approver, reason?}');
  }
  const { actionId, decision, approver, reason } = input as Record<string, unknown>;
  if (typeof actionId !== 'string' || actionId.trim() === '') return refuse('actionId is required');
  if (decision !== 'approve' && decision !== 'reject') {
    return refuse(`decision must be "approve" or "reject", got ${JSON.stringify(decision ?? null)}`);
  }
  if (typeof approver !== 'string' || approver.trim() === '') return refuse('approver is required');
  if (reason !== undefined && typeof reason !== 'string') return refuse('reason must be a string');
  const trimmedReason = typeof reason === 'string' ? reason.trim() : '';
  if (decision === 'reject' && trimmedReason === '') return refuse('a reason is required to reject');
  if (trimmedReason.length > MAX_REASON_LENGTH) return refuse(`reason is longer than ${MAX_REASON_LENGTH} characters`);

  // Own keys only: the gate's records are plain objects, and `constructor` or `__proto__` is no action.
  const earlier = Object.hasOwn(gate.decided, actionId) ? gate.decided[actionId] : undefined;
  if (earlier) return refuse(alreadyDecided(earlier));
  if (!Object.hasOwn(gate.pending, actionId)) {
    const waiting = Object.keys(gate.pending);
    const hint = waiting.length ? `pending: ${waiting.join(', ')}` : 'nothing is pending';
    return refuse(`unknown action ${actionId}: no such action awaits approval in this mission (${hint})`);
  }
  if (approver.trim() === gate.initiator) {
    return refuse(`separation of duties: ${approver} initiated this mission and cannot decide its actions`);
  }
  return {
    ok: true,
    decision: { actionId, decision, approver: approver.trim(), ...(trimmedReason ? { reason: trimmedReason } : {}) },
  };
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
