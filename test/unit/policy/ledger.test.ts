import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AggregateSpec, windowMs } from '../../../core/aggregates';
import type { LedgerEntry } from '../../../core/aggregates';
import { openSqliteLedger } from '../../../policy/ledger';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000).toISOString();
const entry = (over: Partial<LedgerEntry>): LedgerEntry => ({
  missionId: 'm1',
  actionId: 'a1',
  missionType: 'customer-refund',
  initiator: 'dana',
  operation: 'refunds.issue',
  customer: 'CUS-1',
  amounts: { amountCents: 9900 },
  executedAt: minutesAgo(5),
  ...over,
});
const spec = (over: Partial<AggregateSpec>): AggregateSpec =>
  AggregateSpec.parse({
    name: 'n',
    operation: 'refunds.issue',
    measure: 'count',
    window: '1h',
    by: 'initiator',
    ...over,
  });

test('counts and sums per initiator, mission type and customer over a rolling window', () => {
  const ledger = openSqliteLedger(join(mkdtempSync(join(tmpdir(), 'ledger-')), 'ledger.db'));
  try {
    ledger.record(entry({ missionId: 'm1' }));
    ledger.record(entry({ missionId: 'm2', executedAt: minutesAgo(50) }));
    ledger.record(entry({ missionId: 'm3', executedAt: minutesAgo(61) })); // outside 1h
    ledger.record(entry({ missionId: 'm4', initiator: 'eve', customer: 'CUS-2' }));
    ledger.record(entry({ missionId: 'm5', operation: 'cases.close' }));
    ledger.record(entry({ missionId: 'm1' })); // a retried execution counts once
    const specs = [
      spec({ name: 'countByInitiator' }),
      spec({ name: 'sumByInitiator', measure: 'sum', field: 'amountCents' }),
      spec({ name: 'countByType', by: 'missionType' }),
      spec({ name: 'sumByCustomer30d', measure: 'sum', field: 'amountCents', by: 'customer', window: '30d' }),
    ];
    expect(
      ledger.aggregates(specs, { missionType: 'customer-refund', initiator: 'dana', customer: 'CUS-1', now: NOW }),
    ).toEqual({
      countByInitiator: 2,
      sumByInitiator: 19800,
      countByType: 3,
      sumByCustomer30d: 3 * 9900,
    });
    // No customer key for this decision: the customer aggregate is 0, not someone else's figure.
    expect(ledger.aggregates(specs.slice(3), { missionType: 'customer-refund', initiator: 'dana', now: NOW })).toEqual({
      sumByCustomer30d: 0,
    });
  } finally {
    ledger.close();
  }
});

test('an aggregate declaration is checked: window, name, and a sum names its field', () => {
  expect(windowMs('15m')).toBe(900_000);
  expect(windowMs('30d')).toBe(30 * 86_400_000);
  expect(() => spec({ window: '1w' })).toThrow(/window such as/);
  expect(() => spec({ measure: 'sum' })).toThrow(/a sum names its field/);
  expect(() => spec({ field: 'amountCents' })).toThrow(/a count names none/);
  expect(() => spec({ name: 'drop table' })).toThrow(/camelCase/);
});
