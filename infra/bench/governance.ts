import type { Client } from '@temporalio/client';
import { Catalog } from '../../catalog/catalog';
import { startMission } from '../../client/missions';
import type { StartSigner } from '../../client/missions';
import type { MissionResult } from '../../contract/mission';

/**
 * Governance overhead: missions per second of the governed refund mission (policy allows, no
 * human) versus a bare workflow running the same number of no-op activities, on the same server
 * and worker, in one run.
 */
export interface GovernanceResult {
  missions: number;
  activitiesPerMission: number;
  governed: { seconds: number; perSecond: number };
  bare: { seconds: number; perSecond: number };
  /** governed rate / bare rate: 1.0 means governance costs nothing beyond its activities. */
  ratio: number;
}

export async function benchGovernance(
  client: Client,
  signer: StartSigner,
  queues: { missions: string; baseline: string },
  missions: number,
  firstCase: number,
): Promise<GovernanceResult> {
  const taskQueue = queues.missions;
  const catalog = Catalog.load();
  const caseIds = Array.from({ length: missions }, (_, i) => `CASE-${firstCase + i}`);

  const governedStart = performance.now();
  const ids = await Promise.all(
    caseIds.map((caseId) =>
      startMission(client, {
        catalog,
        taskQueue,
        missionType: 'customer-refund',
        input: { caseId },
        initiator: 'bench',
        signer,
      }),
    ),
  );
  const results = await Promise.all(ids.map((id) => client.workflow.getHandle(id).result() as Promise<MissionResult>));
  const governedSeconds = (performance.now() - governedStart) / 1000;
  const notCompleted = results.filter((r) => r.verdict !== 'completed' || r.executedActions.length !== 1);
  if (notCompleted.length) throw new Error(`${notCompleted.length} governed missions did not complete with one action`);

  // Same number of activities as one governed mission actually ran.
  let activitiesPerMission = 0;
  for (const event of (await client.workflow.getHandle(ids[0]).fetchHistory()).events ?? []) {
    if (event.activityTaskScheduledEventAttributes) activitiesPerMission++;
  }

  const bareStart = performance.now();
  await Promise.all(
    caseIds.map((_, i) =>
      client.workflow.execute('bareActivities', {
        workflowId: `bench-bare-${Date.now()}-${i}`,
        taskQueue: queues.baseline,
        args: [activitiesPerMission],
      }),
    ),
  );
  const bareSeconds = (performance.now() - bareStart) / 1000;

  const governed = { seconds: round(governedSeconds), perSecond: round(missions / governedSeconds) };
  const bare = { seconds: round(bareSeconds), perSecond: round(missions / bareSeconds) };
  return { missions, activitiesPerMission, governed, bare, ratio: round(governed.perSecond / bare.perSecond) };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
