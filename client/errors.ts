import type { VoteRefusalCode } from '../contract/mission';

/** Errors of client operations, typed so each caller can say what went wrong in its own words. */

export class MissionNotFound extends Error {
  override name = 'MissionNotFound';
}

/** The mission refused a vote; `code` says why (the message is for people). */
export class VoteRefused extends Error {
  override name = 'VoteRefused';
  constructor(
    readonly code: VoteRefusalCode | 'mission_closed',
    message: string,
  ) {
    super(message);
  }
}

export class MissionClosed extends Error {
  override name = 'MissionClosed';
}
