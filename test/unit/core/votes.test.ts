import { alreadySettled, approvalsInStep, MAX_REASON_LENGTH, validateVote } from '../../../core/votes';
import type { GateView, VoteCheck } from '../../../core/votes';
import { actionParamsHash } from '../../../core/grant';
import type { ApprovalOutcome, PendingApproval, Vote } from '../../../contract/mission';

const PARAMS = { orderId: 'ORD-5002', amountCents: 45000 };
const PARAMS_HASH = actionParamsHash('refunds.issue', PARAMS);
const POLICY_VERSION = 'a'.repeat(64);

/** A supervisor-tier action on a two-step ladder (supervisor, then support-manager), at step `step`. */
const pendingAction = (actionId: string, overrides: Partial<PendingApproval> = {}): PendingApproval => ({
  actionId,
  operation: 'refunds.issue',
  params: PARAMS,
  paramsHash: PARAMS_HASH,
  policyVersion: POLICY_VERSION,
  tier: 'supervisor',
  requestedAt: '2025-01-15T12:00:00.000Z',
  step: 0,
  steps: 2,
  roles: ['supervisor'],
  quorum: 1,
  deadline: '2025-01-15T16:00:00.000Z',
  votes: [],
  ...overrides,
});

/** The same action after step 1 timed out: step 2 (support-manager) is open. */
const escalated = (actionId: string, votes: Vote[] = []): PendingApproval =>
  pendingAction(actionId, { step: 1, roles: ['support-manager'], deadline: '2025-01-15T20:00:00.000Z', votes });

const gateWith = (overrides: Partial<GateView> = {}): GateView => ({
  initiator: 'ivan@example.com',
  pending: { 'action-1': pendingAction('action-1'), 'action-2': pendingAction('action-2') },
  settled: {},
  ...overrides,
});

const vote = (
  approver: string,
  step: number,
  decision: Vote['decision'] = 'approve',
  roles = ['supervisor'],
): Vote => ({
  approver,
  roles,
  decision,
  ...(decision === 'reject' ? { reason: 'no' } : {}),
  step,
  at: '2025-01-15T13:00:00.000Z',
  via: 'update',
  signed: false,
});

const valid = {
  actionId: 'action-1',
  decision: 'approve',
  approver: 'sam@example.com',
  roles: ['supervisor'],
  paramsHash: PARAMS_HASH,
  policyVersion: POLICY_VERSION,
};
/** What an accepted `valid` decision comes back as. */
const accepted = {
  actionId: 'action-1',
  decision: 'approve',
  approver: 'sam@example.com',
  roles: ['supervisor'],
  paramsHash: PARAMS_HASH,
  policyVersion: POLICY_VERSION,
};

/** The refusal message, failing the test if the vote was accepted. */
function refusal(result: VoteCheck): string {
  if (result.ok) throw new Error(`expected a refusal, got ${JSON.stringify(result.vote)}`);
  return result.message;
}

describe('validateVote: the shape of the input', () => {
  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a string', 'approve'],
    ['a number', 42],
    ['an array', [valid]],
  ])('refuses %s', (_label, input) => {
    expect(refusal(validateVote(input, gateWith()))).toBe(
      'a vote must be an object {actionId, decision, approver, roles, paramsHash, policyVersion, reason?}',
    );
  });

  it.each([
    ['missing', { ...valid, actionId: undefined }],
    ['empty', { ...valid, actionId: '' }],
    ['blank', { ...valid, actionId: '   ' }],
    ['not a string', { ...valid, actionId: 7 }],
  ])('refuses an actionId that is %s', (_label, input) => {
    expect(refusal(validateVote(input, gateWith()))).toBe('actionId is required');
  });

  it.each([
    ['"maybe"', 'maybe', '"maybe"'],
    ['"APPROVE" (case matters)', 'APPROVE', '"APPROVE"'],
    ['a boolean', true, 'true'],
    ['missing', undefined, 'null'],
    ['null', null, 'null'],
  ])('refuses a decision that is %s', (_label, decision, shown) => {
    expect(refusal(validateVote({ ...valid, decision }, gateWith()))).toBe(
      `decision must be "approve" or "reject", got ${shown}`,
    );
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['blank', ' \t '],
    ['not a string', { id: 'sam' }],
  ])('refuses an approver that is %s', (_label, approver) => {
    expect(refusal(validateVote({ ...valid, approver }, gateWith()))).toBe('approver is required');
  });

  it('refuses a reason that is not a string', () => {
    expect(refusal(validateVote({ ...valid, reason: 42 }, gateWith()))).toBe('reason must be a string');
    expect(refusal(validateVote({ ...valid, reason: null }, gateWith()))).toBe('reason must be a string');
  });

  it('refuses a rejection without a reason, with an empty reason and with a whitespace reason', () => {
    const reject = { ...valid, decision: 'reject' };
    for (const input of [reject, { ...reject, reason: '' }, { ...reject, reason: '  \n\t ' }]) {
      expect(refusal(validateVote(input, gateWith()))).toBe('a reason is required to reject');
    }
  });

  it('refuses a reason longer than the limit, measured after trimming', () => {
    const tooLong = 'x'.repeat(MAX_REASON_LENGTH + 1);
    expect(refusal(validateVote({ ...valid, reason: tooLong }, gateWith()))).toBe(
      `reason is longer than ${MAX_REASON_LENGTH} characters`,
    );
    expect(refusal(validateVote({ ...valid, decision: 'reject', reason: tooLong }, gateWith()))).toContain(
      'longer than 2000',
    );
    // Exactly at the limit, padded with whitespace: accepted.
    const atLimit = validateVote({ ...valid, reason: `  ${'y'.repeat(MAX_REASON_LENGTH)}  ` }, gateWith());
    expect(atLimit.ok && atLimit.vote.reason).toBe('y'.repeat(MAX_REASON_LENGTH));
  });

  it.each([
    ['a string', 'supervisor'],
    ['a list with a number', ['supervisor', 7]],
    ['null', null],
  ])('refuses roles that are %s', (_label, roles) => {
    expect(refusal(validateVote({ ...valid, roles }, gateWith()))).toBe('roles must be a list of role names');
  });
});

describe('validateVote: against the gate', () => {
  const byPerson: ApprovalOutcome = {
    actionId: 'action-1',
    decision: 'approve',
    approver: 'sam@example.com',
    approvers: ['sam@example.com'],
    at: '2025-01-15T13:00:00.000Z',
    via: 'update',
  };
  const byTimeout: ApprovalOutcome = {
    actionId: 'action-1',
    decision: 'reject',
    approver: 'system',
    approvers: [],
    reason: 'no decision within 28800s (2 ladder step(s)): rejected (fail closed)',
    at: '2025-01-15T20:00:00.000Z',
    via: 'timeout',
  };

  it('refuses a second decision on an action a person already decided', () => {
    const gate = gateWith({ settled: { 'action-1': byPerson } });
    expect(refusal(validateVote({ ...valid, approver: 'kim@example.com' }, gate))).toBe(
      'decision already taken: action action-1 was approved by sam@example.com at 2025-01-15T13:00:00.000Z',
    );
  });

  it('refuses a decision on an action the timeout already rejected, naming the timeout', () => {
    // Checked before "pending": the gate may still list the action while the timeout record exists.
    const gate = gateWith({ settled: { 'action-1': byTimeout } });
    expect(refusal(validateVote(valid, gate))).toBe(
      'decision already taken: action action-1 was rejected by the approval timeout (fail closed) at 2025-01-15T20:00:00.000Z',
    );
  });

  it('alreadySettled formats the same message the validator gives', () => {
    expect(alreadySettled(byPerson)).toBe(
      'decision already taken: action action-1 was approved by sam@example.com at 2025-01-15T13:00:00.000Z',
    );
    expect(alreadySettled({ ...byPerson, decision: 'reject', approver: 'kim@example.com' })).toBe(
      'decision already taken: action action-1 was rejected by kim@example.com at 2025-01-15T13:00:00.000Z',
    );
  });

  it('refuses an unknown action and lists the pending ones', () => {
    expect(refusal(validateVote({ ...valid, actionId: 'action-9' }, gateWith()))).toBe(
      'unknown action action-9: no such action awaits approval in this mission (pending: action-1, action-2)',
    );
  });

  it('refuses an unknown action when nothing is pending', () => {
    expect(refusal(validateVote(valid, gateWith({ pending: {} })))).toBe(
      'unknown action action-1: no such action awaits approval in this mission (nothing is pending)',
    );
  });

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])(
    'treats the action id %s as unknown, not as something inherited by the gate records',
    (actionId) => {
      expect(refusal(validateVote({ ...valid, actionId }, gateWith()))).toBe(
        `unknown action ${actionId}: no such action awaits approval in this mission (pending: action-1, action-2)`,
      );
    },
  );

  it('refuses the initiator deciding their own mission’s action (separation of duties), even padded', () => {
    for (const approver of ['ivan@example.com', '  ivan@example.com ']) {
      for (const decision of ['approve', 'reject']) {
        const reason = refusal(validateVote({ ...valid, approver, decision, reason: 'mine' }, gateWith()));
        expect(reason).toBe(
          'separation of duties: ivan@example.com initiated this mission and cannot decide its actions',
        );
      }
    }
  });

  it('checks the shape before the gate: a malformed vote on a decided action reports the shape', () => {
    const gate = gateWith({ settled: { 'action-1': byPerson } });
    expect(refusal(validateVote({ ...valid, decision: 'yes' }, gate))).toContain('decision must be');
  });
});

describe('validateVote: binding to the action', () => {
  const unbound =
    'a vote must be bound to the action: name its paramsHash and policyVersion (see the pending action action-1)';

  it.each([
    ['no paramsHash', { ...valid, paramsHash: undefined }],
    ['no policyVersion', { ...valid, policyVersion: undefined }],
    ['neither', { ...valid, paramsHash: undefined, policyVersion: undefined }],
    ['a paramsHash that is not a string', { ...valid, paramsHash: 42 }],
    ['a policyVersion that is not a string', { ...valid, policyVersion: null }],
  ])('refuses a decision with %s', (_label, input) => {
    expect(refusal(validateVote(input, gateWith()))).toBe(unbound);
    expect(refusal(validateVote({ ...input, decision: 'reject', reason: 'no' }, gateWith()))).toBe(unbound);
  });

  it('refuses a decision bound to other params, showing both hashes shortened', () => {
    const other = actionParamsHash('refunds.issue', { ...PARAMS, amountCents: 4500 });
    expect(refusal(validateVote({ ...valid, paramsHash: other }, gateWith()))).toBe(
      `vote is bound to other params (${other.slice(0, 12)}…) than action action-1 has (${PARAMS_HASH.slice(0, 12)}…)`,
    );
  });

  it('refuses a paramsHash that differs only in case or whitespace (exact match, no normalisation)', () => {
    for (const paramsHash of [PARAMS_HASH.toUpperCase(), ` ${PARAMS_HASH}`, '']) {
      expect(refusal(validateVote({ ...valid, paramsHash }, gateWith()))).toMatch(/^vote is bound to other params/);
    }
  });

  it('refuses a decision bound to another policy version, naming both', () => {
    const other = 'b'.repeat(64);
    expect(refusal(validateVote({ ...valid, policyVersion: other }, gateWith()))).toBe(
      `vote is bound to policy version ${'b'.repeat(12)}…, but action action-1 was decided under ${'a'.repeat(12)}…`,
    );
    // Short versions are shown whole.
    const gate = gateWith({ pending: { 'action-1': pendingAction('action-1', { policyVersion: 'v1' }) } });
    expect(refusal(validateVote({ ...valid, policyVersion: 'v2' }, gate))).toBe(
      'vote is bound to policy version v2, but action action-1 was decided under v1',
    );
  });

  it('checks separation of duties before the binding', () => {
    const input = { ...valid, approver: 'ivan@example.com', paramsHash: undefined };
    expect(refusal(validateVote(input, gateWith()))).toMatch(/^separation of duties/);
  });
});

describe('validateVote: roles of the current ladder step', () => {
  it('refuses an approver without roles or with none of the step’s roles, naming the step and its roles', () => {
    const expected = 'sam@example.com holds none of the roles of step 1 of 2 (supervisor) for action action-1';
    for (const roles of [undefined, [], ['finance', 'support-manager'], ['Supervisor']]) {
      expect(refusal(validateVote({ ...valid, roles }, gateWith()))).toBe(expected);
    }
  });

  it('lists every role of a step that accepts several', () => {
    const gate = gateWith({
      pending: { 'action-1': pendingAction('action-1', { roles: ['finance', 'finance-director'], steps: 1 }) },
    });
    expect(refusal(validateVote(valid, gate))).toBe(
      'sam@example.com holds none of the roles of step 1 of 1 (finance, finance-director) for action action-1',
    );
    const ok = validateVote({ ...valid, roles: ['auditor', 'finance-director'] }, gate);
    expect(ok.ok && ok.vote.roles).toEqual(['auditor', 'finance-director']);
  });

  it('after escalation, a role of the previous step no longer counts and the new step’s role does', () => {
    const gate = gateWith({ pending: { 'action-1': escalated('action-1') } });
    expect(refusal(validateVote(valid, gate))).toBe(
      'sam@example.com holds none of the roles of step 2 of 2 (support-manager) for action action-1',
    );
    const manager = { ...valid, approver: 'meg@example.com', roles: ['support-manager'] };
    expect(validateVote(manager, gate)).toEqual({ ok: true, vote: { ...accepted, ...manager } });
    // Step 1 saw the opposite.
    expect(refusal(validateVote(manager, gateWith()))).toBe(
      'meg@example.com holds none of the roles of step 1 of 2 (supervisor) for action action-1',
    );
  });

  it('a rejection also needs a role of the current step', () => {
    const reject = { ...valid, decision: 'reject', reason: 'too much', roles: ['agent'] };
    expect(refusal(validateVote(reject, gateWith()))).toMatch(/holds none of the roles of step 1 of 2/);
  });
});

describe('validateVote: one person, one vote per step', () => {
  const quorumTwo = (votes: Vote[]) =>
    gateWith({
      pending: {
        'action-1': pendingAction('action-1', { tier: 'finance', roles: ['finance'], quorum: 2, votes }),
      },
    });
  const finance = { ...valid, roles: ['finance'] };

  it('refuses a second vote by the same approver in the same step, approve or reject, padded or not', () => {
    const gate = quorumTwo([vote('sam@example.com', 0, 'approve', ['finance'])]);
    const expected = 'one person, one vote: sam@example.com has already voted on action action-1';
    expect(refusal(validateVote(finance, gate))).toBe(expected);
    expect(refusal(validateVote({ ...finance, approver: ' sam@example.com ' }, gate))).toBe(expected);
    expect(refusal(validateVote({ ...finance, decision: 'reject', reason: 'changed my mind' }, gate))).toBe(expected);
  });

  it('accepts a second, different approver in the same step', () => {
    const gate = quorumTwo([vote('sam@example.com', 0, 'approve', ['finance'])]);
    const kim = { ...finance, approver: 'kim@example.com' };
    expect(validateVote(kim, gate)).toEqual({ ok: true, vote: { ...accepted, ...kim } });
  });

  it('lets the same person vote again in a later step when they hold that step’s role', () => {
    const gate = gateWith({ pending: { 'action-1': escalated('action-1', [vote('sam@example.com', 0)]) } });
    const again = { ...valid, roles: ['supervisor', 'support-manager'] };
    expect(validateVote(again, gate)).toEqual({ ok: true, vote: { ...accepted, ...again } });
    // A vote already cast in step 2 does block them.
    const voted = gateWith({
      pending: { 'action-1': escalated('action-1', [vote('sam@example.com', 0), vote('sam@example.com', 1)]) },
    });
    expect(refusal(validateVote(again, voted))).toBe(
      'one person, one vote: sam@example.com has already voted on action action-1',
    );
  });

  it('a vote on one action does not count against another', () => {
    const gate = gateWith({
      pending: {
        'action-1': pendingAction('action-1', { votes: [vote('sam@example.com', 0)] }),
        'action-2': pendingAction('action-2'),
      },
    });
    expect(validateVote({ ...valid, actionId: 'action-2' }, gate).ok).toBe(true);
  });
});

describe('approvalsInStep', () => {
  it('is empty without votes', () => {
    expect(approvalsInStep(pendingAction('action-1'))).toEqual([]);
  });

  it('counts distinct approvers of the current step only, ignoring rejections and earlier steps', () => {
    const votes = [
      vote('sam@example.com', 0),
      vote('kim@example.com', 0),
      vote('meg@example.com', 1),
      vote('meg@example.com', 1), // a duplicate counts once
      vote('ray@example.com', 1, 'reject'),
      vote('lou@example.com', 1),
    ];
    expect(approvalsInStep(escalated('action-1', votes))).toEqual(['meg@example.com', 'lou@example.com']);
    expect(approvalsInStep(pendingAction('action-1', { votes }))).toEqual(['sam@example.com', 'kim@example.com']);
  });

  it('does not carry approvals of step 1 into step 2', () => {
    expect(approvalsInStep(escalated('action-1', [vote('sam@example.com', 0), vote('kim@example.com', 0)]))).toEqual(
      [],
    );
  });
});

describe('validateVote: accepted decisions', () => {
  it('accepts an approval without a reason and adds no reason key', () => {
    const result = validateVote(valid, gateWith());
    expect(result).toEqual({ ok: true, vote: accepted });
    expect(result.ok && 'reason' in result.vote).toBe(false);
    expect(result.ok && 'attestation' in result.vote).toBe(false);
  });

  it('drops a blank reason on an approval instead of keeping an empty string', () => {
    const result = validateVote({ ...valid, reason: '   ' }, gateWith());
    expect(result.ok && Object.keys(result.vote).sort()).toEqual(
      ['actionId', 'approver', 'decision', 'paramsHash', 'policyVersion', 'roles'].sort(),
    );
  });

  it('trims the approver and the reason of a rejection', () => {
    const result = validateVote(
      { ...valid, actionId: 'action-2', decision: 'reject', approver: '  kim@example.com\t', reason: ' too much \n' },
      gateWith(),
    );
    expect(result).toEqual({
      ok: true,
      vote: {
        ...accepted,
        actionId: 'action-2',
        decision: 'reject',
        approver: 'kim@example.com',
        reason: 'too much',
      },
    });
  });

  it('passes the attestation through unchanged', () => {
    const attestation = { keyId: '0123456789abcdef', signature: 'c2ln', signedAt: '2025-01-15T13:00:00.000Z' };
    const result = validateVote({ ...valid, attestation }, gateWith());
    expect(result).toEqual({ ok: true, vote: { ...accepted, attestation } });
  });

  it('ignores keys it does not know and still decides on another pending action after one was decided', () => {
    const gate = gateWith({
      settled: {
        'action-1': {
          actionId: 'action-1',
          decision: 'approve',
          approver: 'sam@example.com',
          approvers: ['sam@example.com'],
          at: 'x',
          via: 'signal',
        },
      },
    });
    const result = validateVote({ ...valid, actionId: 'action-2', extra: 'ignored' }, gate);
    expect(result).toEqual({ ok: true, vote: { ...accepted, actionId: 'action-2' } });
  });
});
