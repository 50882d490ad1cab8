import type { FinishClaim, MissionVerdict } from '../contract/mission';

/**
 * The verdict is the system's account of what happened, whatever the model says. A mission ends for
 * one reason (the model finished, policy denied, people rejected, a halt, a budget); the verdict
 * combines it with what executed:
 *
 * | ended by                       | nothing executed | something executed        |
 * |--------------------------------|------------------|---------------------------|
 * | the model: "completed"         | `declined` (claim unverified) | `completed`  |
 * | the model: "declined"          | `declined`       | `completed`               |
 * | policy, a check, or a refusal  | `denied`         | `completed_with_refusals` |
 * | people (or the ladder timeout) | `rejected`       | `completed_with_refusals` |
 * | halt / budget                  | `halted` / `over_budget` (the executed list says what ran) |
 */
export type MissionEnding = 'completed' | 'declined' | 'denied' | 'rejected' | 'halted' | 'over_budget';

export function verdictFor(ending: MissionEnding, executed: number): MissionVerdict {
  if (ending === 'halted' || ending === 'over_budget') return ending;
  if (executed > 0) return ending === 'denied' || ending === 'rejected' ? 'completed_with_refusals' : 'completed';
  return ending === 'completed' ? 'declined' : ending;
}

/** The model's finish claim, checked against what executed. */
export function checkClaim(claimed: 'completed' | 'declined', executed: number): FinishClaim {
  return { verdict: claimed, verified: claimed === 'declined' || executed > 0 };
}
