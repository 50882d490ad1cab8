import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createTestContext } from '../../harness/context';
import type { TestContext } from '../../harness/context';
import { awaitingApproval, result, startRefund, waitForState } from '../helpers';
import { launchChromium } from './browser';
import { freePort } from '../../../infra/provision';
import { startFakeIdp } from './fake-idp';
import type { FakeIdp } from './fake-idp';
import { api, approveAsShown, PEOPLE, quickTimeout, startService, terminateLeftovers, waitForQueue } from './fixture';
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
  // The issuer alone: the JWKS and the endpoints come from its discovery metadata.
  service = await startService(
    t,
    {
      // Eleven sign-ins from 127.0.0.1 can fall in one minute on a fast machine; the sign-in limit
      // itself is tested in test/unit/approvals-ui/service.test.ts.
      rateLimits: { login: 1000 },
      oidc: {
        issuer: idp.issuer,
        audience: 'mandate-api',
        login: { clientId: idp.clientId, redirectUrl: `http://localhost:${port}/login/oidc/callback` },
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

const PHONE = { width: 420, height: 860 };
const DESKTOP = { width: 1366, height: 900 };

/** A signed-in page for one approver (phone-sized viewport unless told). */
async function signIn(who: Person, on: RunningService = service, viewport = PHONE): Promise<Page> {
  const context = await browser.newContext({ viewport, baseURL: on.url });
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
  // What an approver needs: money in the action's currency, the policy's words, the evidence read.
  expect(await page.textContent('[data-testid=amount]')).toBe('450.00 USD');
  expect(await page.locator('[data-testid=raw]').isVisible()).toBe(true);
  expect(await page.locator('[data-testid=raw] dl').isVisible()).toBe(false);
  await page.click('[data-testid=raw] summary');
  expect(await page.textContent('[data-testid=raw]')).toMatch(/amountCents\s*45000[\s\S]*policy version/);
  expect(await page.textContent('[data-testid=policy-reasons]')).toMatch(/\w{6}/);
  const evidence = await page.textContent('[data-testid=evidence]');
  expect(evidence).toMatch(/Data from the integration enterprise-db/);
  expect(evidence).toMatch(/cases\.get[\s\S]*CASE-1002[\s\S]*orders\.get[\s\S]*ORD-5002[\s\S]*refunds\.listForOrder/);
  expect(await page.locator('#rail li').count()).toBeGreaterThan(3);
  expect(await page.textContent('#rail')).toMatch(/approval_requested/);
  await page.click('[data-testid=raw] summary');
  await page.screenshot({ path: join(SCREENSHOTS, 'detail.png'), fullPage: true });
  // The same on a desktop: the action and its evidence beside the vote and the rail.
  const desk = await signIn('sam', service, DESKTOP);
  await desk.goto(`/missions/${id}`);
  const [left, right] = await Promise.all([
    desk.locator('section.action').boundingBox(),
    desk.locator('section.decide-card').boundingBox(),
  ]);
  expect(right!.x).toBeGreaterThan(left!.x + left!.width - 1);
  await desk.screenshot({ path: join(SCREENSHOTS, 'detail-desktop.png'), fullPage: true });

  // Approving needs the explicit confirmation of operation + params.
  await page.click('button[value=approve]');
  expect(page.url()).toMatch(new RegExp(`/missions/${id}`));
  expect(await pendingOf(id)).toHaveLength(1);
  expect(await page.textContent('label.confirm')).toMatch(
    /confirm 450\.00 USD: refunds\.issue \{.*"orderId":"ORD-5002".*"amountCents":45000/,
  );
  // The binding is the approver's own tick: a form without it (or without the hash) is refused.
  const csrf = await page.inputValue('form.decide input[name=_csrf]');
  const forms: Record<string, string>[] = [
    { decision: 'approve' },
    { decision: 'approve', paramsHash: await page.inputValue('form.decide input[name=paramsHash]') },
  ];
  for (const form of forms) {
    const unbound = await page.request.post(`/missions/${id}/actions/a1/decision`, { form: { _csrf: csrf, ...form } });
    expect(unbound.status()).toBe(400);
    expect(await unbound.text()).toMatch(/Refused \(binding_required\)/);
  }
  expect(await pendingOf(id)).toHaveLength(1);
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

test('sign in with the identity provider: discovery, PKCE, state and nonce checked; the session ends with the ID token', async () => {
  const context = await browser.newContext({ viewport: PHONE, baseURL: service.url });
  contexts.push(context);
  const page = await context.newPage();
  const seen = { ...idp.seen, challenges: idp.seen.challenges.length };
  await page.goto('/login');
  await page.click('[data-testid=oidc]');
  await page.waitForURL(`${service.url}/`);
  expect(await page.textContent('[data-testid=who]')).toContain('olga.oidc@example.com · supervisor');
  expect(await page.textContent('h1')).toBe('Decision Queue');
  // Discovered from the issuer alone; the provider got an S256 challenge and a nonce, and the code was
  // exchanged once (its token endpoint checks the PKCE verifier).
  expect(idp.seen.discovery).toBeGreaterThanOrEqual(1);
  expect(idp.seen.challenges.length).toBe(seen.challenges + 1);
  expect(idp.seen.nonces.at(-1)).toMatch(/^[\w-]{20,}$/);
  expect(idp.seen.token).toBe(seen.token + 1);

  // state: a callback this browser did not start is refused, and so is a second use of one it did.
  const forged = await fetch(`${service.url}/login/oidc/callback?code=abc&state=made-up`);
  expect(forged.status).toBe(400);
  expect(await forged.text()).toMatch(/not valid any more/);

  // nonce: an ID token that does not carry this sign-in's nonce signs nobody in.
  const other = await browser.newContext({ viewport: PHONE, baseURL: service.url });
  contexts.push(other);
  const second = await other.newPage();
  idp.next = { nonce: 'not-the-one-we-sent' };
  await second.goto('/login');
  await second.click('[data-testid=oidc]');
  await second.waitForURL(/\/login\/oidc\/callback/);
  expect(await second.textContent('[role=alert]')).toMatch(/did not return a valid ID token/);
  expect(await second.locator('[data-testid=who]').count()).toBe(0);

  // Expiry: a session never outlives the ID token it was made with.
  idp.next = { ttlSeconds: 3 };
  await second.goto('/login');
  await second.click('[data-testid=oidc]');
  await second.waitForURL(`${service.url}/`);
  expect(await second.textContent('[data-testid=who]')).toContain('olga.oidc@example.com');
  await second.waitForTimeout(4000);
  await second.goto('/');
  expect(second.url()).toMatch(/\/login$/);
  expect(
    (
      await api(service, '/api/me', {
        headers: { cookie: (await other.cookies()).map((c) => `${c.name}=${c.value}`).join('; ') },
      })
    ).status,
  ).toBe(401);

  // Its ID tokens also work as bearer credentials on the API, for the API's audience only.
  expect((await api(service, '/api/me', { token: idp.idToken({ aud: 'mandate-api' }) })).body).toMatchObject({
    subject: 'olga.oidc@example.com',
    via: 'oidc',
  });
  expect((await api(service, '/api/me', { token: idp.idToken() })).status).toBe(401);
});

test('the Explain rail and the status stay live on an open detail page', async () => {
  const id = await startRefund(t.client, t.taskQueue, 'CASE-1003');
  await waitForState(t.client, id, awaitingApproval);
  const page = await signIn('fin');
  await page.goto(`/missions/${id}`);
  expect(await page.textContent('#status')).toBe('awaiting_approval');
  // Someone else decides meanwhile (through the API); the open page picks it up without a reload.
  const approved = await approveAsShown(service, service.tokens.sam, id, { reason: 'checked' });
  expect(approved.status).toBe(200);
  await page.locator('#status', { hasText: 'completed' }).waitFor({ timeout: 90_000 });
  // Pushed by server-sent events (the polling fallback would mark the rail `poll`).
  expect(await page.getAttribute('#rail', 'data-live')).toMatch(/^(events|ended)$/);
  expect(await page.textContent('#rail')).toMatch(/approval[\s\S]*execution[\s\S]*finish/);
  expect(await page.locator('#rail li.fresh').count()).toBeGreaterThan(0);
});
