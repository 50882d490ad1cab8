import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { haltSignal, pauseSignal, resumeSignal } from '../contract/messages';
import type { ControlInput } from '../contract/mission';
import { quote, where } from '../core/visibility';
import { MissionNotFound } from './errors';
import { listMissions } from './missions';

/** The kill switch from the client side: halt, pause and resume. */

export type ControlKind = 'halt' | 'pause' | 'resume';

/** Sends a kill-switch control to one mission. */
export async function sendControl(
  client: Client,
  missionId: string,
  kind: ControlKind,
  input: ControlInput,
): Promise<void> {
  const signal = { halt: haltSignal, pause: pauseSignal, resume: resumeSignal }[kind];
  try {
    await client.workflow.getHandle(missionId).signal(signal, input);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new MissionNotFound(`no running mission ${missionId}`);
    throw err;
  }
}

/** Halts every running mission (optionally of one type, or on one task queue); returns the ids it signalled. */
export async function haltAll(
  client: Client,
  input: ControlInput,
  missionType?: string,
  taskQueue?: string,
): Promise<string[]> {
  const running = await listMissions(client, {
    where: where(
      `ExecutionStatus = 'Running'`,
      missionType && `MissionType = ${quote(missionType)}`,
      taskQueue && `TaskQueue = ${quote(taskQueue)}`,
    ),
    limit: 10_000,
  });
  const halted: string[] = [];
  await Promise.all(
    running.map(async (m) => {
      try {
        await sendControl(client, m.missionId, 'halt', input);
        halted.push(m.missionId);
      } catch (err) {
        if (!(err instanceof MissionNotFound)) throw err;
      }
    }),
  );
  return halted.sort();
}
