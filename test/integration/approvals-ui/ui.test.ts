import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createTestContext } from '../../harness/context';
import type { TestContext } from '../../harness/context';
import { awaitingApproval, result, startRefund, waitForState } from '../helpers';
import { launchChromium } from './browser';
import { freePort, startFakeIdp } from './fake-idp';
import type { FakeIdp } from './fake-idp';
import { api, PEOPLE, quickTimeout, startService, terminateLeftovers, waitForQueue } from './fixture';
import type { Person, RunningService } from './fixture';
import { stateQuery } from '../../../contract/messages';
import { testSettings } from '../../harness/settings';

/**
 * The approvals service in real headless Chromium, against the dev server and a worker: sign in,
 * queue, detail, approve, reject, read-only for the wrong tier and the initiator, expiry, CSRF.
 * One browser for the suite; one context (cookie jar) per approver.
 */
// The README's screenshots are refreshed on demand (MANDATE_UPDATE_SCREENSHOTS=1); otherwise they go to the run dir.
const ROOT = join(__dirname, '..', '..', '..');
const SCREENSHOTS = testSettings.updateScreenshots
  ? join(ROOT, 'docs', 'screenshots')
  : join(ROOT, '.mandate', 'test-run', 'screenshots');
let t: TestContext;
let quick: TestContext;
let service: RunningService;
let quickService: RunningService;
let browser: Browser;
let idp: FakeIdp;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  browser = await launchChromium();
  t = await createTestContext('approvals-ui');
  await t.startWorker();
  quick = await createTestContext('approvals-ui-expiry');
  await quick.startWorker({ overrides: quickTimeout(2) });
  // localhost: a secure context, so Chromium keeps the Secure __Host- session cookie over plain http.
  idp = await startFakeIdp({ sub: 'olga.oidc@example.com', roles: ['supervisor'] });
  const port = await freePort();
  service = await startService(
    t,
    {
      oidc: { issuer: idp.issuer, audience: 'mandate-api', jwksUrl: idp.jwksUrl },
      oidcLogin: {
        issuer: idp.issuer,
        jwksUrl: idp.jwksUrl,
        clientId: idp.clientId,
        authorizationUrl: idp.authorizationUrl,
        tokenUrl: idp.tokenUrl,
        redirectUrl: `http://localhost:${port}/login/oidc/callback`,
      },
    },
    'localhost',
    port,
  );
  quickService = await startService(quick, {}, 'localhost');
});
afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await service?.close();
  await quickService?.close();
  await idp?.close();
  await terminateLeftovers(t);
  await t?.close();
  await terminateLeftovers(quick);
  await quick?.close();
});

/** A signed-in page for one approver (phone-sized viewport). */
async function signIn(who: Person, on: RunningService = service): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 420, height: 860 }, baseURL: on.url });
  contexts.push(context);
  context.setDefaultTimeout(30_000);
  const page = await context.newPage();
  await page.goto('/');
  await expect(page.url()).toMatch(/\/login$/);
  await page.fill('#token', on.tokens[who]);
  await page.click('button[type=submit]');
  await page.waitForURL(`${on.url}/`);
  expect(await page.textContent('[data-testid=who]')).toContain(PEOPLE[who].subject);
  return page;
}

const card = (page: Page, id: string) => page.locator(`article[data-mission="${id}"]`);
const pendingOf = async (id: string) => (await t.client.workflow.getHandle(id).query(stateQuery)).pending;

/** Reloads the queue until the mission's card is (or is not) there. */
async function queueShows(page: Page, id: string, present: boolean, query = '') {
  for (let i = 0; i < 75; i++) {
    await page.goto(`/${query}`);
    if ((await card(page, id).count()) > 0 === present) return;
    await page.waitForTimeout(200);
  }
  throw new Error(`queue never ${present ? 'showed' : 'dropped'} ${id}`);
}

test('sign in → the queue shows the pending refund → detail → approve → the mission completes and the queue empties', async () => {
  const id = await startRefund(t.client, t.taskQueue, 'CASE-1002');
  await waitForState(t.client, id, awaitingApproval);
  const page = await signIn('sam');
  await queueShows(page, id, true);
  const item = card(page, id);
  expect(await item.textContent()).toMatch(/refunds\.issue\s+450\.00 USD/);
  expect(await item.textContent()).toMatch(
    /supervisor[\s\S]*customer-refund[\s\S]*agent-desk@example\.com[\s\S]*in \d+h/,
  );
  await page.screenshot({ path: join(SCREENSHOTS, 'queue.png') });

  await item.locator('a.title').click();
  await page.waitForURL(new RegExp(`/missions/${id}`));
  const action = page.locator('section.action');
  expect(await action.textContent()).toMatch(/amountCents\s*45000/);
  expect(await action.textContent()).toMatch(/policy version/);
  expect(await page.locator('#rail li').count()).toBeGreaterThan(3);
  expect(await page.textContent('#rail')).toMatch(/approval_requested/);
  await page.screenshot({ path: join(SCREENSHOTS, 'detail.png'), fullPage: true });

  // Approving needs the explicit confirmation of operation + params.
  await page.click('button[value=approve]');
  expect(page.url()).toMatch(new RegExp(`/missions/${id}`));
  expect(await pendingOf(id)).toHaveLength(1);
  expect(await page.textContent('label.confirm')).toMatch(
    /confirm refunds\.issue \{.*"orderId":"ORD-5002".*"amountCents":45000/,
  );
  await page.check('input[name=confirm]');
  await page.click('button[value=approve]');
  expect(await page.textContent('[data-testid=outcome]')).toMatch(/^Approved: a1 of customer-refund-/);
  await expect(result(t.client, id)).resolves.toMatchObject({ verdict: 'completed' });
  await queueShows(page, id, false);
  expect(await page.textContent('[data-testid=queue-count]')).toMatch(/^0 actions/);
  expect(await page.textContent('[data-testid=queue]')).toMatch(/Nothing waits for you/);
  expect(await page.textContent('[data-testid=recent]')).toContain(id);
});

test('reject needs a reason, then records it', async () => {
  const id = await startRefund(t.client, t.taskQueue, 'CASE-1003');
  await waitForState(t.client, id, awaitingApproval);
  const page = await signIn('sam');
  await page.goto(`/missions/${id}`);
  await page.click('button[value=reject]');
  expect(page.url()).toMatch(new RegExp(`/missions/${id}$`));
  expect(await pendingOf(id)).toHaveLength(1);
  await page.fill('textarea[name=reason]', 'customer already compensated');
  await page.click('button[value=reject]');
  expect(await page.textContent('[data-testid=outcome]')).toMatch(/^Rejected: a1/);
  await expect(result(t.client, id)).resolves.toMatchObject({ verdict: 'rejected' });
  await page.goto(`/missions/${id}`);
  expect(await page.textContent(`[data-testid=decided-a1]`)).toMatch(
    /rejected by sam.supervisor@example.com — customer already compensated/,
  );
});

test('the wrong tier sees it read-only, a forged POST is refused 403, and a POST without CSRF token too; nothing changes', async () => {
  const id = await startRefund(t.client, t.taskQueue, 'CASE-1008');
  await waitForState(t.client, id, awaitingApproval);
  await waitForQueue(service, service.tokens.fin, id, true, true);
  const page = await signIn('fin');
  await queueShows(page, id, false);
  await queueShows(page, id, true, '?all=1');
  expect(await card(page, id).textContent()).toMatch(
    /Read-only: this supervisor step needs one of the roles supervisor/,
  );
  await page.goto(`/missions/${id}`);
  expect(await page.textContent('[data-testid=readonly]')).toMatch(/^Read-only/);
  expect(await page.locator('form.decide').count()).toBe(0);

  const csrf = await page.inputValue('form.signout input[name=_csrf]');
  const forged = await page.request.post(`/missions/${id}/actions/a1/decision`, {
    form: { _csrf: csrf, decision: 'approve', confirm: 'x', paramsHash: 'x' },
  });
  expect(forged.status()).toBe(403);
  expect(await forged.text()).toMatch(/not_your_tier/);

  const sam = await signIn('sam');
  await sam.goto(`/missions/${id}`);
  const hash = await sam.inputValue('form.decide input[name=paramsHash]');
  const noCsrf = await sam.request.post(`/missions/${id}/actions/a1/decision`, {
    form: { decision: 'approve', confirm: hash, paramsHash: hash },
  });
  expect(noCsrf.status()).toBe(403);
  expect(await noCsrf.text()).toMatch(/Refused \(csrf\)/);
  expect(await pendingOf(id)).toHaveLength(1);
  expect(t.query('SELECT * FROM refunds WHERE mission_id = ?', id)).toHaveLength(0);
});

test('the initiator cannot approve their own mission', async () => {
  const id = await startRefund(t.client, t.taskQueue, 'CASE-1009', PEOPLE.ivy.subject);
  await waitForState(t.client, id, awaitingApproval);
  const page = await signIn('ivy');
  await page.goto(`/missions/${id}`);
  expect(await page.textContent('[data-testid=readonly]')).toMatch(/you initiated this mission/);
  const csrf = await page.inputValue('form.signout input[name=_csrf]');
  const forged = await page.request.post(`/missions/${id}/actions/a1/decision`, {
    form: { _csrf: csrf, decision: 'approve', confirm: 'x', paramsHash: 'x' },
  });
  expect(forged.status()).toBe(403);
  expect(await forged.text()).toMatch(/initiator/);
  expect(await pendingOf(id)).toHaveLength(1);
});

test('an action nobody decided in time shows as expired', async () => {
  const id = await startRefund(quick.client, quick.taskQueue, 'CASE-1002');
  await expect(result(quick.client, id)).resolves.toMatchObject({ verdict: 'rejected' });
  const page = await signIn('sam', quickService);
  await page.goto(`/missions/${id}`);
  expect(await page.textContent('[data-testid=decided-a1]')).toMatch(/expired.*no decision before the deadline/);
  expect(await page.textContent('#rail')).toMatch(/approval_timeout/);
});

test('sign in with the identity provider (OIDC code flow with PKCE); a forged callback is refused', async () => {
  const context = await browser.newContext({ viewport: { width: 420, height: 860 }, baseURL: service.url });
  contexts.push(context);
  const page = await context.newPage();
  await page.goto('/login');
  await page.click('[data-testid=oidc]');
  await page.waitForURL(`${service.url}/`);
  expect(await page.textContent('[data-testid=who]')).toContain('olga.oidc@example.com · supervisor');
  expect(await page.textContent('h1')).toBe('Decision Queue');

  const forged = await fetch(`${service.url}/login/oidc/callback?code=abc&state=made-up`);
  expect(forged.status).toBe(400);
  expect(await forged.text()).toMatch(/not valid any more/);
});

test('the Explain rail and the status stay live on an open detail page', async () => {
  const id = await startRefund(t.client, t.taskQueue, 'CASE-1003');
  await waitForState(t.client, id, awaitingApproval);
  const page = await signIn('fin');
  await page.goto(`/missions/${id}`);
  expect(await page.textContent('#status')).toBe('awaiting_approval');
  // Someone else decides meanwhile (through the API); the open page picks it up without a reload.
  const approved = await api(service, `/api/missions/${id}/actions/a1/decision`, {
    token: service.tokens.sam,
    body: { decision: 'approve', reason: 'checked' },
  });
  expect(approved.status).toBe(200);
  await page.locator('#status', { hasText: 'completed' }).waitFor({ timeout: 90_000 });
  expect(await page.textContent('#rail')).toMatch(/approval[\s\S]*execution[\s\S]*finish/);
  expect(await page.locator('#rail li.fresh').count()).toBeGreaterThan(0);
});
