import { MissionClosed, MissionNotFound, VoteRefused } from '../client/errors';
import type { PendingApproval, VoteRefusalCode } from '../contract/mission';
import type { GateView } from '../core/votes';
import { validateVote } from '../core/votes';
import type { Principal } from './auth';

/**
 * Why a vote is refused, as a code the pages, the JSON API and the CLI share. Whether a principal
 * may vote is decided by the workflow's own rules (`core/votes`), so the service never promises
 * what the mission would refuse; the workflow's refusals arrive as codes, never parsed from prose.
 */

/** Refusal codes and their HTTP status. */
export const REFUSALS = {
  unauthenticated: 401,
  csrf: 403,
  /** Reading a mission needs a role that may decide it, the auditor role, or having started it. */
  no_read_access: 403,
  not_your_tier: 403,
  initiator: 403,
  not_found: 404,
  not_pending: 409,
  already_decided: 409,
  expired: 409,
  mission_closed: 409,
  stale: 409,
  refused: 409,
  reason_required: 400,
  /** An approval must name the params hash the approver confirmed; it is never filled in for them. */
  binding_required: 400,
  bad_request: 400,
  rate_limited: 429,
  host_not_allowed: 421,
  internal: 500,
} as const;
export type RefusalCode = keyof typeof REFUSALS;

export class DeskError extends Error {
  override name = 'DeskError';
  constructor(
    readonly code: RefusalCode,
    message: string,
    /** The HTTP status when it is not the code's own (Fastify's 413, 414, 415…). */
    private readonly httpStatus?: number,
  ) {
    super(message);
  }
  get status(): number {
    return this.httpStatus ?? REFUSALS[this.code];
  }
}

/** The service's code for each of the workflow's vote refusal codes. */
const FROM_VOTE: Record<VoteRefusalCode, RefusalCode> = {
  malformed: 'bad_request',
  reason_required: 'reason_required',
  already_decided: 'already_decided',
  expired: 'expired',
  not_pending: 'not_pending',
  initiator: 'initiator',
  unbound: 'bad_request',
  stale: 'stale',
  not_your_step: 'not_your_tier',
  already_voted: 'already_decided',
  // The service signs every vote it forwards: these mean its key is not (or no longer) trusted.
  unsigned: 'refused',
  bad_signature: 'refused',
  untrusted_key: 'refused',
  signature_expired: 'refused',
  replayed: 'already_decided',
};

/** What {@link refusalFor} needs to know about a pending action. */
export type DecidableAction = Pick<
  PendingApproval,
  'actionId' | 'tier' | 'deadline' | 'roles' | 'paramsHash' | 'policyVersion'
> & { expired: boolean };

/** Why this principal may not vote on the action, or undefined when they may. */
export function refusalFor(
  principal: Principal,
  action: DecidableAction,
  gate: GateView,
): { code: RefusalCode; message: string } | undefined {
  if (action.expired) return { code: 'expired', message: `the deadline passed at ${action.deadline}` };
  const check = validateVote(
    {
      actionId: action.actionId,
      decision: 'approve',
      approver: principal.subject,
      roles: principal.roles,
      paramsHash: action.paramsHash,
      policyVersion: action.policyVersion,
    },
    gate,
  );
  if (check.ok) return undefined;
  const code = FROM_VOTE[check.code];
  return { code, message: inOurWords(check.code, principal, action) ?? check.message };
}

function inOurWords(code: VoteRefusalCode, principal: Principal, action: DecidableAction): string | undefined {
  switch (code) {
    case 'initiator':
      return 'you initiated this mission: separation of duties forbids deciding it';
    case 'not_your_step':
      return `this ${action.tier} step needs one of the roles ${action.roles.join(', ')}; you hold ${principal.roles.join(', ') || 'none'}`;
    case 'already_voted':
      return 'you already voted on this action';
    default:
      return undefined;
  }
}

/** Maps the client's errors (the workflow's refusals, missing or closed missions) onto refusal codes. */
export function toDeskError(err: unknown): Error {
  if (err instanceof MissionNotFound) return new DeskError('not_found', err.message);
  if (err instanceof MissionClosed) return new DeskError('mission_closed', err.message);
  if (err instanceof VoteRefused) {
    if (err.code === 'mission_closed') return new DeskError('mission_closed', err.message);
    return new DeskError(FROM_VOTE[err.code], err.message);
  }
  return err as Error;
}
