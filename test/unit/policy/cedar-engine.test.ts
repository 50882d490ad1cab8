import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  decide,
  DEFAULT_APPROVAL_TIERS,
  explain,
  loadPolicyBundle,
  PolicyLoadError,
  type PolicyBundle,
  type PolicyRequest,
} from '../../../policy/cedar-engine';

const missionDir = join(__dirname, '..', '..', '..', 'missions', 'customer-refund');
const policyText = readFileSync(join(missionDir, 'policy.cedar'), 'utf8');
const schemaText = readFileSync(join(missionDir, 'policy.cedarschema'), 'utf8');
const refunds = loadPolicyBundle({ name: 'customer-refund', policyText, schemaText, sourcePath: 'refund.cedar' });

/** Loads inline policies against the customer-refund schema. */
function load(text: string, tiers?: readonly string[]): PolicyBundle {
  return loadPolicyBundle({ name: 'fixture', policyText: text, schemaText, sourcePath: 'fixture.cedar', tiers });
}

function loadError(text: string, schema = schemaText): PolicyLoadError {
  try {
    loadPolicyBundle({ name: 'fixture', policyText: text, schemaText: schema, sourcePath: 'fixture.cedar' });
  } catch (err) {
    if (err instanceof PolicyLoadError) return err;
    throw err;
  }
  throw new Error('expected a PolicyLoadError');
}

function request(
  params: Record<string, unknown> = {},
  overrides: { dataClass?: PolicyRequest['mission']['dataClass']; agent?: string; operation?: string } = {},
  context: Partial<PolicyRequest['context']> = {},
): PolicyRequest {
  // The facts the connector would load: an open case, a recent order in the refund's currency, nothing refunded yet.
  const facts = {
    caseStatus: 'open',
    customerId: 'CUS-1',
    orderAgeDays: 10,
    orderTotalCents: 10_000_000,
    orderCurrency: typeof params.currency === 'string' ? params.currency : 'USD',
    refundedCents: 0,
    refundCount: 0,
  };
  return {
    mission: { id: 'm-1', type: 'customer-refund', dataClass: overrides.dataClass ?? 'internal', initiator: 'alice' },
    agent: overrides.agent ?? 'customer-refund',
    onBehalfOf: 'alice',
    action: {
      actionId: 'a-1',
      operation: overrides.operation ?? 'refunds.issue',
      params: { orderId: 'o-1', caseId: 'c-1', amountCents: 5000, currency: 'USD', reason: 'damaged', ...params },
    },
    context: { now: '2026-03-02T10:15:00Z', priorActions: 0, facts, ...context },
  };
}

const permit = (id: string, when: string, annotations = '') =>
  `@id("${id}") ${annotations}\npermit (principal, action == Mandate::Action::"refunds.issue", resource)\nwhen { ${when} };\n`;
const forbid = (id: string, when: string) =>
  `@id("${id}")\nforbid (principal, action == Mandate::Action::"refunds.issue", resource)\nwhen { ${when} };\n`;

describe('loadPolicyBundle', () => {
  it('loads the customer-refund policies with their ids, lines and a sha256 version', () => {
    expect(refunds.policies.map((p) => p.id)).toContain('refund-medium-supervisor');
    expect(refunds.policies.find((p) => p.id === 'refund-small-auto')?.line).toBe(11);
    expect(refunds.policyVersion).toMatch(/^[0-9a-f]{64}$/);
    expect(refunds.tiers).toEqual(DEFAULT_APPROVAL_TIERS);
    expect(refunds.warnings).toEqual([]);
  });

  it('reports a parse error with file, line, column and Cedar message', () => {
    const err = loadError(
      `// héllo wörld\n${permit('a', 'true')}@id("b")\npermit (principal, action, resource) when { 1 + };`,
    );
    // Line 1 holds multi-byte characters: Cedar counts bytes, the report counts characters.
    expect(err.issues[0]).toMatchObject({ file: 'fixture.cedar', line: 6, column: 49 });
    expect(err.message).toMatch(/^fixture\.cedar:6:49: failed to parse policies from string: unexpected token `}`/);
  });

  it('requires an @id on every policy', () => {
    const err = loadError(`${permit('a', 'true')}\npermit (principal, action, resource);`);
    expect(err.message).toBe('fixture.cedar:5:1: policy has no @id("...") annotation; every policy needs one');
  });

  it('rejects a duplicate @id, naming both lines', () => {
    const err = loadError(permit('same', 'true') + permit('same', 'false'));
    expect(err.message).toBe('fixture.cedar:4:1: duplicate @id("same"), first used on line 1');
  });

  it('validates against the schema in strict mode, locating each error', () => {
    const err = loadError(`${permit('ok', 'true')}${permit('typo', 'context.amountCent > 5')}`);
    expect(err.issues[0]).toMatchObject({ file: 'fixture.cedar', line: 6, column: 8, policyId: 'typo' });
    expect(err.message).toContain('fixture.cedar:6:8: for policy `typo`, attribute `amountCent` in context');
    expect(loadError(permit('str', 'context.amountCents == "100"')).message).toContain('Long and String');
    // Strict mode refuses what permissive mode would type as a union, such as a set of mixed types.
    const mixed = loadError(permit('mixed', '[1, "a"].contains(1)'));
    expect(mixed.message).toMatch(/^fixture\.cedar:3:8: the types Long and String are not compatible/);
  });

  it('keeps validator warnings, located, on the bundle', () => {
    const bundle = load(permit('ok', 'true') + permit('never', 'principal == resource'));
    expect(bundle.warnings).toEqual([
      expect.stringMatching(/^fixture\.cedar:4:1: for policy `never`, policy is impossible/),
    ]);
  });

  it.each([
    ['@outcome("maybe")', '1:10: unknown @outcome("maybe"); expected "allow" or "require_approval"'],
    [
      '@outcome("require_approval") @tier("ceo")',
      '1:39: unknown @tier("ceo"); known tiers, lowest first: supervisor, finance',
    ],
    [
      '@outcome("require_approval")',
      '1:10: @outcome("require_approval") needs a @tier(...), one of: supervisor, finance',
    ],
    ['@tier("finance")', '1:10: @tier is only meaningful with @outcome("require_approval")'],
  ])('rejects %s on a permit', (annotations, message) => {
    expect(loadError(permit('p', 'true', annotations)).message).toBe(`fixture.cedar:${message}`);
  });

  it('rejects @outcome or @tier on a forbid', () => {
    const err = loadError('@id("f") @tier("finance") forbid (principal, action, resource);');
    expect(err.message).toBe('fixture.cedar:1:10: @outcome and @tier apply to permit policies only');
  });

  it('rejects an empty file and templates', () => {
    expect(loadError('// nothing here\n').message).toBe('fixture.cedar: the file contains no policies');
    expect(loadError('@id("t") permit (principal == ?principal, action, resource);').message).toMatch(
      /^fixture\.cedar:1:31: .*expected a static policy, got a template/,
    );
  });

  it('reports schema errors against the schema file', () => {
    const err = loadError(
      permit('a', 'true'),
      'namespace Mandate {\n  entity User;\n  entity Agent { onBehalfOf: Usr };\n}',
    );
    expect(err.message).toMatch(/^fixture\.cedarschema:3:30: failed to resolve type: Usr/);
  });

  it('rejects a schema that lacks the entity model the engine sends', () => {
    const schema = schemaText.replace('onBehalfOf: User,', '');
    expect(loadError(permit('a', 'true'), schema).message).toMatch(
      /^fixture\.cedarschema: the schema does not declare the engine's entity model .*onBehalfOf/,
    );
  });

  it('keeps the version when policies are reordered, re-commented or re-line-ended', () => {
    const chunks = policyText.split(/\n(?=@id)/);
    const shuffled = ['// reordered', ...chunks.slice(1).reverse(), chunks[0], '// trailing comment'].join('\n\n');
    const reloaded = load(shuffled.replace(/\n/g, '\r\n'));
    expect(reloaded.policyVersion).toBe(refunds.policyVersion);
    expect(load(policyText.replace('<= 10000', '<= 10001')).policyVersion).not.toBe(refunds.policyVersion);
    expect(load(policyText.replace('"refund-small-auto"', '"refund-small"')).policyVersion).not.toBe(
      refunds.policyVersion,
    );
  });

  it('gives each load its own preparsed set, so bundles do not interfere', () => {
    const first = load(permit('only', 'true'));
    const second = load(forbid('only', 'true') + permit('p', 'true'));
    expect(decide(first, request()).outcome).toBe('allow');
    expect(decide(second, request()).outcome).toBe('deny');
    expect(decide(first, request()).outcome).toBe('allow');
  });

  it('rejects an unusable tier list', () => {
    expect(() => load(permit('a', 'true'), [])).toThrow(PolicyLoadError);
    expect(() => load(permit('a', 'true'), ['x', 'x'])).toThrow(/distinct/);
  });
});

describe('decide: customer-refund rules', () => {
  it.each([
    [1, 'allow', undefined, 'refund-small-auto'],
    [10000, 'allow', undefined, 'refund-small-auto'],
    [10001, 'require_approval', 'supervisor', 'refund-medium-supervisor'],
    [100000, 'require_approval', 'supervisor', 'refund-medium-supervisor'],
    [100001, 'require_approval', 'finance', 'refund-large-finance'],
    [500000, 'require_approval', 'finance', 'refund-large-finance'],
    [500001, 'deny', undefined, 'refund-over-limit'],
    [0, 'deny', undefined, 'refund-amount-not-positive'],
  ])('%i cents -> %s %s', (amountCents, outcome, tier, ruleId) => {
    const decision = decide(refunds, request({ amountCents }));
    expect(decision).toMatchObject({ outcome, ruleIds: [ruleId], errors: [], policyVersion: refunds.policyVersion });
    expect(decision.tier).toBe(tier);
    expect(decision.reasons).toHaveLength(1);
    expect(decision.reasons[0]).toMatch(new RegExp(`^${ruleId}: `));
  });

  it.each([
    ['unsupported currency', request({ currency: 'JPY' }), 'refund-currency-unsupported'],
    ['a second refund', request({}, {}, { priorActions: 1 }), 'refund-once-per-mission'],
    ['restricted data', request({}, { dataClass: 'restricted' }), 'refund-restricted-data'],
  ])('forbid wins over the matching permit: %s', (_label, req, ruleId) => {
    expect(decide(refunds, req)).toMatchObject({ outcome: 'deny', ruleIds: [ruleId], errors: [] });
  });

  it('names every matching forbid', () => {
    const decision = decide(refunds, request({ amountCents: 900000, currency: 'CHF' }, { dataClass: 'restricted' }));
    expect(decision.ruleIds).toEqual(['refund-currency-unsupported', 'refund-over-limit', 'refund-restricted-data']);
    expect(decision.reasons).toHaveLength(3);
  });

  it('denies by default when no permit matches', () => {
    const other = decide(refunds, request({}, { agent: 'support-triage' }));
    expect(other).toMatchObject({ outcome: 'deny', ruleIds: [], errors: [] });
    expect(other.reasons).toEqual(['no permit matched: default deny']);
    const unknownOp = decide(refunds, request({}, { operation: 'refunds.void' }));
    expect(unknownOp).toMatchObject({ outcome: 'deny', ruleIds: [], errors: [] });
    expect(unknownOp.reasons[0]).toMatch(/"refunds.void" is not an action of the policy schema; no permit matched/);
  });

  it('ignores params and context fields the schema does not declare', () => {
    const decision = decide(refunds, request({ note: 'vip' }, {}, { missionStep: 4, model: 'offline' }));
    expect(decision.outcome).toBe('allow');
  });
});

describe('decide: outcomes across several permits', () => {
  const tiered = load(
    permit('any-amount', 'true') +
      permit('over-10', 'context.amountCents > 1000', '@outcome("require_approval") @tier("supervisor")') +
      permit('over-100', 'context.amountCents > 10000', '@outcome("require_approval") @tier("finance")') +
      permit('over-1000', 'context.amountCents > 100000', '@outcome("require_approval") @tier("supervisor")') +
      permit('new-year', 'context.now >= datetime("2027-01-01")', '@outcome("require_approval") @tier("cfo")'),
    ['supervisor', 'finance', 'cfo'],
  );

  it('allows when only allow-permits match, naming all of them', () => {
    expect(decide(tiered, request({ amountCents: 500 }))).toMatchObject({ outcome: 'allow', ruleIds: ['any-amount'] });
  });

  it('requires approval when any matching permit says so, at the highest tier by the bundle order', () => {
    expect(decide(tiered, request({ amountCents: 5000 }))).toMatchObject({
      outcome: 'require_approval',
      tier: 'supervisor',
      ruleIds: ['over-10'],
    });
    expect(decide(tiered, request({ amountCents: 200000 }))).toMatchObject({
      outcome: 'require_approval',
      tier: 'finance',
      ruleIds: ['over-10', 'over-100', 'over-1000'],
    });
  });

  it('compares `now` as a Cedar datetime, whatever the ISO offset', () => {
    const late = decide(tiered, request({ amountCents: 500 }, {}, { now: '2027-01-01T00:30:00+01:00' }));
    expect(late.outcome).toBe('allow'); // 2026-12-31T23:30Z
    const newYear = decide(tiered, request({ amountCents: 500 }, {}, { now: '2027-01-01T00:30:00Z' }));
    expect(newYear).toMatchObject({ outcome: 'require_approval', tier: 'cfo', ruleIds: ['new-year'] });
  });
});

describe('decide: fails closed', () => {
  it('denies on a Cedar evaluation error even when Cedar itself would allow', () => {
    // Long overflow is an evaluation error that strict validation cannot rule out; Cedar skips the erroring
    // forbid and would allow, so the engine must deny.
    const overflowing = load(
      permit('small', 'context.amountCents <= 10000') +
        forbid('scaled', 'context.amountCents * 4611686018427387904 > 0'),
    );
    const decision = decide(overflowing, request({ amountCents: 5000 }));
    expect(decision).toMatchObject({ outcome: 'deny', ruleIds: ['scaled'] });
    expect(decision.errors).toHaveLength(1);
    expect(decision.errors[0]).toMatch(/^scaled: .*overflow/);
    expect(decision.reasons[0]).toMatch(/^evaluation error in scaled: .*\(fail closed\)$/);
  });

  it('denies when Cedar refuses the request (a context attribute the policies read is missing)', () => {
    const decision = decide(refunds, request({ currency: undefined }));
    expect(decision).toMatchObject({ outcome: 'deny', ruleIds: [] });
    expect(decision.errors).toEqual([expect.stringMatching(/attribute `currency`, but it does not/)]);
  });

  it('denies when a param has the wrong Cedar type', () => {
    const decision = decide(refunds, request({ amountCents: '5000' }));
    expect(decision.outcome).toBe('deny');
    expect(decision.errors[0]).toMatch(/is not valid for `Mandate::Action::"refunds.issue"`/);
  });

  it.each([
    ['a fraction', 2500.5, /params.amountCents .*2500.5 is not a safe integer/],
    ['an unsafe integer', 2 ** 60, /not a safe integer/],
    ['NaN', Number.NaN, /NaN is not a safe integer/],
    ['null', null, /params.amountCents cannot be represented in Cedar: Cedar has no null/],
    ['an entity smuggled as a record', { __entity: { type: 'Mandate::User', id: 'root' } }, /"__entity" is reserved/],
    ['an extension value', { __extn: { fn: 'decimal', arg: '1.0' } }, /"__extn" is reserved/],
    ['a function', () => 1, /a function is not JSON data/],
    ['a Date', new Date(0), /a Date object is not JSON data/],
    ['a null inside a list', [1, null], /params.amountCents\[1\] cannot be represented/],
    ['deep nesting', JSON.parse('['.repeat(40) + ']'.repeat(40)) as unknown, /nested deeper than 16 levels/],
  ])('denies a param that Cedar cannot represent: %s', (_label, value, reason) => {
    const decision = decide(refunds, request({ amountCents: value }));
    expect(decision).toMatchObject({ outcome: 'deny', ruleIds: [] });
    expect(decision.reasons[0]).toMatch(reason);
    expect(decision.errors).toEqual(decision.reasons);
  });

  it('denies when a param and a context field disagree', () => {
    const decision = decide(refunds, request({ amountCents: 5000 }, {}, { amountCents: 900000 }));
    expect(decision.reasons).toEqual(['params.amountCents and context.amountCents disagree; refusing to guess']);
    expect(decide(refunds, request({ amountCents: 5000 }, {}, { amountCents: 5000 })).outcome).toBe('allow');
  });

  it.each([
    ['a bad data class', { ...request(), mission: { ...request().mission, dataClass: 'secret' } }, /mission.dataClass/],
    ['a non-ISO time', { ...request(), context: { now: 'yesterday', priorActions: 0 } }, /context.now/],
    [
      'negative prior actions',
      { ...request(), context: { now: '2026-01-01T00:00:00Z', priorActions: -1 } },
      /priorActions/,
    ],
    ['no agent', { ...request(), agent: '' }, /agent/],
    ['no request at all', null, /invalid policy request/],
  ])('denies a malformed request: %s', (_label, req, reason) => {
    const decision = decide(refunds, req as PolicyRequest);
    expect(decision.outcome).toBe('deny');
    expect(decision.reasons[0]).toMatch(/^invalid policy request: /);
    expect(decision.reasons[0]).toMatch(reason);
  });

  it('turns a thrown exception into a deny', () => {
    const params: Record<string, unknown> = { orderId: 'o-1' };
    Object.defineProperty(params, 'amountCents', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    });
    const req = request();
    const decision = decide(refunds, { ...req, action: { ...req.action, params } });
    expect(decision).toMatchObject({ outcome: 'deny', errors: ['policy engine failure: boom'] });
  });

  it('denies with a bundle that was not loaded in this process', () => {
    const copy = JSON.parse(JSON.stringify(refunds)) as PolicyBundle;
    expect(decide(copy, request())).toMatchObject({ outcome: 'deny', policyVersion: refunds.policyVersion });
    expect(decide(null as unknown as PolicyBundle, request())).toMatchObject({
      outcome: 'deny',
      policyVersion: 'unknown',
    });
  });
});

describe('explain', () => {
  it('states outcome, tier, rules, reasons and version', () => {
    const text = explain(decide(refunds, request({ amountCents: 20000 })));
    expect(text.split('\n')).toEqual([
      'outcome: require_approval (approval tier: supervisor)',
      'rules: refund-medium-supervisor',
      '  - refund-medium-supervisor: refund above 100.00 and up to 1,000.00 needs a supervisor [approval tier: supervisor]',
      `policy version: ${refunds.policyVersion}`,
    ]);
  });

  it('lists errors and says when no rule applied', () => {
    const text = explain(decide(refunds, request({ amountCents: 1.5 })));
    expect(text).toContain('outcome: deny\nrules: (none)\n');
    expect(text).toMatch(/errors:\n {2}- params.amountCents cannot be represented/);
  });
});
