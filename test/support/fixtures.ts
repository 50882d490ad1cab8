import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HistoryJson } from '../../audit/history';
import { parseHistoryJson } from '../../audit/history';

/**
 * The committed histories: an approved refund recorded by the current workflow (every vote and the
 * start signed), and the same mission recorded before the trust chain existed (unsigned votes).
 */
const FIXTURES = join(__dirname, '..', 'fixtures', 'histories');
export const APPROVED_HISTORY = join(FIXTURES, 'customer-refund-approved.json');
export const UNSIGNED_HISTORY = join(FIXTURES, 'unsigned', 'customer-refund-approved.json');

/**
 * The approved history as run `n` of the same mission (a distinct run id, so a distinct bundle; the
 * workflow id stays, since every signature in it names the mission).
 */
export function approvedHistory(n: number, mutate?: (h: HistoryJson) => void, path = APPROVED_HISTORY): HistoryJson {
  const history = parseHistoryJson(readFileSync(path, 'utf8'));
  const started = history.events[0].workflowExecutionStartedEventAttributes as Record<string, string>;
  started.originalExecutionRunId = runIdOf(n);
  mutate?.(history);
  return history;
}

export const runIdOf = (n: number) => `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`;

/** The decoded input of the first accepted vote Update, for tests that change it. */
export function firstVote(history: HistoryJson): { input: Record<string, unknown>; save(): void } {
  const event = history.events.find((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED')!;
  const payload = (
    event.workflowExecutionUpdateAcceptedEventAttributes as {
      acceptedRequest: { input: { args: { payloads: { data: string }[] } } };
    }
  ).acceptedRequest.input.args.payloads[0];
  const input = JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8')) as Record<string, unknown>;
  return { input, save: () => (payload.data = Buffer.from(JSON.stringify(input)).toString('base64')) };
}
