import { DecisionRefused, MissionClosed, MissionNotFound } from '../../../core/client/missions';
import { DeskError, refusalFor, toDeskError } from '../../../approvals-ui/refusals';
import type { Principal } from '../../../approvals-ui/auth';

const sam: Principal = { subject: 'sam', roles: ['supervisor'], via: 'token' };
const action = {
  tier: 'supervisor',
  deadline: '2999-01-01T00:00:00Z',
  expired: false,
  roles: ['supervisor', 'support-manager'],
  votes: [] as { approver: string }[],
};

describe('who may decide', () => {
  it('a holder of a role of the step who did not initiate the mission and has not voted', () => {
    expect(refusalFor(sam, action, 'agent')).toBeUndefined();
  });

  it.each<[string, Principal, Partial<typeof action>, string, string]>([
    ['expired first', sam, { expired: true }, 'sam', 'expired'],
    ['the initiator', sam, {}, 'sam', 'initiator'],
    ['no role of the step', { ...sam, roles: ['finance'] }, {}, 'agent', 'not_your_tier'],
    ['no roles at all', { ...sam, roles: [] }, {}, 'agent', 'not_your_tier'],
    ['a second vote', sam, { votes: [{ approver: 'sam' }] }, 'agent', 'already_decided'],
  ])('refuses %s', (_name, principal, change, initiator, code) => {
    expect(refusalFor(principal, { ...action, ...change }, initiator)).toMatchObject({ code });
  });
});

describe('workflow refusals as codes', () => {
  it.each<[Error, string, number]>([
    [new MissionNotFound('no mission m'), 'not_found', 404],
    [new MissionClosed('closed'), 'mission_closed', 409],
    [
      new DecisionRefused('decision already taken: action a1 was rejected by the approval timeout (fail closed)'),
      'expired',
      409,
    ],
    [new DecisionRefused('decision already taken: action a1 was approved by sam'), 'already_decided', 409],
    [new DecisionRefused('separation of duties: x initiated this mission'), 'initiator', 403],
    [new DecisionRefused('a reason is required to reject'), 'reason_required', 400],
    [new DecisionRefused('something new'), 'refused', 409],
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
