import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalHistoryBytes, parseHistoryJson } from '../../../audit/history';
import type { HistoryJson } from '../../../audit/history';
import { buildDecisionReport } from '../../../audit/report';
import { formatReport } from '../../../audit/report-format';

/** The decision report, derived from the committed approved-refund history alone. */
const fixture = join(__dirname, '..', '..', 'fixtures', 'histories', 'customer-refund-approved.json');
const text = readFileSync(fixture, 'utf8');
const load = (): HistoryJson => parseHistoryJson(text);

test('the stock history JSON round-trips through the canonical form, whatever order its maps arrive in', () => {
  const canonical = canonicalHistoryBytes(load()).toString('utf8');
  expect(JSON.parse(canonical)).toEqual(JSON.parse(text));
  expect(canonicalHistoryBytes(parseHistoryJson(canonical)).toString('utf8')).toBe(canonical);
  // The server sends protobuf map entries (payload metadata, search attributes) in no fixed order.
  const reversed = JSON.parse(text, (_key, value: unknown) =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).reverse())
      : value,
  );
  expect(canonicalHistoryBytes(parseHistoryJson(reversed)).toString('utf8')).toBe(canonical);
});

test('the six layers of the approved refund come out of the history with timestamps', () => {
  const history = load();
  const started = history.events[0].workflowExecutionStartedEventAttributes as Record<string, string>;
  const report = buildDecisionReport(history);
  expect(report).toMatchObject({
    workflowId: started.workflowId,
    runId: started.originalExecutionRunId,
    missionType: 'customer-refund',
    definitionVersion: expect.stringMatching(/^[0-9a-f]{64}$/),
    policyVersions: [expect.stringMatching(/^[0-9a-f]{64}$/)],
    workerBuildIds: [expect.stringContaining('@temporalio/worker@1.24.0')],
  });
  const { inputs, policy, decision, approvals, action, outcome } = report.layers;
  expect(inputs).toMatchObject({ initiator: 'dana.desk', input: { caseId: 'CASE-1002' }, at: expect.any(String) });
  expect(inputs.reads.map((r) => r.operation)).toEqual(['cases.get', 'orders.get', 'refunds.listForOrder']);
  expect(policy).toEqual([
    expect.objectContaining({ actionId: 'a1', ruleIds: [expect.any(String)], at: expect.any(String) }),
  ]);
  expect(decision).toEqual([
    expect.objectContaining({
      actionId: 'a1',
      operation: 'refunds.issue',
      outcome: 'require_approval',
      tier: 'supervisor',
      paramsHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    }),
  ]);
  expect(approvals).toEqual([
    expect.objectContaining({
      actionId: 'a1',
      approver: 'sam.supervisor',
      decision: 'approve',
      reason: 'checked',
      via: 'update',
      result: 'accepted',
      // Checked against the keys the history itself pinned at loadMission.
      signature: 'valid',
      keyId: expect.stringMatching(/^[0-9a-f]{16}$/),
      breakGlass: false,
    }),
  ]);
  expect(report.trust).toMatchObject({
    pinnedKeys: [expect.objectContaining({ may: ['approval', 'start', 'control'] }), expect.anything()],
    start: { initiator: 'dana.desk', signature: 'valid' },
    problems: [],
  });
  expect(action).toEqual([
    expect.objectContaining({
      actionId: 'a1',
      status: 'executed',
      paramsHash: decision[0].paramsHash,
      result: expect.objectContaining({ orderId: 'ORD-5002', amountCents: 45000 }),
    }),
  ]);
  expect(outcome).toMatchObject({ status: 'completed', verdict: 'completed', at: report.closedAt });
  // The fixture is re-recorded as the workflow grows: nothing the report knows may end up in a note.
  expect(report.notes.map((n) => n.note).join('\n')).not.toMatch(
    /loadMission|readData|decideAction|executeAction|grant/,
  );
});

test('unknown activities, messages and undecodable payloads become notes, never errors', () => {
  const history = load();
  const scheduled = history.events.find((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED')!;
  (scheduled.activityTaskScheduledEventAttributes as { activityType: { name: string } }).activityType.name =
    'killSwitchCheck';
  const update = history.events.find((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED')!;
  const attrs = update.workflowExecutionUpdateAcceptedEventAttributes as {
    acceptedRequest: { input: { args: { payloads: { metadata: Record<string, string> }[] } } };
  };
  attrs.acceptedRequest.input.args.payloads[0].metadata.encoding = Buffer.from('binary/encrypted').toString('base64');
  const report = buildDecisionReport(history);
  expect(report.notes.map((n) => n.note)).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/activity killSwitchCheck is not interpreted/),
      expect.stringMatching(/update decide input: payload is encrypted \(key id \?\): read it with the key ring/),
    ]),
  );
  expect(report.layers.outcome.verdict).toBe('completed');
});

test('every format names every layer; HTML and Markdown escape what they print', () => {
  const history = load();
  const started = history.events[0].workflowExecutionStartedEventAttributes as { workflowId: string };
  started.workflowId = '<script>alert("x")</script>|*';
  const report = buildDecisionReport(history);
  for (const format of ['text', 'markdown', 'html'] as const) {
    const out = formatReport(report, format);
    for (const layer of ['Inputs', 'Policy', 'Decision', 'Approvals', 'Action', 'Outcome'])
      expect(out).toContain(layer);
    expect(out).toContain(report.layers.policy[0].ruleIds[0]);
    expect(out).toContain('sam.supervisor');
  }
  const html = formatReport(report, 'html');
  expect(html).not.toContain('<script>');
  expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
  expect(formatReport(report, 'markdown')).toContain('\\<script\\>');
  expect(JSON.parse(formatReport(report, 'json'))).toEqual(JSON.parse(JSON.stringify(report)));
});

test('a grant whose claims do not match the executed action is flagged in the action layer', () => {
  const history = load();
  const scheduled = history.events.find(
    (e) =>
      (e.activityTaskScheduledEventAttributes as { activityType?: { name?: string } } | undefined)?.activityType
        ?.name === 'executeAction',
  )!;
  const payload = (scheduled.activityTaskScheduledEventAttributes as { input: { payloads: { data: string }[] } }).input
    .payloads[0];
  const input = JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8'));
  const started = history.events[0].workflowExecutionStartedEventAttributes as { workflowId: string };
  const claims = {
    missionId: started.workflowId,
    actionId: 'a1',
    operation: 'refunds.issue',
    paramsHash: 'f'.repeat(64),
  };
  input.grant = { claims, keyId: 'k', signature: 's' };
  payload.data = Buffer.from(JSON.stringify(input)).toString('base64');
  const [action] = buildDecisionReport(history).layers.action;
  expect(action.grantBinding).toMatch(/^MISMATCH: paramsHash differ/);
  expect(buildDecisionReport(load()).layers.action[0].grantBinding ?? 'bound to this action').toMatch(/^bound/);
});
