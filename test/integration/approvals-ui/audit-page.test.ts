import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createLocalToken } from '../../../approvals-ui/local-tokens';
import { AuditExporter } from '../../../audit/exporter';
import { verifyPackage } from '../../../audit/package';
import { FsAuditStore } from '../../../audit/store-fs';
import { exportOnCloseWorkflowId } from '../../../contract/audit';
import { generateKeyPair } from '../../../core/signed-note';
import { buildWorkerDeps } from '../../../workers/deps';
import { startMissionWorker } from '../../../workers/worker';
import type { RunningWorker } from '../../../workers/worker';
import { createTestContext } from '../../harness/context';
import type { TestContext } from '../../harness/context';
import { harness, testSettings } from '../../harness/settings';
import { approvedHistory, firstVote } from '../../support/fixtures';
import { castSigned, TEST_SIGNERS } from '../../support/trust';
import { awaitingApproval, result, startRefund, waitForState } from '../helpers';
import { CHROMIUM, launchChromium } from './browser';
import { startService } from './fixture';
import type { RunningService } from './fixture';
import type { TestWitness } from '../../support/witness';
import { startTestWitness } from '../../support/witness';

/**
 * The auditor's Audit page in real headless Chromium: exported missions with their verification
 * status and filters; a report page with its banner, timeline and sections, for a normal mission
 * (every link ✓) and one whose vote does not verify (✗, named); the PDF and the evidence package
 * links; and no Audit page for an approver.
 */
const ROOT = join(__dirname, '..', '..', '..');
const SCREENSHOTS = testSettings.updateScreenshots
  ? join(ROOT, 'docs', 'screenshots')
  : join(ROOT, '.mandate', 'test-run', 'screenshots');
const root = mkdtempSync(join(tmpdir(), 'mandate-audit-page-'));
const store = new FsAuditStore({ root: join(root, 'store') });
const logKeys = generateKeyPair('mandate-audit');
const origin = 'mandate/audit/default';
let t: TestContext;
let native: NativeConnection;
let worker: RunningWorker | undefined;
let witness: TestWitness;
let service: RunningService;
let browser: Browser;
let auditorToken: string;
let normal = '';
const contexts: BrowserContext[] = [];
/** A recorded history (the committed fixture, as another run) whose signed vote now claims to be by "mallory". */
const forgedHistory = approvedHistory(901, (h) => {
  const vote = firstVote(h);
  vote.input.approver = 'mallory';
  vote.save();
});
const forged = (forgedHistory.events[0].workflowExecutionStartedEventAttributes as { workflowId: string }).workflowId;

beforeAll(async () => {
  browser = await launchChromium();
  t = await createTestContext('audit-page');
  native = await NativeConnection.connect({ address: t.address });
  witness = await startTestWitness({
    name: 'witness.example/w1',
    origin,
    logVerifierKey: logKeys.verifierKey,
    dir: root,
  });
  const { url } = witness;
  const grantKeyFile = join(root, 'grant-ed25519.json');
  const audit = {
    store,
    signerKey: logKeys.signerKey,
    origin,
    witnesses: [{ url, verifierKey: witness.verifierKey }],
  };
  worker = await startMissionWorker({
    connection: native,
    taskQueue: t.taskQueue,
    deps: buildWorkerDeps({ enterpriseDb: t.dbPath, grantKeyFile, trustedSigners: TEST_SIGNERS }),
    workflowBundle: { codePath: harness().bundlePath },
    dataConverter: t.dataConverter, // payloads encrypted with the run's key ring, as the test client does
    audit,
  });

  // A refund a supervisor approves through the approvals service's signature, exported on close.
  normal = await startRefund(t.client, t.taskQueue, 'CASE-1002');
  await waitForState(t.client, normal, awaitingApproval);
  await castSigned(t.client, normal, {
    actionId: 'a1',
    decision: 'approve',
    approver: 'sam.supervisor@example.com',
    roles: ['supervisor'],
    reason: 'photos of the leak attached',
  });
  await result(t.client, normal);
  const { runId } = await t.client.workflow.getHandle(normal).describe();
  await t.client.workflow.getHandle(exportOnCloseWorkflowId(normal, runId)).result();

  const exporter = new AuditExporter(audit);
  await exporter.exportHistory(forgedHistory);
  await exporter.checkpoint();

  service = await startService(
    t,
    {
      audit: {
        store,
        origin,
        chromium: CHROMIUM,
        keyRing: t.keyRing, // the exported run's history is encrypted: reports read it with the ring
        keys: {
          checkpoint: [logKeys.verifierKey],
          witnesses: { keys: [witness.verifierKey] },
          grants: [JSON.parse(readFileSync(grantKeyFile, 'utf8')).publicKeyPem],
        },
      },
    },
    'localhost',
  );
  auditorToken = createLocalToken(service.tokensFile, 'ada.auditor@example.com', ['auditor']);
  mkdirSync(SCREENSHOTS, { recursive: true });
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await service?.close();
  await worker?.stop();
  await native?.close();
  await witness?.close();
  await t?.close();
  rmSync(root, { recursive: true, force: true });
});

async function signIn(token: string, width = 1100): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height: 900 }, baseURL: service.url });
  contexts.push(context);
  context.setDefaultTimeout(30_000);
  const page = await context.newPage();
  await page.goto('/login');
  await page.fill('#token', token);
  await page.click('button[type=submit]');
  await page.waitForURL(`${service.url}/`);
  return page;
}

test('the Audit page lists exported missions with their verification status, and filters them', async () => {
  const page = await signIn(auditorToken);
  await page.goto('/audit');
  expect(await page.textContent('[data-testid=audit-count]')).toMatch(/^2 exported mission runs/);
  const rows = page.locator('[data-testid=audit-row]');
  expect(await rows.filter({ hasText: normal }).textContent()).toMatch(
    /completed[\s\S]*sam\.supervisor@example\.com[\s\S]*✓ verified/,
  );
  expect(await rows.filter({ hasText: forged }).textContent()).toMatch(
    /mallory[\s\S]*✗ failed[\s\S]*Approval: mallory approve a1/,
  );
  await page.screenshot({ path: join(SCREENSHOTS, 'audit.png'), fullPage: true });

  await page.fill('input[name=approver]', 'mallory');
  await page.click('form.filters button[type=submit]');
  expect(await page.textContent('[data-testid=audit-count]')).toMatch(/^1 exported mission run,/);
  await page.goto(`/audit?from=2000-01-01&to=2000-12-31`);
  expect(await page.textContent('[data-testid=audit-count]')).toMatch(/^0 exported/);
});

test('a report page shows the banner, the timeline and the sections; the PDF and the package download', async () => {
  const page = await signIn(auditorToken);
  await page.goto('/audit');
  await page.click(`a:text("${normal}")`);
  await page.waitForURL(/\/audit\/runs\/.*\/report$/);
  expect(await page.textContent('header.banner')).toMatch(/Verified: every link checks out/);
  // history, checkpoint, inclusion, witnesses, the start, the vote and the grant.
  expect(await page.locator('header.banner li.ok').count()).toBe(7);
  expect(await page.textContent('header.banner')).toMatch(/✓Start by .* signed with a key pinned in the history/);
  expect(await page.textContent('header.banner .headline')).toContain(
    'was approved by sam.supervisor@example.com and executed',
  );
  expect(await page.locator('section.timeline svg rect').count()).toBeGreaterThan(5);
  for (const layer of ['1. Inputs', '2. Policy', '3. Decision', '4. Approvals', '5. Action', '6. Outcome', 'Signers'])
    expect(await page.locator(`h2:text-is("${layer}")`).count()).toBe(1);
  // The style sheet applied (served from the service, within its CSP): the banner is green.
  expect(
    await page
      .locator('header.banner')
      .evaluate(
        (e) =>
          (globalThis as unknown as { getComputedStyle(el: unknown): { borderTopColor: string } }).getComputedStyle(e)
            .borderTopColor,
      ),
  ).toBe('rgb(26, 127, 55)');
  await page.screenshot({ path: join(SCREENSHOTS, 'report.png'), fullPage: true });

  const pdf = await page.request.get(page.url().replace(/report$/, 'report.pdf'));
  expect(pdf.headers()['content-type']).toBe('application/pdf');
  expect((await pdf.body()).subarray(0, 5).toString()).toBe('%PDF-');
  const pkg = await page.request.get(page.url().replace(/report$/, 'evidence.zip'));
  expect(verifyPackage(await pkg.body(), { checkpoint: [logKeys.verifierKey] })).toMatchObject({ ok: true });

  await page.goto('/audit');
  await page.click(`a:text("${forged}")`);
  expect(await page.textContent('header.banner')).toMatch(/Verification FAILED/);
  expect(await page.textContent('header.banner li.failed')).toMatch(
    /✗Approval: mallory approve a1 signature does not verify: .* key [0-9a-f]{16}/,
  );
  await page.screenshot({ path: join(SCREENSHOTS, 'report-unverifiable-vote.png'), fullPage: true });
});

test('the Audit page is for auditors only', async () => {
  const page = await signIn(service.tokens.sam);
  const response = await page.goto('/audit');
  expect(response?.status()).toBe(403);
  expect(await page.textContent('main')).toMatch(/for the auditor role/);
  expect((await page.request.get('/audit/runs/x/y/evidence.zip')).status()).toBe(403);
});
