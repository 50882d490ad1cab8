import { ApplicationFailure, condition, setHandler } from '@temporalio/workflow';
import type { ApprovalDecisionInput, DecisionRecord, GateView, PendingApproval } from '../core/approval';
import { validateApprovalDecision } from '../core/approval';
import type { ProposedAction } from '../core/mission';
import type { DecideResult } from './definitions';
import { decideSignal, decideUpdate } from './definitions';
import type { Rail } from './rail';
import { publishStatus } from './rail';

/**
 * The approval gate. Approvers decide through the `decide` Update (validated synchronously, so the
 * approver learns at once whether the vote counted) or the `decideSignal` Signal (for tools that
 * can only signal; a refused signal becomes an observation). Both run one validation function. No
 * decision before the deadline rejects the action: fail closed.
 */
export class ApprovalGate implements GateView {
  readonly pending: Record<string, PendingApproval> = {};

  constructor(
    readonly initiator: string,
    private readonly rail: Rail,
    readonly decided: Record<string, DecisionRecord> = {},
  ) {}

  /** Registers the Update and Signal handlers; call before the workflow's first await. */
  install(): void {
    setHandler(decideUpdate, (input) => this.accept(input, 'update'), {
      validator: (input) => {
        const result = validateApprovalDecision(input, this);
        if (!result.ok) throw refusal(result.reason);
      },
    });
    setHandler(decideSignal, (input) => {
      try {
        this.accept(input, 'signal');
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        this.rail.observe('approval_refused', `refused a signalled decision: ${reason}`, { received: describe(input) });
      }
    });
  }

  /** Waits for a decision on the action, or rejects it when the timeout passes. */
  async await(action: ProposedAction, tier: string, timeoutSeconds: number): Promise<DecisionRecord> {
    const requestedAt = new Date();
    const deadline = new Date(requestedAt.getTime() + timeoutSeconds * 1000);
    this.pending[action.actionId] = {
      actionId: action.actionId,
      operation: action.operation,
      params: action.params,
      tier,
      requestedAt: requestedAt.toISOString(),
      deadline: deadline.toISOString(),
    };
    publishStatus('awaiting_approval', deadline);
    this.rail.observe(
      'approval_requested',
      `${action.actionId} waits for ${tier} approval until ${deadline.toISOString()}`,
      {
        actionId: action.actionId,
        tier,
        deadline: deadline.toISOString(),
      },
    );
    const decidedInTime = await condition(() => action.actionId in this.decided, timeoutSeconds * 1000);
    if (!decidedInTime) {
      const reason = `no decision within ${timeoutSeconds}s: rejected (fail closed)`;
      this.record({ actionId: action.actionId, decision: 'reject', approver: 'system', reason }, 'timeout');
      this.rail.observe('approval_timeout', `${action.actionId} ${reason}`, { actionId: action.actionId });
    }
    delete this.pending[action.actionId];
    publishStatus('running');
    return this.decided[action.actionId];
  }

  private accept(input: ApprovalDecisionInput, via: 'update' | 'signal'): DecideResult {
    // Validated again here: the Signal path has no validator, and state may have moved since.
    const result = validateApprovalDecision(input, this);
    if (!result.ok) throw refusal(result.reason);
    const record = this.record(result.decision, via);
    const verb = record.decision === 'approve' ? 'approved' : 'rejected';
    this.rail.observe(
      'approval',
      `${record.approver} ${verb} ${record.actionId}${record.reason ? `: ${record.reason}` : ''}`,
      {
        ...record,
      },
    );
    return { actionId: record.actionId, decision: record.decision, approver: record.approver, recordedAt: record.at };
  }

  private record(decision: ApprovalDecisionInput, via: DecisionRecord['via']): DecisionRecord {
    const record: DecisionRecord = { ...decision, at: new Date().toISOString(), via };
    this.decided[decision.actionId] = record;
    return record;
  }
}

function refusal(reason: string): ApplicationFailure {
  return ApplicationFailure.create({ type: 'ApprovalRefused', message: reason, nonRetryable: true });
}

/** A bounded, printable summary of whatever arrived (it may not even be an object). */
function describe(input: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(input) ?? String(input);
  } catch {
    text = String(input);
  }
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
