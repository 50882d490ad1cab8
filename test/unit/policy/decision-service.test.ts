import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DecisionService } from '../../../policy/decision-service';
import type { DecisionRequest } from '../../../policy/decision-service';
import { PolicyLoadError } from '../../../policy/types';
import { Catalog, DEFAULT_CATALOG_DIR } from '../../../catalog/catalog';
import { actionParamsHash } from '../../../core/grant';
import { hashJson } from '../../../core/hash';
import type { DecisionRule, MissionDefinition } from '../../../core/mission';

const REFUND_DIR = join(DEFAULT_CATALOG_DIR, 'customer-refund');
const NOW = new Date('2025-03-01T09:30:00.000Z');

const catalog = Catalog.load();
const service = DecisionService.load(catalog);
const definition = catalog.get('customer-refund').definition;

const refund = (amountCents: number, operation = 'refunds.issue'): DecisionRequest => ({
  missionId: 'mission-1',
  initiator: 'dana.desk',
  action: {
    actionId: 'a1',
    operation,
    params: { orderId: 'ORD-5002', caseId: 'CASE-1002', amountCents, currency: 'USD', reason: 'leaks' },
    rationale: 'test',
  },
  priorActions: 0,
  now: NOW,
  // As the connector loads them for ORD-5002 (a total large enough for every amount tried here).
  facts: {
    caseStatus: 'open',
    customerId: 'CUS-1002',
    orderAgeDays: 20,
    orderTotalCents: 10_000_000,
    orderCurrency: 'USD',
    refundedCents: 0,
    refundCount: 0,
  },
});

/** The thrown error, failing the test when nothing was thrown. */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

describe('DecisionService on the real catalog (Cedar policy of customer-refund)', () => {
  const version = service.policyVersionOf(definition);

  it('uses Cedar for customer-refund, under a sha256 policy version', () => {
    expect(definition.decision.engine).toBe('cedar');
    expect(version).toMatch(/^[0-9a-f]{64}$/);
    expect(DecisionService.load(Catalog.load()).policyVersionOf(definition)).toBe(version);
  });

  it('allows 45.99 under refund-small-auto', () => {
    expect(service.decide(definition, refund(4599))).toMatchObject({
      outcome: 'allow',
      ruleIds: ['refund-small-auto'],
      policyVersion: version,
      errors: [],
      engine: 'cedar',
    });
  });

  it('sends 450.00 to a supervisor', () => {
    const decision = service.decide(definition, refund(45000));
    expect(decision).toMatchObject({ outcome: 'require_approval', tier: 'supervisor', engine: 'cedar' });
    expect(decision.ruleIds).toEqual(['refund-medium-supervisor']);
  });

  it('sends 2,400.00 to finance', () => {
    const decision = service.decide(definition, refund(240000));
    expect(decision).toMatchObject({ outcome: 'require_approval', tier: 'finance', engine: 'cedar' });
    expect(decision.ruleIds).toEqual(['refund-large-finance']);
  });

  it('denies 9,000.00 with the forbid that matched', () => {
    const decision = service.decide(definition, refund(900000));
    expect(decision.outcome).toBe('deny');
    expect(decision.tier).toBeUndefined();
    expect(decision.ruleIds).toEqual(['refund-over-limit']);
  });

  it('denies a second refund in the same mission', () => {
    const decision = service.decide(definition, { ...refund(4599), priorActions: 1 });
    expect([decision.outcome, decision.ruleIds]).toEqual(['deny', ['refund-once-per-mission']]);
  });

  it('denies an operation the mission does not declare, without asking Cedar', () => {
    expect(service.decide(definition, refund(4599, 'refunds.void'))).toEqual({
      outcome: 'deny',
      ruleIds: [],
      reasons: ['operation refunds.void is not one this mission may perform'],
      policyVersion: version,
      errors: [],
      paramsHash: actionParamsHash('refunds.void', refund(4599).action.params),
      engine: 'cedar',
    });
  });

  it('binds each decision to actionParamsHash(operation, params)', () => {
    for (const amount of [4599, 45000, 240000, 900000]) {
      const request = refund(amount);
      expect(service.decide(definition, request).paramsHash).toBe(
        actionParamsHash(request.action.operation, request.action.params),
      );
    }
    expect(service.decide(definition, refund(4599)).paramsHash).not.toBe(
      service.decide(definition, refund(4600)).paramsHash,
    );
  });

  it('denies a Cedar mission type whose policy was never loaded (fail closed)', () => {
    const unknown: MissionDefinition = { ...definition, type: 'unloaded-type' };
    expect(service.decide(unknown, refund(4599))).toMatchObject({
      outcome: 'deny',
      reasons: ['no Cedar policy loaded for unloaded-type'],
      policyVersion: 'none',
    });
    expect(service.policyVersionOf(unknown)).toBe('none');
  });

  it('decides a rules definition by its table, versioned by the rules’ hash', () => {
    const rules: DecisionRule[] = [
      { id: 'all-auto', operation: 'refunds.issue', outcome: 'allow', reason: 'test table' },
    ];
    const byRules: MissionDefinition = { ...definition, decision: { engine: 'rules', rules } };
    const decision = service.decide(byRules, refund(900000));
    expect(decision).toMatchObject({ outcome: 'allow', ruleIds: ['all-auto'], engine: 'rules' });
    expect(decision.paramsHash).toBe(actionParamsHash('refunds.issue', refund(900000).action.params));
    expect(service.policyVersionOf(byRules)).toBe(hashJson(rules));
  });
});

describe('DecisionService.load on a broken catalog copy', () => {
  let root: string;
  let dir: string;
  const policyText = readFileSync(join(REFUND_DIR, 'policy.cedar'), 'utf8');
  /** 1-based line of the first line containing `needle` in the real policy. */
  const lineOf = (needle: string): number => policyText.split('\n').findIndex((l) => l.includes(needle)) + 1;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'mandate-decision-'));
    dir = join(root, 'customer-refund');
    cpSync(REFUND_DIR, dir, { recursive: true });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const loadError = (): Error => thrown(() => DecisionService.load(Catalog.load(root)));

  it('loads an unchanged copy under the same policy version', () => {
    const copy = Catalog.load(root);
    expect(DecisionService.load(copy).policyVersionOf(copy.get('customer-refund').definition)).toBe(
      service.policyVersionOf(definition),
    );
  });

  it('refuses a syntax error, naming policy.cedar and the line', () => {
    const line = lineOf('context.amountCents <= 10000 }');
    expect(line).toBeGreaterThan(1);
    writeFileSync(
      join(dir, 'policy.cedar'),
      policyText.replace('context.amountCents <= 10000 }', 'context.amountCents <= }'),
    );
    const err = loadError();
    expect(err).toBeInstanceOf(PolicyLoadError);
    expect(err.message).toMatch(new RegExp(`^${escape(join(dir, 'policy.cedar'))}:${line}:\\d+: `));
    expect((err as PolicyLoadError).issues[0]).toMatchObject({ file: join(dir, 'policy.cedar'), line });
  });

  it('refuses a policy that fails strict validation (an attribute the schema does not have), naming the file', () => {
    const line = lineOf('context.amountCents <= 10000 }');
    writeFileSync(
      join(dir, 'policy.cedar'),
      policyText.replace('context.amountCents <= 10000 }', 'context.amountCents <= 10000 && resource.region == "EU" }'),
    );
    const err = loadError();
    expect(err).toBeInstanceOf(PolicyLoadError);
    expect(err.message).toMatch(new RegExp(`^${escape(join(dir, 'policy.cedar'))}:${line}:\\d+: `));
    expect(err.message).toContain('refund-small-auto');
    expect(err.message).toContain('region');
  });

  it('refuses a schema that does not parse, naming policy.cedarschema', () => {
    writeFileSync(join(dir, 'policy.cedarschema'), 'namespace Mandate { entity User }');
    const err = loadError();
    expect(err).toBeInstanceOf(PolicyLoadError);
    expect(err.message).toContain(join(dir, 'policy.cedarschema'));
  });

  it('does not read policy files for a mission decided by rules', () => {
    const raw = JSON.parse(readFileSync(join(dir, 'definition.json'), 'utf8'));
    const rules = [{ id: 'all-auto', operation: 'refunds.issue', outcome: 'allow', reason: 'test table' }];
    writeFileSync(join(dir, 'definition.json'), JSON.stringify({ ...raw, decision: { engine: 'rules', rules } }));
    rmSync(join(dir, 'policy.cedar'));
    const copy = Catalog.load(root);
    expect(DecisionService.load(copy).policyVersionOf(copy.get('customer-refund').definition)).toBe(hashJson(rules));
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
