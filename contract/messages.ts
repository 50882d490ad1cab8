import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ControlInput, MissionStateView, Observation, VoteInput, VoteResult } from './mission';

/**
 * Every message the outside world sends a mission. The CLI, the approvals service and the tests
 * import these constants, never the string names. The vote's wire names (`decide`, `decideSignal`)
 * predate the word "vote" and are recorded in histories, so they stay.
 */
export const voteUpdate = defineUpdate<VoteResult, [VoteInput]>('decide');
export const voteSignal = defineSignal<[VoteInput]>('decideSignal');
export const haltSignal = defineSignal<[ControlInput]>('halt');
export const pauseSignal = defineSignal<[ControlInput]>('pause');
export const resumeSignal = defineSignal<[ControlInput]>('resume');
export const observationsQuery = defineQuery<Observation[]>('observations');
export const stateQuery = defineQuery<MissionStateView>('state');

/** Failure type of a refused vote; its details carry `{ code: VoteRefusalCode }`. */
export const VOTE_REFUSED = 'VoteRefused';
