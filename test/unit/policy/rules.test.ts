import { decideByRules } from '../../../policy/rules';
import { Catalog } from '../../../catalog/catalog';
import type { DecisionRule, MissionDefinition } from '../../../core/mission';
import type { ProposedAction } from '../../../contract/mission';

/** The built-in rule table, for missions without a Cedar policy (customer-refund itself uses Cedar). */
const rules: DecisionRule[] = [
  {
    id: 'refund-small-auto',
    operation: 'refunds.issue',
    when: { param: 'amountCents', lte: 10000 },
    outcome: 'allow',
    reason: 'refunds up to 100.00 are allowed without approval',
  },
  {
    id: 'refund-large-forbidden',
    operation: 'refunds.issue',
    when: { param: 'amountCents', gt: 500000 },
    outcome: 'deny',
    reason: 'refunds above 5,000.00 are never issued by a mission',
  },
  {
    id: 'refund-needs-supervisor',
    operation: 'refunds.issue',
    when: { param: 'amountCents', gt: 10000 },
    outcome: 'require_approval',
    tier: 'supervisor',
    reason: "refunds above 100.00 need a supervisor's approval",
  },
];
const withRules = (list: DecisionRule[]): MissionDefinition => ({
  ...Catalog.load().get('customer-refund').definition,
  decision: { engine: 'rules', rules: list },
});
const definition = withRules(rules);

const refund = (amountCents: unknown, operation = 'refunds.issue'): ProposedAction => ({
  actionId: 'action-1',
  operation,
  params: { orderId: 'ORD-5001', caseId: 'CASE-1001', amountCents, currency: 'USD', reason: 'broken' },
  rationale: 'test',
});

describe('decideByRules with the customer-refund rules', () => {
  it('lists the rules these tests rely on', () => {
    expect(rules.map((r) => r.id)).toEqual(['refund-small-auto', 'refund-large-forbidden', 'refund-needs-supervisor']);
  });

  it.each([1, 4599, 10_000])('allows a small refund of %d cents without approval', (amount) => {
    const decision = decideByRules(definition, refund(amount));
    expect(decision).toEqual({
      outcome: 'allow',
      ruleIds: ['refund-small-auto'],
      reasons: ['refunds up to 100.00 are allowed without approval'],
      policyVersion: decision.policyVersion,
      errors: [],
    });
    expect(decision).not.toHaveProperty('tier');
  });

  it.each([10_001, 45_000, 500_000])('requires supervisor approval for a refund of %d cents', (amount) => {
    expect(decideByRules(definition, refund(amount))).toMatchObject({
      outcome: 'require_approval',
      tier: 'supervisor',
      ruleIds: ['refund-needs-supervisor'],
      reasons: ["refunds above 100.00 need a supervisor's approval"],
    });
  });

  it.each([500_001, 900_000])('denies a refund of %d cents although the approval rule matches too', (amount) => {
    const decision = decideByRules(definition, refund(amount));
    expect(decision).toMatchObject({ outcome: 'deny', ruleIds: ['refund-large-forbidden'] });
    expect(decision.reasons).toEqual(['refunds above 5,000.00 are never issued by a mission']);
    expect(decision).not.toHaveProperty('tier');
  });

  it('lets deny win whatever the rule order', () => {
    const byId = Object.fromEntries(rules.map((r) => [r.id, r]));
    const orders = [
      ['refund-small-auto', 'refund-needs-supervisor', 'refund-large-forbidden'],
      ['refund-needs-supervisor', 'refund-small-auto', 'refund-large-forbidden'],
      ['refund-needs-supervisor', 'refund-large-forbidden', 'refund-small-auto'],
    ];
    for (const order of orders) {
      const reordered = withRules(order.map((id) => byId[id]));
      expect(decideByRules(reordered, refund(900_000))).toMatchObject({
        outcome: 'deny',
        ruleIds: ['refund-large-forbidden'],
      });
      // The other outcomes do not depend on the order either.
      expect(decideByRules(reordered, refund(45_000)).ruleIds).toEqual(['refund-needs-supervisor']);
      expect(decideByRules(reordered, refund(4_599)).ruleIds).toEqual(['refund-small-auto']);
    }
  });

  it('denies an operation the mission does not declare, even if a rule names it', () => {
    const generous = withRules([
      ...rules,
      { id: 'allow-delete', operation: 'orders.delete', outcome: 'allow', reason: 'anything goes' },
    ]);
    expect(decideByRules(generous, refund(100, 'orders.delete'))).toEqual({
      outcome: 'deny',
      ruleIds: [],
      reasons: ['operation orders.delete is not one this mission may perform'],
      policyVersion: decideByRules(generous, refund(100)).policyVersion,
      errors: [],
    });
  });

  it.each([
    ['a numeric string', '4599'],
    ['missing', undefined],
    ['null', null],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['an object', { value: 4599 }],
  ])('denies when amountCents is %s (fail closed)', (_label, amount) => {
    const decision = decideByRules(definition, refund(amount));
    expect(decision.outcome).toBe('deny');
    expect(decision.ruleIds).toEqual([]);
    expect(decision.reasons[0]).toMatch(/^param amountCents must be a number for rule /);
  });

  it('denies by default when no rule matches', () => {
    const onlySmall = withRules([rules[0]]);
    expect(decideByRules(onlySmall, refund(20_000))).toEqual({
      outcome: 'deny',
      ruleIds: [],
      reasons: ['no rule allows refunds.issue with these params: default deny'],
      policyVersion: decideByRules(onlySmall, refund(1)).policyVersion,
      errors: [],
    });
    // A declared operation with rules only for other operations is denied too.
    const elsewhere = withRules([{ ...rules[0], operation: 'refunds.void' }]);
    expect(decideByRules(elsewhere, refund(100)).reasons).toEqual([
      'no rule allows refunds.issue with these params: default deny',
    ]);
  });

  it('uses the tier "default" when an approval rule names none', () => {
    const noTier = withRules([{ id: 'ask', operation: 'refunds.issue', outcome: 'require_approval', reason: 'ask' }]);
    expect(decideByRules(noTier, refund(1))).toMatchObject({ outcome: 'require_approval', tier: 'default' });
  });

  it('does not reorder or change the definition it was given', () => {
    const before = JSON.stringify(definition);
    decideByRules(definition, refund(900_000));
    expect(JSON.stringify(definition)).toBe(before);
  });

  it('records a stable sha256 policy version that follows the rules', () => {
    const version = decideByRules(definition, refund(1)).policyVersion;
    expect(version).toMatch(/^[0-9a-f]{64}$/);
    for (const amount of [45_000, 900_000, 'x']) {
      expect(decideByRules(definition, refund(amount)).policyVersion).toBe(version);
    }
    expect(decideByRules(definition, refund(1, 'orders.delete')).policyVersion).toBe(version);
    expect(decideByRules(structuredClone(definition), refund(1)).policyVersion).toBe(version);
    // Other parts of the definition are not policy.
    expect(decideByRules({ ...definition, title: 'Renamed' }, refund(1)).policyVersion).toBe(version);
    const changed = withRules([{ ...rules[0], when: { param: 'amountCents', lte: 20_000 } }, ...rules.slice(1)]);
    expect(decideByRules(changed, refund(1)).policyVersion).not.toBe(version);
  });
});
