import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Catalog } from '../catalog/catalog';
import { actionParamsHash } from '../core/grant';
import { hashJson } from '../core/hash';
import type { BoundDecision, ProposedAction } from '../contract/mission';
import type { MissionDefinition } from '../core/mission';
import { decideByRules } from './rules';
import { decide, loadPolicyBundle } from './cedar-engine';
import type { PolicyBundle } from './cedar-engine';
import { bundleRuntime } from './bundle-loader';

/**
 * The decision service: turns a proposed action into allow | require_approval(tier) | deny, bound
 * to the exact params it was made for. Cedar bundles are loaded and validated (strict) once, when
 * the worker starts: a bad policy stops the worker with the file, line and Cedar's message.
 */
export interface DecisionRequest {
  missionId: string;
  initiator: string;
  action: ProposedAction;
  /** Actions already executed in this mission. */
  priorActions: number;
  now: Date;
  /** Facts about the action from the system of record (`context.facts`), loaded by the connector. */
  facts?: Record<string, unknown>;
  /** Rolling aggregates of the action ledger (`context.aggregates`), as the definition declares them. */
  aggregates?: Record<string, number>;
}

export class DecisionService {
  private constructor(private readonly bundles: ReadonlyMap<string, PolicyBundle>) {}

  static load(catalog: Catalog): DecisionService {
    const bundles = new Map<string, PolicyBundle>();
    for (const type of catalog.types()) {
      const entry = catalog.get(type);
      if (entry.definition.decision.engine !== 'cedar') continue;
      const sourcePath = join(entry.dir, 'policy.cedar');
      const schemaSourcePath = join(entry.dir, 'policy.cedarschema');
      bundles.set(
        type,
        loadPolicyBundle({
          name: type,
          policyText: readFileSync(sourcePath, 'utf8'),
          schemaText: readFileSync(schemaSourcePath, 'utf8'),
          sourcePath,
          schemaSourcePath,
          tiers: Object.keys(entry.definition.approval.ladders).length
            ? Object.keys(entry.definition.approval.ladders)
            : undefined,
        }),
      );
    }
    return new DecisionService(bundles);
  }

  /**
   * The members of `context.facts` (or another system record) the mission's policy declares for an
   * operation: what someone must supply. Empty when the policy reads none.
   */
  declaredRecord(type: string, operation: string, record: 'facts' | 'aggregates'): string[] {
    const bundle = this.bundles.get(type);
    const runtime = bundle && bundleRuntime(bundle);
    return [...(runtime?.actionRecords.get(operation)?.get(record) ?? [])].sort();
  }

  /** Approval tiers of a mission type's policy, lowest first. */
  tiersOf(type: string): readonly string[] {
    return this.bundles.get(type)?.tiers ?? [];
  }

  /** The loaded Cedar bundle of a mission type (benchmarks and `mandate policy` use it). */
  bundleFor(type: string): PolicyBundle | undefined {
    return this.bundles.get(type);
  }

  /** The policy version decisions for this mission type are made under right now. */
  policyVersionOf(definition: MissionDefinition): string {
    if (definition.decision.engine === 'rules') return hashJson(definition.decision.rules);
    return this.bundles.get(definition.type)?.policyVersion ?? 'none';
  }

  decide(definition: MissionDefinition, request: DecisionRequest): BoundDecision {
    const { action } = request;
    const paramsHash = actionParamsHash(action.operation, action.params);
    if (definition.decision.engine === 'rules')
      return { ...decideByRules(definition, action), paramsHash, engine: 'rules' };

    const bundle = this.bundles.get(definition.type);
    if (!bundle) {
      return {
        outcome: 'deny',
        ruleIds: [],
        reasons: [`no Cedar policy loaded for ${definition.type}`],
        policyVersion: 'none',
        errors: [],
        paramsHash,
        engine: 'cedar',
      };
    }
    if (!definition.operations.includes(action.operation)) {
      return {
        outcome: 'deny',
        ruleIds: [],
        reasons: [`operation ${action.operation} is not one this mission may perform`],
        policyVersion: bundle.policyVersion,
        errors: [],
        paramsHash,
        engine: 'cedar',
      };
    }
    const decision = decide(bundle, {
      mission: {
        id: request.missionId,
        type: definition.type,
        dataClass: definition.dataClass,
        initiator: request.initiator,
      },
      agent: definition.type,
      onBehalfOf: request.initiator,
      action: { actionId: action.actionId, operation: action.operation, params: action.params },
      context: {
        now: request.now.toISOString(),
        priorActions: request.priorActions,
        ...(request.facts ? { facts: request.facts } : {}),
        ...(request.aggregates ? { aggregates: request.aggregates } : {}),
      },
    });
    return {
      ...decision,
      paramsHash,
      engine: 'cedar',
      ...(request.facts ? { facts: request.facts } : {}),
      ...(request.aggregates ? { aggregates: request.aggregates } : {}),
    };
  }
}
