import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { bundleRuntime } from '../../policy/bundle-loader';
import { buildCedarRequest } from '../../policy/cedar-request';
import { DecisionService } from '../../policy/decision-service';
import { Catalog } from '../../catalog/catalog';
import type { ProposedAction } from '../../contract/mission';

/**
 * Decision service throughput against raw `statefulIsAuthorized` on the same preparsed policies and
 * the same requests: what validation, entity building, annotation handling and binding cost on top.
 */
export interface DecisionsResult {
  decisions: number;
  service: { seconds: number; perSecond: number };
  raw: { seconds: number; perSecond: number };
  /** service rate / raw rate. */
  ratio: number;
}

export function benchDecisions(count: number): DecisionsResult {
  const catalog = Catalog.load();
  const definition = catalog.get('customer-refund').definition;
  // DecisionService.load preparses the policies once; the raw baseline reuses that preparsed set.
  const service = DecisionService.load(catalog);
  const amounts = [4599, 45000, 240000, 900000];
  const actions: ProposedAction[] = amounts.map((amountCents, i) => ({
    actionId: `a${i}`,
    operation: 'refunds.issue',
    params: { orderId: 'ORD-5001', caseId: 'CASE-1001', amountCents, currency: 'USD', reason: 'bench' },
    rationale: 'bench',
  }));
  const now = new Date();
  const request = (action: ProposedAction) => ({
    missionId: 'bench',
    initiator: 'bench',
    action,
    priorActions: 0,
    now,
  });

  const started = performance.now();
  for (let i = 0; i < count; i++) service.decide(definition, request(actions[i % actions.length]));
  const serviceSeconds = (performance.now() - started) / 1000;

  const runtime = bundleRuntime(service.bundleFor('customer-refund')!)!;
  const declared = runtime.actionContexts.get('refunds.issue')!;
  const rawCalls = actions.map((action) => {
    const built = buildCedarRequest(
      {
        mission: { id: 'bench', type: definition.type, dataClass: definition.dataClass, initiator: 'bench' },
        agent: definition.type,
        onBehalfOf: 'bench',
        action,
        context: { now: now.toISOString(), priorActions: 0 },
      },
      declared,
    );
    if (!built.ok) throw new Error(built.reason);
    return {
      ...built.parts,
      preparsedPolicySetId: runtime.policySetId,
      preparsedSchemaName: runtime.schemaName,
      validateRequest: true,
    };
  });
  const rawStarted = performance.now();
  for (let i = 0; i < count; i++) {
    const answer = cedar.statefulIsAuthorized(rawCalls[i % rawCalls.length]);
    if (answer.type !== 'success') throw new Error('raw statefulIsAuthorized failed');
  }
  const rawSeconds = (performance.now() - rawStarted) / 1000;

  const serviceRate = count / serviceSeconds;
  const rawRate = count / rawSeconds;
  return {
    decisions: count,
    service: { seconds: round(serviceSeconds), perSecond: round(serviceRate) },
    raw: { seconds: round(rawSeconds), perSecond: round(rawRate) },
    ratio: round(serviceRate / rawRate),
  };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
