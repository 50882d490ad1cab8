import { DecisionRefused, MissionClosed, MissionNotFound } from '../core/client/missions';
import type { Principal } from './auth';

/**
 * Why a decision is refused, as a code the pages, the JSON API and the CLI share, and the rules
 * that decide whether a principal may decide an action at all.
 */

/** Refusal codes and their HTTP status. */
export const REFUSALS = {
  unauthenticated: 401,
  csrf: 403,
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
  bad_request: 400,
  rate_limited: 429,
} as const;
export type RefusalCode = keyof typeof REFUSALS;

export class DeskError extends Error {
  override name = 'DeskError';
  constructor(
    readonly code: RefusalCode,
    message: string,
  ) {
    super(message);
  }
  get status(): number {
    return REFUSALS[this.code];
  }
}

/** What {@link refusalFor} needs to know about a pending action. */
export interface DecidableAction {
  tier: string;
  deadline: string;
  expired: boolean;
  roles: string[];
  votes: { approver: string }[];
}

/** Why this principal may not decide the action, or undefined when they may. */
export function refusalFor(
  principal: Principal,
  action: DecidableAction,
  initiator: string,
): { code: RefusalCode; message: string } | undefined {
  if (action.expired) return { code: 'expired', message: `the deadline passed at ${action.deadline}` };
  if (principal.subject === initiator) {
    return { code: 'initiator', message: `you initiated this mission: separation of duties forbids deciding it` };
  }
  if (!principal.roles.some((r) => action.roles.includes(r))) {
    return {
      code: 'not_your_tier',
      message: `this ${action.tier} step needs one of the roles ${action.roles.join(', ')}; you hold ${principal.roles.join(', ') || 'none'}`,
    };
  }
  if (action.votes.some((v) => v.approver === principal.subject)) {
    return { code: 'already_decided', message: 'you already voted on this action' };
  }
  return undefined;
}

/** Maps the workflow's refusals (and missing or closed missions) onto refusal codes. */
export function toDeskError(err: unknown): Error {
  if (err instanceof MissionNotFound) return new DeskError('not_found', err.message);
  if (err instanceof MissionClosed) return new DeskError('mission_closed', err.message);
  if (err instanceof DecisionRefused) {
    if (/approval timeout/.test(err.message)) return new DeskError('expired', err.message);
    if (/already taken/.test(err.message)) return new DeskError('already_decided', err.message);
    if (/separation of duties/.test(err.message)) return new DeskError('initiator', err.message);
    if (/reason is required/.test(err.message)) return new DeskError('reason_required', err.message);
    return new DeskError('refused', err.message);
  }
  return err as Error;
}
