import type { Catalog } from '../catalog/catalog';
import type { Connector, Facts, OperationContext, OperationSpec } from '../connectors/connector';
import { ConnectorError } from '../connectors/connector';
import { subjectProblem } from '../connectors/subject';
import type { BoundDecision, DecisionCheck, ProposedAction } from '../contract/mission';
import { actionParamsHash } from '../core/grant';
import type { MissionDefinition, SubjectRef } from '../core/mission';
import type { DecisionService } from '../policy/decision-service';
import type { ActionLedger } from '../policy/ledger';

/**
 * How a proposed action is decided, in order: the operation's params schema, the mission's subject
 * (every row the action touches must be the subject's), the facts policy needs (loaded by the connector
 * from the system of record), Cedar, and — unless policy denied — the connector's dry run. Any check
 * that fails is a `deny` naming the check and the reason, so nothing is granted that could not run or
 * that reaches beyond the mission's subject. The decision activity, `mandate policy explain` and the
 * benchmark all decide through here.
 */
export interface DecisionInputs {
  decisions: DecisionService;
  connectors: Record<string, Connector>;
  ledger?: ActionLedger;
}

export interface ProposalRequest {
  missionId: string;
  initiator: string;
  action: ProposedAction;
  priorActions: number;
  now: Date;
  subject?: SubjectRef;
}

export function decideProposal(
  deps: DecisionInputs,
  definition: MissionDefinition,
  request: ProposalRequest,
): BoundDecision {
  const { operation, params } = request.action;
  const deny = (check: DecisionCheck, reason: string, facts?: Facts): BoundDecision => ({
    outcome: 'deny',
    ruleIds: [],
    reasons: [reason],
    policyVersion: deps.decisions.policyVersionOf(definition),
    errors: [],
    paramsHash: actionParamsHash(operation, params),
    engine: definition.decision.engine,
    check,
    ...(facts ? { facts } : {}),
  });
  // An operation the mission does not declare is policy's to deny (it names the reason).
  if (!definition.operations.includes(operation)) return deps.decisions.decide(definition, request);
  const found = writeSpec(deps.connectors, definition.integration, operation);
  if (typeof found === 'string') return deny('params', found);
  const { connector, spec } = found;
  const checked = spec.params.safeParse(params);
  if (!checked.success) {
    const problems = checked.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`).join('; ');
    return deny('params', `params do not satisfy ${operation}: ${problems}`);
  }
  const parsed = checked.data;
  const ctx: OperationContext = {
    missionId: request.missionId,
    actionId: request.action.actionId,
    now: request.now,
    ...(request.subject ? { subject: request.subject } : {}),
  };
  if (request.subject) {
    const outside = subjectProblem(connector, spec, operation, parsed, request.subject, ctx);
    if (outside) return deny('subject', `refused: outside the mission's subject: ${outside}`);
  }
  let facts: Facts | undefined;
  try {
    facts = spec.facts?.load(parsed, ctx);
  } catch (err) {
    if (!(err instanceof ConnectorError)) throw err;
    return deny('facts', `the facts for ${operation} could not be loaded: ${err.message}`);
  }
  const aggregates = aggregatesFor(deps, definition, request, facts);
  const decision = deps.decisions.decide(definition, {
    ...request,
    ...(facts ? { facts } : {}),
    ...(aggregates ? { aggregates } : {}),
  });
  if (decision.outcome === 'deny') return decision;
  const refused = dryRun(spec, parsed, ctx);
  return refused ? deny('validate', `the system of record refuses ${operation}: ${refused}`, facts) : decision;
}

/**
 * The rolling aggregates the definition declares, from the action ledger, for this decision's initiator,
 * mission type and customer (the customer key is a fact from the system of record, never a param).
 */
export function aggregatesFor(
  deps: DecisionInputs,
  definition: MissionDefinition,
  request: Pick<ProposalRequest, 'initiator' | 'now'>,
  facts: Facts | undefined,
): Record<string, number> | undefined {
  const history = definition.history;
  if (!history) return undefined;
  if (!deps.ledger) throw new Error(`${definition.type} declares aggregates but this worker has no action ledger`);
  const customer = history.customerFact !== undefined ? facts?.[history.customerFact] : undefined;
  return deps.ledger.aggregates(history.aggregates, {
    missionType: definition.type,
    initiator: request.initiator,
    ...(customer !== undefined ? { customer: String(customer) } : {}),
    now: request.now,
  });
}

/** The connector's dry run of a write: why it could not run now, or undefined. */
export function dryRun(spec: OperationSpec<never, unknown>, params: never, ctx: OperationContext): string | undefined {
  try {
    spec.validate?.(params, ctx);
    return undefined;
  } catch (err) {
    if (err instanceof ConnectorError) return err.message;
    throw err;
  }
}

/** The connector and write operation an action names, or why there is none. */
export function writeSpec(
  connectors: Record<string, Connector>,
  integration: string,
  operation: string,
): { connector: Connector; spec: OperationSpec<never, unknown> } | string {
  const connector = Object.hasOwn(connectors, integration) ? connectors[integration] : undefined;
  if (!connector) return `this worker has no connector ${integration}`;
  const spec = Object.hasOwn(connector.operations, operation) ? connector.operations[operation] : undefined;
  if (!spec || spec.kind !== 'write') return `${integration} has no state-changing operation ${operation}`;
  return { connector, spec };
}

/**
 * Whether a decision made again (on the facts inside the effect's transaction) still supports the grant:
 * undefined when it does, else why not. An action allowed outright must still be allowed; an approved
 * one must not now need a higher tier than the one that approved it, nor be denied.
 */
export function stillHolds(
  again: BoundDecision,
  approvedTier: string | undefined,
  tiers: readonly string[],
): string | undefined {
  if (again.outcome === 'deny') return `policy now denies it (${again.reasons.join('; ')})`;
  if (again.outcome === 'allow') return undefined;
  const tier = again.tier ?? 'default';
  if (approvedTier === undefined) return `policy now requires ${tier} approval (${again.reasons.join('; ')})`;
  return tiers.indexOf(tier) > tiers.indexOf(approvedTier)
    ? `policy now requires ${tier} approval, above the ${approvedTier} approval given`
    : undefined;
}

/**
 * Checks at worker start that what each definition and policy rely on exists: the connector resolves
 * the mission's subject, every operation says how its rows relate to one, and every fact a policy
 * declares (`context.facts`) is one the operation's connector loads. Throws naming what is missing.
 */
export function checkDecisionInputs(catalog: Catalog, deps: DecisionInputs): void {
  const problems: string[] = [];
  for (const type of catalog.types()) {
    const { definition } = catalog.get(type);
    const connector = Object.hasOwn(deps.connectors, definition.integration)
      ? deps.connectors[definition.integration]
      : undefined;
    if (definition.history && !deps.ledger)
      problems.push(`${type}: declares aggregates, but there is no action ledger`);
    if (!connector) continue;
    if (definition.subject && !Object.hasOwn(connector.subjects ?? {}, definition.subject.type)) {
      problems.push(`${type}: connector ${connector.name} cannot resolve a subject of type ${definition.subject.type}`);
    }
    for (const operation of definition.operations) {
      const spec = Object.hasOwn(connector.operations, operation) ? connector.operations[operation] : undefined;
      if (definition.subject && spec && !spec.rows) {
        problems.push(`${type}: ${connector.name} ${operation} does not say how its rows relate to a subject`);
      }
      const declared = new Set((definition.history?.aggregates ?? []).map((a) => a.name));
      const undeclared = deps.decisions
        .declaredRecord(type, operation, 'aggregates')
        .filter((name) => !declared.has(name));
      if (undeclared.length) {
        problems.push(
          `${type}: its policy reads context.aggregates.${undeclared.join(', ')} for ${operation}, which its definition does not declare`,
        );
      }
      const loaded = new Set(spec?.facts?.names ?? []);
      const missing = deps.decisions.declaredRecord(type, operation, 'facts').filter((f) => !loaded.has(f));
      if (missing.length) {
        problems.push(
          `${type}: its policy reads context.facts.${missing.join(', ')} for ${operation}, which ${connector.name} does not load`,
        );
      }
    }
  }
  if (problems.length) throw new Error(`mission catalog and connectors disagree: ${problems.join('; ')}`);
}
