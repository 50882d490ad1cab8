import { MissionClosed, MissionNotFound, VoteRefused } from '../../../client/errors';
import type { PendingApproval } from '../../../contract/mission';
import { DeskError, refusalFor, toDeskError } from '../../../approvals-ui/refusals';
import type { DecidableAction } from '../../../approvals-ui/refusals';
import type { Principal } from '../../../approvals-ui/auth';
import type { GateView } from '../../../core/votes';

const sam: Principal = { subject: 'sam', roles: ['supervisor'], via: 'token' };
const action: DecidableAction & { votes: PendingApproval['votes'] } = {
  actionId: 'a1',
  tier: 'supervisor',
  deadline: '2999-01-01T00:00:00Z',
  expired: false,
  roles: ['supervisor', 'support-manager'],
  paramsHash: 'p'.repeat(64),
  policyVersion: 'v'.repeat(64),
  votes: [],
};

/** The gate as the workflow holds it, with `action` pending at step 0. */
const gateFor = (a: typeof action, initiator: string): GateView => ({
  initiator,
  pending: {
    a1: { ...a, operation: 'refunds.issue', params: {}, requestedAt: a.deadline, step: 0, steps: 1, quorum: 1 },
  },
  settled: {},
});

const vote = (approver: string, step = 0) => ({
  approver,
  roles: ['supervisor'],
  decision: 'approve' as const,
  step,
  at: '2025-01-01T00:00:00Z',
  via: 'update' as const,
  signed: true,
});

describe('who may vote: the workflow rules, in the service words', () => {
  it('a holder of a role of the step who did not initiate the mission and has not voted', () => {
    expect(refusalFor(sam, action, gateFor(action, 'agent'))).toBeUndefined();
  });

  it.each<[string, Principal, Partial<typeof action>, string, string]>([
    ['expired first', sam, { expired: true }, 'sam', 'expired'],
    ['the initiator', sam, {}, 'sam', 'initiator'],
    ['the initiator under another spelling', sam, {}, ' SAM ', 'initiator'],
    ['no role of the step', { ...sam, roles: ['finance'] }, {}, 'agent', 'not_your_tier'],
    ['no roles at all', { ...sam, roles: [] }, {}, 'agent', 'not_your_tier'],
    ['a second vote', sam, { votes: [vote('sam')] }, 'agent', 'already_decided'],
  ])('refuses %s', (_name, principal, change, initiator, code) => {
    const a = { ...action, ...change };
    expect(refusalFor(principal, a, gateFor(a, initiator))).toMatchObject({ code });
  });

  it('lets a person who voted in an earlier ladder step vote again in this one, as the workflow does', () => {
    const a = { ...action, votes: [vote('sam', -1)] };
    expect(refusalFor(sam, a, gateFor(a, 'agent'))).toBeUndefined();
  });
});

describe('workflow refusals as codes', () => {
  it.each<[Error, string, number]>([
    [new MissionNotFound('no mission m'), 'not_found', 404],
    [new MissionClosed('closed'), 'mission_closed', 409],
    [new VoteRefused('expired', 'any words'), 'expired', 409],
    [new VoteRefused('already_decided', 'any words'), 'already_decided', 409],
    [new VoteRefused('initiator', 'any words'), 'initiator', 403],
    [new VoteRefused('reason_required', 'any words'), 'reason_required', 400],
    [new VoteRefused('stale', 'any words'), 'stale', 409],
    [new VoteRefused('not_your_step', 'any words'), 'not_your_tier', 403],
  ])('%s → %s', (err, code, status) => {
    const mapped = toDeskError(err) as DeskError;
    expect(mapped).toBeInstanceOf(DeskError);
    expect({ code: mapped.code, status: mapped.status }).toEqual({ code, status });
  });

  it('passes other errors through', () => {
    const other = new Error('boom');
    expect(toDeskError(other)).toBe(other);
  });
});
