import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../../approvals-ui/store';
import type { ApprovalsStore } from '../../../approvals-ui/store';
import { MissionAccess } from '../../../approvals-ui/access';
import type { Principal } from '../../../approvals-ui/auth';
import { Catalog } from '../../../catalog/catalog';
import { boundedEvidence } from '../../../core/evidence';
import { formatAmount } from '../../../core/format';

/** The embedded store's contract (the PostgreSQL store runs the same in the instances suite). */
describe('the approvals store (SQLite)', () => {
  let store: ApprovalsStore;
  beforeAll(async () => {
    store = await openStore(`sqlite:${join(mkdtempSync(join(tmpdir(), 'mandate-store-')), 'approvals.db')}`);
  });
  afterAll(() => store.close());

  it('keeps values until they expire; take reads once', async () => {
    await store.put('k', 'v', 60_000);
    await store.put('short', 'v', 1);
    await new Promise((r) => setTimeout(r, 5));
    expect([await store.get('k'), await store.get('short')]).toEqual(['v', undefined]);
    expect(await store.take('k')).toBe('v');
    expect(await store.take('k')).toBeUndefined();
    await store.put('gone', 'v', 60_000);
    await store.delete('gone');
    expect(await store.get('gone')).toBeUndefined();
  });

  it('counts hits in a fixed window that restarts once it has passed', async () => {
    const first = await store.increment('rate:a', 50);
    const second = await store.increment('rate:a', 50);
    expect([first.count, second.count]).toEqual([1, 2]);
    expect(second.resetAt).toBe(first.resetAt);
    await new Promise((r) => setTimeout(r, 60));
    expect((await store.increment('rate:a', 50)).count).toBe(1);
  });

  it('keeps the newest entries of a list, newest first', async () => {
    for (const v of ['1', '2', '3', '4']) await store.prepend('recent:sam', v, 3);
    expect(await store.list('recent:sam')).toEqual(['4', '3', '2']);
    expect(await store.list('recent:nobody')).toEqual([]);
  });

  it('refuses a location it does not know', async () => {
    await expect(openStore('redis://x')).rejects.toThrow(/sqlite:<path> or postgres/);
  });
});

describe('who may read a mission', () => {
  const access = new MissionAccess(Catalog.load());
  const who = (roles: string[], subject = 'pat@example.com'): Principal => ({ subject, roles, via: 'token' });
  const state = { missionType: 'customer-refund', initiator: 'Ivy@Example.com', pending: [] };
  it.each<[string, Principal, boolean]>([
    ['a role of a ladder step', who(['support-manager']), true],
    ['a tier name', who(['finance']), true],
    ['the auditor role', who(['auditor']), true],
    ['the initiator, under another spelling', who([], ' ivy@example.COM '), true],
    ['a viewer', who(['viewer']), false],
    ['an operator (controls are not reading)', who(['operator']), false],
    ['no roles', who([]), false],
  ])('%s', (_name, principal, may) => {
    expect(access.mayRead(principal, state)).toBe(may);
  });
  it('a role only a pending action names (a tier without a ladder) reads that mission', () => {
    const pending = [{ roles: ['legal'] }] as unknown as [];
    expect(access.mayRead(who(['legal']), { ...state, pending })).toBe(true);
    expect(() => access.requireRead(who(['viewer']), { ...state, missionId: 'm-1' })).toThrow(/auditor/);
  });
  it('the queue with all pending actions needs a role that may read some mission type', () => {
    expect(() => access.requireReadAny(who(['viewer']))).toThrow(expect.objectContaining({ code: 'no_read_access' }));
    expect(() => access.requireReadAny(who([]))).toThrow(/auditor/);
    for (const roles of [['auditor'], ['supervisor'], ['viewer', 'finance']]) {
      expect(() => access.requireReadAny(who(roles))).not.toThrow();
    }
  });
});

describe('what approvers read', () => {
  it('money in the currency of the action, with its own decimals', () => {
    expect(formatAmount({ amountCents: 45000, currency: 'USD' })).toBe('450.00 USD');
    expect(formatAmount({ amountCents: 4500, currency: 'JPY' })).toBe('4500 JPY');
    expect(formatAmount({ amountCents: 12345, currency: 'KWD' })).toBe('12.345 KWD');
    expect(formatAmount({ amountCents: 999 })).toBe('9.99');
    expect(formatAmount({ orderId: 'x' })).toBe('');
  });

  it('evidence is kept whole when small, as a marked preview when large', () => {
    expect(boundedEvidence({ caseId: 'CASE-1' })).toEqual({ caseId: 'CASE-1' });
    expect(boundedEvidence({ text: 'x'.repeat(100) }, 50)).toEqual({
      truncated: true,
      chars: 111,
      preview: `{"text":"${'x'.repeat(41)}`,
    });
  });
});
