import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../../approvals-ui/store';
import type { ApprovalsStore } from '../../../approvals-ui/store';
import { createTestContext } from '../../harness/context';
import type { TestContext } from '../../harness/context';
import { startPostgres } from '../../support/postgres';
import type { TestPostgres } from '../../support/postgres';
import { awaitingApproval, result, startRefund, waitForState } from '../helpers';
import { api, PEOPLE, shownHash, startService, terminateLeftovers } from './fixture';
import type { RunningService } from './fixture';

/**
 * Several instances of the approvals service behind one (imagined) load balancer, on one store: the
 * embedded SQLite file (instances on one host) and PostgreSQL (instances on several hosts). A person
 * signs in on one instance and decides on the other; the rate limit counts across both; a session
 * survives an instance's restart.
 */
let t: TestContext;
let postgres: TestPostgres;
const cleanup: (() => Promise<void>)[] = [];

beforeAll(async () => {
  t = await createTestContext('approvals-instances');
  await t.startWorker();
  postgres = await startPostgres();
});
afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
  await terminateLeftovers(t);
  await t?.close();
  await postgres?.stop();
});

const dir = mkdtempSync(join(tmpdir(), 'mandate-instances-'));
const STORES: [string, () => string, string][] = [
  ['SQLite in the data dir', () => `sqlite:${join(dir, 'approvals.db')}`, 'CASE-1003'],
  ['PostgreSQL', () => postgres.url, 'CASE-1008'],
];

/** Two instances on one store location and one token file (each with its own connection to the store). */
async function twoInstances(location: string): Promise<[RunningService, RunningService]> {
  const open = async () => {
    const store: ApprovalsStore = await openStore(location);
    cleanup.push(() => store.close());
    return store;
  };
  const rateLimits = { decide: 3 };
  const first = await startService(t, { store: await open(), rateLimits });
  const second = await startService(t, {
    store: await open(),
    tokensFile: first.tokensFile,
    tokens: first.tokens,
    rateLimits,
  });
  cleanup.push(first.close, second.close);
  return [first, second];
}

describe.each(STORES)('two instances on %s', (_name, location, caseId) => {
  test('sign in on one, decide on the other; the rate limit counts across both; sessions survive a restart', async () => {
    const [one, two] = await twoInstances(location());
    const login = await fetch(`${one.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: one.tokens.sam }),
      redirect: 'manual',
    });
    const cookie = login.headers.get('set-cookie')!.split(';')[0];
    expect((await api(two, '/api/me', { headers: { cookie } })).body).toMatchObject({ subject: PEOPLE.sam.subject });

    // The CSRF token from a page of instance one is good on instance two (the secret is in the session).
    const page = await (await fetch(`${one.url}/`, { headers: { cookie } })).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1];
    const id = await startRefund(t.client, t.taskQueue, caseId);
    await waitForState(t.client, id, awaitingApproval);
    const paramsHash = await shownHash(two, one.tokens.sam, id);
    const decided = await api(two, `/api/missions/${id}/actions/a1/decision`, {
      headers: { cookie, 'x-csrf-token': csrf },
      body: { decision: 'approve', paramsHash, reason: 'checked on instance two' },
    });
    expect(decided).toMatchObject({ status: 200, body: { result: { approver: PEOPLE.sam.subject } } });
    await expect(result(t.client, id)).resolves.toMatchObject({ verdict: 'completed' });
    // "My recent decisions" is the same on both.
    expect((await api(one, '/api/decisions/mine', { headers: { cookie } })).body.items).toEqual([
      expect.objectContaining({ missionId: id, decision: 'approve', reason: 'checked on instance two' }),
    ]);

    // Three decisions a minute for fin, wherever they land: the fourth is refused.
    const attempt = (on: RunningService) =>
      api(on, `/api/missions/${id}/actions/a9/decision`, {
        token: one.tokens.fin,
        body: { decision: 'reject', reason: 'x' },
      });
    const codes = [];
    for (const on of [one, two, one, two]) codes.push((await attempt(on)).status);
    expect(codes).toEqual([409, 409, 409, 429]);

    // A restarted instance still knows the session.
    await one.close();
    const again = await startService(t, {
      store: await openStore(location()),
      tokensFile: one.tokensFile,
      tokens: one.tokens,
    });
    cleanup.push(again.close, again.store.close.bind(again.store));
    expect((await api(again, '/api/me', { headers: { cookie } })).status).toBe(200);
  });
});
