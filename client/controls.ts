import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { haltSignal, pauseSignal, resumeSignal } from '../contract/messages';
import type { ControlInput, ControlKind, MissionResult } from '../contract/mission';
import { quote, where } from '../core/visibility';
import { MissionNotFound } from './errors';
import { listMissions, missionState } from './missions';

/** The kill switch from the client side: halt, pause and resume. */

export type { ControlKind } from '../contract/mission';

/** Sends a (signed) kill-switch control to one mission. */
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

/**
 * Halts every running mission (optionally of one type, or on one task queue); returns the ids it
 * signalled. `sign` makes each mission's halt (a signature names one mission).
 */
export async function haltAll(
  client: Client,
  sign: (missionId: string) => ControlInput,
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
        await sendControl(client, m.missionId, 'halt', sign(m.missionId));
        halted.push(m.missionId);
      } catch (err) {
        if (!(err instanceof MissionNotFound)) throw err;
      }
    }),
  );
  return halted.sort();
}

/** What became of a halt: the mission closed (with its verdict and what it executed), or not yet. */
export interface HaltConfirmation {
  missionId: string;
  closed: boolean;
  /** The closed mission's verdict (`halted`, or another if it finished first), or its status while open. */
  verdict?: string;
  status?: string;
  executedActions?: string[];
}

/**
 * Waits (bounded) until a halted mission has closed and says how: a halt is confirmed by the
 * mission's closed state, not by the signal having been sent. An execution already running is one
 * short transaction; it completes and shows in `executedActions`.
 */
export async function confirmHalt(client: Client, missionId: string, timeoutMs = 20_000): Promise<HaltConfirmation> {
  const handle = client.workflow.getHandle(missionId);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status } = await handle.describe();
    if (status.name === 'COMPLETED') {
      const result = (await handle.result()) as MissionResult;
      return { missionId, closed: true, verdict: result.verdict, executedActions: result.executedActions };
    }
    if (status.name !== 'RUNNING') return { missionId, closed: true, status: status.name.toLowerCase() };
    if (Date.now() > deadline) {
      const state = await missionState(client, missionId).catch(() => undefined);
      return { missionId, closed: false, status: state?.status ?? 'running' };
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** One line for a person: "… closed halted (executed a1)" or "… still running". */
export function describeHalt(c: HaltConfirmation): string {
  if (!c.closed) return `${c.missionId}: halt received, still ${c.status} (it closes before its next step)`;
  const executed = c.executedActions?.length ? `; executed before the halt: ${c.executedActions.join(', ')}` : '';
  return `${c.missionId}: closed ${c.verdict ?? c.status}${executed}`;
}
