import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readArchive, writeArchive } from '../../../audit/archive';
import { bundlePrefix } from '../../../audit/bundle';
import { AuditExporter } from '../../../audit/exporter';
import type { HistoryJson } from '../../../audit/history';
import { parseHistoryJson } from '../../../audit/history';
import { AuditLog } from '../../../audit/log';
import { PACKAGE_FILES, buildPackage, verifyPackage } from '../../../audit/package';
import { reportForBundle } from '../../../audit/readable-report';
import { formatReport } from '../../../audit/report-format';
import { REPORT_CSS, REPORT_CSS_HASH } from '../../../audit/report-html';
import type { TrustedKeys } from '../../../audit/report-verification';
import { MemoryAuditStore } from '../../../audit/store-memory';
import type { VoteInput } from '../../../contract/mission';
import { generateKeyPair } from '../../../core/signed-note';
import { createHash } from 'node:crypto';

/**
 * The auditor's view from a store: the verdict banner (each check ✓/✗/– with its reason and key id),
 * the timeline, and the evidence package — deterministic, verified offline, any changed file named.
 */
const fixture = readFileSync(join(__dirname, '..', '..', 'fixtures', 'histories', 'customer-refund-approved.json'));
const logKeys = generateKeyPair('mandate-audit-test');
const origin = 'mandate/audit/report';

const original = parseHistoryJson(fixture).events[0].workflowExecutionStartedEventAttributes as Record<string, string>;
/** Mission `n`'s ids; 0 keeps the fixture's own (its grant names them). */
const run = (n: number) =>
  n === 0
    ? { workflowId: original.workflowId, runId: original.originalExecutionRunId }
    : { workflowId: `customer-refund-${n}`, runId: `00000000-0000-0000-0000-${String(n).padStart(12, '0')}` };

/**
 * The fixture as mission `n` (its start and vote signed for mission 0 only), its vote as recorded or
 * forged by "mallory" (the signed message no longer matches).
 */
function historyOf(n: number, vote: 'signed' | 'forged' = 'signed'): HistoryJson {
  const history = parseHistoryJson(fixture);
  const started = history.events[0].workflowExecutionStartedEventAttributes as Record<string, string>;
  started.workflowId = run(n).workflowId;
  started.originalExecutionRunId = run(n).runId;
  const event = history.events.find((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED')!;
  const payload = (
    event.workflowExecutionUpdateAcceptedEventAttributes as {
      acceptedRequest: { input: { args: { payloads: { data: string }[] } } };
    }
  ).acceptedRequest.input.args.payloads[0];
  const input = JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8')) as VoteInput;
  if (vote === 'forged') input.approver = 'mallory';
  payload.data = Buffer.from(JSON.stringify(input)).toString('base64');
  return history;
}

async function exported(): Promise<MemoryAuditStore> {
  const store = new MemoryAuditStore();
  const exporter = new AuditExporter({ store, signerKey: logKeys.signerKey, origin });
  await exporter.exportHistory(historyOf(0));
  await exporter.exportHistory(historyOf(2, 'forged'));
  await exporter.checkpoint();
  return store;
}

const keys: TrustedKeys = { checkpoint: [logKeys.verifierKey] };

async function readable(store: MemoryAuditStore, n: number, k: TrustedKeys = keys) {
  const { workflowId, runId } = run(n);
  return reportForBundle(store, await AuditLog.load(store, origin), workflowId, runId, k);
}

test('the banner says what happened in one sentence and checks every link', async () => {
  const { report, verification, timeline } = await readable(await exported(), 0);
  expect(verification?.checks.map((c) => [c.layer, c.status])).toEqual([
    ['history', 'ok'],
    ['checkpoint', 'ok'],
    ['inclusion', 'ok'],
    ['witnesses', 'not checked'],
    ['start', 'ok'],
    ['approval', 'ok'],
    ['grant', 'not checked'],
  ]);
  // Votes are checked against the keys the history pinned at loadMission.
  const pinned = report.trust.pinnedKeys.map((k) => k.keyId);
  expect(pinned).toContain(verification?.checks.find((c) => c.layer === 'approval')?.keyId);
  expect(pinned).toContain(verification?.checks.find((c) => c.layer === 'start')?.keyId);
  expect(verification?.status).toBe('partly verified');
  const html = formatReport(report, 'html', { verification, timeline });
  expect(html).toContain(
    `Mission ${run(0).workflowId} (customer-refund), started by dana.desk, ended completed: a1 refunds.issue of 450.00 USD needed supervisor approval, was approved by sam.supervisor and executed.`,
  );
  expect(html).toMatch(/<li class="ok"><span class="mark">✓<\/span><b>History hash<\/b>/);
  expect(html).toContain('<b>450.00 USD</b>');
  expect(html).toContain('<svg');
  expect(html).toMatch(/a1 waited [\d.]+ (s|min) for supervisor; sam.supervisor approved/);
  expect(html).not.toMatch(/<script/i);
  // The only style is the inline sheet whose hash a Content-Security-Policy can name.
  expect(html).toContain(`<style>${REPORT_CSS}</style>`);
  expect(REPORT_CSS_HASH).toBe(`'sha256-${createHash('sha256').update(REPORT_CSS).digest('base64')}'`);
  const md = formatReport(report, 'markdown', { verification, timeline });
  expect(md).toContain('## Verdict');
  expect(md).toContain('| ✓ Approval: sam.supervisor approve a1 |');
});

test('a tampered history and a vote by an unknown "mallory" show ✗ with the reason, in HTML and JSON', async () => {
  const store = await exported();
  const key = `${bundlePrefix(run(0).workflowId, run(0).runId)}history.json`;
  const stored = store.objects.get(key)!;
  const bytes = Buffer.from(stored);
  bytes[stored.indexOf('"eventTime": "') + 20] ^= 0x01; // a digit of a time: still valid JSON
  store.objects.set(key, bytes);
  const tampered = await readable(store, 0);
  const html = formatReport(tampered.report, 'html', tampered);
  expect(html).toContain('<header class="banner failed">');
  expect(html).toMatch(
    /<li class="failed"><span class="mark">✗<\/span><b>History hash<\/b> <span class="reason">history.json sha256 [0-9a-f]{12}… differs from the manifest/,
  );
  const json = JSON.parse(formatReport(tampered.report, 'json', tampered));
  expect(json.verification).toMatchObject({
    status: 'failed',
    checks: expect.arrayContaining([
      expect.objectContaining({
        layer: 'history',
        status: 'failed',
        reason: expect.stringMatching(/differs from the manifest/),
      }),
    ]),
  });

  // A flip that breaks the JSON: the banner still says so, over the bundle's report.json.
  const broken = Buffer.from(stored);
  broken[stored.indexOf('{')] = 0x20;
  broken[1] = 0x7d;
  store.objects.set(key, broken);
  const unreadable = await readable(store, 0);
  expect(unreadable.verification?.checks[0]).toMatchObject({ layer: 'history', status: 'failed' });
  expect(formatReport(unreadable.report, 'html', unreadable)).toContain('history.json cannot be read');

  const forged = await readable(store, 2);
  expect(forged.verification?.checks.find((c) => c.layer === 'approval')).toMatchObject({
    label: 'Approval: mallory approve a1',
    status: 'failed',
    reason: expect.stringMatching(/^signature does not verify: /),
    keyId: tampered.report.layers.approvals[0].keyId,
  });
  expect(forged.verification?.status).toBe('failed');
  expect(formatReport(forged.report, 'html', forged)).toMatch(
    /<li class="failed"><span class="mark">✗<\/span><b>Approval: mallory approve a1<\/b>/,
  );
});

describe('the evidence package', () => {
  test('is deterministic, verifies offline, and names any file that was changed', async () => {
    const store = await exported();
    const { evidence } = await reportForBundle(
      store,
      await AuditLog.load(store, origin),
      run(0).workflowId,
      run(0).runId,
      keys,
      {
        checkpoint: 'earliest',
      },
    );
    for (const out of ['p.tar.gz', 'p.zip']) {
      const first = buildPackage(evidence, keys, out);
      // Another export later does not change the package: it proves inclusion in the earliest checkpoint.
      const exporter = new AuditExporter({ store, signerKey: logKeys.signerKey, origin });
      await exporter.exportHistory(historyOf(3 + out.length));
      await exporter.checkpoint();
      const again = await reportForBundle(
        store,
        await AuditLog.load(store, origin),
        run(0).workflowId,
        run(0).runId,
        keys,
        {
          checkpoint: 'earliest',
        },
      );
      expect(buildPackage(again.evidence, keys, out).equals(first)).toBe(true);

      const result = verifyPackage(first);
      expect(result).toMatchObject({ ok: true, problems: [], workflowId: run(0).workflowId });
      const files = readArchive(first);
      expect([...files.keys()].sort()).toEqual(
        Object.values(PACKAGE_FILES)
          .filter((f) => f !== PACKAGE_FILES.witnessPolicy)
          .sort(),
      );
      for (const name of files.keys()) {
        const changed = new Map(files);
        const bytes = Buffer.from(files.get(name)!);
        bytes[Math.floor(bytes.length / 2)] ^= 0x04;
        changed.set(name, bytes);
        const broken = verifyPackage(writeArchive(changed, out.endsWith('.zip'), new Date(0)));
        expect(broken.ok).toBe(false);
        expect(broken.problems.map((p) => p.file)).toContain(name);
      }
      const extra = new Map(files).set('bundle/attachments/evidence.json', Buffer.from('{}'));
      expect(verifyPackage(writeArchive(extra, false, new Date(0))).problems).toEqual(
        expect.arrayContaining([
          { file: 'bundle/attachments/evidence.json', problem: 'not part of an evidence package' },
        ]),
      );
      const other = generateKeyPair('mandate-audit-test').verifierKey;
      expect(verifyPackage(first, { checkpoint: [other] }).problems).toEqual([
        { file: PACKAGE_FILES.checkpointKeys, problem: 'is not the checkpoint key you gave' },
      ]);
    }
  });
});
