import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { installTestRuntime } from '../harness/context';
import { harness } from '../harness/settings';

/**
 * Replays committed mission histories against the current workflow code. A failure here means a
 * workflow change is not replay-safe: version it with `patched()` instead of changing behaviour.
 */
installTestRuntime();
const histories = join(__dirname, '..', 'fixtures', 'histories');
/** The mission id of a history: signatures in it name the mission, so a replay must run under its own id. */
const idOf = (history: { events: { workflowExecutionStartedEventAttributes?: { workflowId?: string } }[] }) =>
  history.events[0].workflowExecutionStartedEventAttributes?.workflowId;

test('the approved customer-refund history replays against the current workflow code', async () => {
  const history = JSON.parse(readFileSync(join(histories, 'customer-refund-approved.json'), 'utf8'));
  await expect(
    Worker.runReplayHistory({ workflowBundle: { codePath: harness().bundlePath } }, history, idOf(history)),
  ).resolves.toBeUndefined();
});

test('replayed under another mission id, the signed start no longer verifies: the workflow refuses it', async () => {
  const history = JSON.parse(readFileSync(join(histories, 'customer-refund-approved.json'), 'utf8'));
  await expect(
    Worker.runReplayHistory({ workflowBundle: { codePath: harness().bundlePath } }, history, 'another-mission'),
  ).rejects.toThrow(/[Nn]ondeterminis|DeterminismViolation/);
});

test('a history whose recorded steps differ from the code is reported as a determinism violation', async () => {
  const history = JSON.parse(readFileSync(join(histories, 'customer-refund-approved.json'), 'utf8'));
  // Rename the first scheduled activity: the code schedules loadMission, the history now says otherwise.
  const scheduled = history.events.find(
    (e: { eventType: string }) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED',
  );
  scheduled.activityTaskScheduledEventAttributes.activityType.name = 'somethingElse';
  await expect(
    Worker.runReplayHistory({ workflowBundle: { codePath: harness().bundlePath } }, history, idOf(history)),
  ).rejects.toThrow(/[Nn]ondeterminis|DeterminismViolation/);
});
