import type { MissionActivityName } from '../contract/names';
import { decideActionActivity } from './decide-action';
import type { ActivityDeps } from './deps';
import { executeActionActivity } from './execute-action';
import { loadMissionActivity } from './load-mission';
import { mintGrantActivity } from './mint-grant';
import { notifyApproversActivity } from './notify';
import { readDataActivity } from './read-data';
import { reasonActivity } from './reason';

export type { ActivityDeps, GrantKeys } from './deps';

/**
 * The mission workflow's activities, built around their dependencies (see `workers/`). Each is a
 * thin step over a library, with its input schema beside it; the keys are the activity type names
 * of the contract, recorded in every history.
 */
export function createMissionActivities(deps: ActivityDeps) {
  const activities = {
    loadMission: loadMissionActivity(deps.catalog, deps.trustedSigners),
    reason: reasonActivity(deps.catalog, deps.reasoning, deps.connectors),
    readData: readDataActivity(deps.connectors),
    decideAction: decideActionActivity(deps),
    mintGrant: mintGrantActivity(deps.grants, deps.trustedSigners, deps.connectors),
    notifyApprovers: notifyApproversActivity(deps.notifier),
    executeAction: executeActionActivity(deps),
  };
  return activities satisfies Record<MissionActivityName, unknown>;
}

export type MissionActivities = ReturnType<typeof createMissionActivities>;
