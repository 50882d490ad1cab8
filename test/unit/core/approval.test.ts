import { MAX_REASON_LENGTH, validateApprovalDecision } from '../../../core/approval';
import type { DecisionRecord, GateView, PendingApproval, ValidationResult } from '../../../core/approval';

const pendingAction = (actionId: string): PendingApproval => ({
  actionId,
  operation: 'refunds.issue',
  params: { orderId: 'ORD-5002', amountCents: 45000 },
  tier: 'supervisor',
  requestedAt: '2025-01-15T12:00:00.000Z',
  deadline: '2025-01-16T12:00:00.000Z',
});

const gateWith = (overrides: Partial<GateView> = {}): GateView => ({
  initiator: 'ivan@example.com',
  pending: { 'action-1': pendingAction('action-1'), 'action-2': pendingAction('action-2') },
  decided: {},
  ...overrides,
});

const valid = { actionId: 'action-1', decision: 'approve', approver: 'sam@example.com' };

/** The refusal reason, failing the test if the decision was accepted. */
function refusal(result: ValidationResult): string {
  if (result.ok) throw new Error(`expected a refusal, got ${JSON.stringify(result.decision)}`);
  return result.reason;
}

describe('validateApprovalDecision: the shape of the input', () => {
  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a string', 'approve'],
    ['a number', 42],
    ['an array', [valid]],
  ])('refuses %s', (_label, input) => {
    expect(refusal(validateApprovalDecision(input, gateWith()))).toBe(
      'decision must be an object {actionId, decision, approver, reason?}',
    );
  });

  it.each([
    ['missing', { decision: 'approve', approver: 'sam@example.com' }],
    ['empty', { ...valid, actionId: '' }],
    ['blank', { ...valid, actionId: '   ' }],
    ['not a string', { ...valid, actionId: 7 }],
  ])('refuses an actionId that is %s', (_label, input) => {
    expect(refusal(validateApprovalDecision(input, gateWith()))).toBe('actionId is required');
  });

  it.each([
    ['"maybe"', 'maybe', '"maybe"'],
    ['"APPROVE" (case matters)', 'APPROVE', '"APPROVE"'],
    ['a boolean', true, 'true'],
    ['missing', undefined, 'null'],
    ['null', null, 'null'],
  ])('refuses a decision that is %s', (_label, decision, shown) => {
    expect(refusal(validateApprovalDecision({ ...valid, decision }, gateWith()))).toBe(
      `decision must be "approve" or "reject", got ${shown}`,
    );
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['blank', ' \t '],
    ['not a string', { id: 'sam' }],
  ])('refuses an approver that is %s', (_label, approver) => {
    expect(refusal(validateApprovalDecision({ ...valid, approver }, gateWith()))).toBe('approver is required');
  });

  it('refuses a reason that is not a string', () => {
    expect(refusal(validateApprovalDecision({ ...valid, reason: 42 }, gateWith()))).toBe('reason must be a string');
    expect(refusal(validateApprovalDecision({ ...valid, reason: null }, gateWith()))).toBe('reason must be a string');
  });

  it('refuses a rejection without a reason, with an empty reason and with a whitespace reason', () => {
    const reject = { ...valid, decision: 'reject' };
    for (const input of [reject, { ...reject, reason: '' }, { ...reject, reason: '  \n\t ' }]) {
      expect(refusal(validateApprovalDecision(input, gateWith()))).toBe('a reason is required to reject');
    }
  });

  it('refuses a reason longer than the limit, measured after trimming', () => {
    const tooLong = 'x'.repeat(MAX_REASON_LENGTH + 1);
    expect(refusal(validateApprovalDecision({ ...valid, reason: tooLong }, gateWith()))).toBe(
      `reason is longer than ${MAX_REASON_LENGTH} characters`,
    );
    expect(refusal(validateApprovalDecision({ ...valid, decision: 'reject', reason: tooLong }, gateWith()))).toContain(
      'longer than 2000',
    );
    // Exactly at the limit, padded with whitespace: accepted.
    const atLimit = validateApprovalDecision({ ...valid, reason: `  ${'y'.repeat(MAX_REASON_LENGTH)}  ` }, gateWith());
    expect(atLimit.ok && atLimit.decision.reason).toBe('y'.repeat(MAX_REASON_LENGTH));
  });
});

describe('validateApprovalDecision: against the gate', () => {
  const byPerson: DecisionRecord = {
    actionId: 'action-1',
    decision: 'approve',
    approver: 'sam@example.com',
    at: '2025-01-15T13:00:00.000Z',
    via: 'update',
  };
  const byTimeout: DecisionRecord = {
    actionId: 'action-1',
    decision: 'reject',
    approver: 'system',
    reason: 'no decision within 86400s: rejected (fail closed)',
    at: '2025-01-16T12:00:00.000Z',
    via: 'timeout',
  };

  it('refuses a second decision on an action a person already decided', () => {
    const gate = gateWith({ decided: { 'action-1': byPerson } });
    expect(refusal(validateApprovalDecision({ ...valid, approver: 'kim@example.com' }, gate))).toBe(
      'decision already taken: action action-1 was approved by sam@example.com at 2025-01-15T13:00:00.000Z',
    );
  });

  it('refuses a decision on an action the timeout already rejected, naming the timeout', () => {
    // Checked before "pending": the gate may still list the action while the timeout record exists.
    const gate = gateWith({ decided: { 'action-1': byTimeout } });
    expect(refusal(validateApprovalDecision(valid, gate))).toBe(
      'decision already taken: action action-1 was rejected by the approval timeout (fail closed) at 2025-01-16T12:00:00.000Z',
    );
  });

  it('refuses an unknown action and lists the pending ones', () => {
    expect(refusal(validateApprovalDecision({ ...valid, actionId: 'action-9' }, gateWith()))).toBe(
      'unknown action action-9: no such action awaits approval in this mission (pending: action-1, action-2)',
    );
  });

  it('refuses an unknown action when nothing is pending', () => {
    expect(refusal(validateApprovalDecision(valid, gateWith({ pending: {} })))).toBe(
      'unknown action action-1: no such action awaits approval in this mission (nothing is pending)',
    );
  });

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])(
    'treats the action id %s as unknown, not as something inherited by the gate records',
    (actionId) => {
      expect(refusal(validateApprovalDecision({ ...valid, actionId }, gateWith()))).toBe(
        `unknown action ${actionId}: no such action awaits approval in this mission (pending: action-1, action-2)`,
      );
    },
  );

  it('refuses the initiator deciding their own mission’s action (separation of duties), even padded', () => {
    for (const approver of ['ivan@example.com', '  ivan@example.com ']) {
      for (const decision of ['approve', 'reject']) {
        const reason = refusal(validateApprovalDecision({ ...valid, approver, decision, reason: 'mine' }, gateWith()));
        expect(reason).toMatch(/^separation of duties: .*ivan@example\.com.* initiated this mission/);
      }
    }
  });

  it('checks the shape before the gate: a malformed vote on a decided action reports the shape', () => {
    const gate = gateWith({ decided: { 'action-1': byPerson } });
    expect(refusal(validateApprovalDecision({ ...valid, decision: 'yes' }, gate))).toContain('decision must be');
  });
});

describe('validateApprovalDecision: accepted decisions', () => {
  it('accepts an approval without a reason and adds no reason key', () => {
    const result = validateApprovalDecision(valid, gateWith());
    expect(result).toEqual({
      ok: true,
      decision: { actionId: 'action-1', decision: 'approve', approver: 'sam@example.com' },
    });
    expect(result.ok && 'reason' in result.decision).toBe(false);
  });

  it('drops a blank reason on an approval instead of keeping an empty string', () => {
    const result = validateApprovalDecision({ ...valid, reason: '   ' }, gateWith());
    expect(result.ok && Object.keys(result.decision).sort()).toEqual(['actionId', 'approver', 'decision']);
  });

  it('trims the approver and the reason of a rejection', () => {
    const result = validateApprovalDecision(
      { actionId: 'action-2', decision: 'reject', approver: '  kim@example.com\t', reason: '  amount looks wrong \n' },
      gateWith(),
    );
    expect(result).toEqual({
      ok: true,
      decision: { actionId: 'action-2', decision: 'reject', approver: 'kim@example.com', reason: 'amount looks wrong' },
    });
  });

  it('ignores keys it does not know and still decides on another pending action after one was decided', () => {
    const gate = gateWith({
      decided: {
        'action-1': { actionId: 'action-1', decision: 'approve', approver: 'sam@example.com', at: 'x', via: 'signal' },
      },
    });
    const result = validateApprovalDecision({ ...valid, actionId: 'action-2', extra: 'ignored' }, gate);
    expect(result).toEqual({
      ok: true,
      decision: { actionId: 'action-2', decision: 'approve', approver: 'sam@example.com' },
    });
  });
});
