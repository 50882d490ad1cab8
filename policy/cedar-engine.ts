/**
 * The Cedar decision engine: every state-changing action an agent proposes is put to the mission's Cedar
 * policies, which answer allow, require_approval (with a tier) or deny.
 *
 * Semantics, in order:
 *   1. anything that prevents a clean evaluation (bad request, unrepresentable param, Cedar error, thrown
 *      exception) denies: the engine fails closed and never throws;
 *   2. a matching `forbid` denies (forbid wins), naming every matching forbid;
 *   3. no matching `permit` denies by default;
 *   4. if a matching permit carries `@outcome("require_approval")`, approval is required at the highest
 *      `@tier` among those permits, by the bundle's tier order;
 *   5. otherwise the action is allowed.
 * The entity model Cedar sees is described in `cedar-request.ts`.
 */
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { AuthorizationError, DetailedError } from '@cedar-policy/cedar-wasm/nodejs';
import { bundleRuntime, type BundleRuntime } from './bundle-loader';
import { buildCedarRequest } from './cedar-request';
import { cedarMessage } from './source-text';
import type { LoadedPolicy, PolicyBundle, PolicyDecision, PolicyRequest } from './types';

export { loadPolicyBundle } from './bundle-loader';
export { policyRequestSchema } from './cedar-request';
export * from './types';

const DEFAULT_DENY = 'no permit matched: default deny';

/**
 * Decides one proposed action. Pure apart from Cedar's preparsed cache; never throws.
 * @param bundle a bundle returned by `loadPolicyBundle` in this process
 * @param request the proposed action; validated here, so untrusted input is fine
 */
export function decide(bundle: PolicyBundle, request: PolicyRequest): PolicyDecision {
  const policyVersion = safeVersion(bundle);
  try {
    return decideOrThrow(bundle, request, policyVersion);
  } catch (err) {
    const message = `policy engine failure: ${err instanceof Error ? err.message : String(err)}`;
    return deny(policyVersion, [], [message], [message]);
  }
}

function decideOrThrow(bundle: PolicyBundle, request: PolicyRequest, policyVersion: string): PolicyDecision {
  const runtime = bundleRuntime(bundle);
  if (!runtime) throw new Error('the bundle was not loaded by loadPolicyBundle in this process');
  const operation = (request as Partial<PolicyRequest> | undefined)?.action?.operation;
  const declared = typeof operation === 'string' ? runtime.actionContexts.get(operation) : undefined;
  // Every policy is validated against the schema, so none can permit an operation the schema lacks.
  const records = typeof operation === 'string' ? runtime.actionRecords.get(operation) : undefined;
  const built = buildCedarRequest(request, declared ?? new Set(), records);
  if (!built.ok) return deny(policyVersion, [], [built.reason], [built.reason]);
  if (!declared) {
    return deny(policyVersion, [], [`operation "${operation}" is not an action of the policy schema; ${DEFAULT_DENY}`]);
  }

  const answer = cedar.statefulIsAuthorized({
    ...built.parts,
    preparsedPolicySetId: runtime.policySetId,
    preparsedSchemaName: runtime.schemaName,
    validateRequest: true,
  });
  if (answer.type === 'failure') {
    const errors = answer.errors.map((e: DetailedError) => `cedar: ${cedarMessage(e)}`);
    return deny(policyVersion, [], errors, errors);
  }
  const { decision, diagnostics } = answer.response;
  const matched = diagnostics.reason.map((id) => policyOf(runtime, id));
  // Cedar's reasons are the forbids when it denies and the permits when it allows; filtering keeps it so.
  const forbids = matched.filter((p) => p.effect === 'forbid');
  const permits = decision === 'allow' ? matched.filter((p) => p.effect === 'permit') : [];

  if (diagnostics.errors.length > 0) {
    // Cedar skips a policy it cannot evaluate; a skipped forbid could turn into an allow, so deny.
    const errors = diagnostics.errors.map(
      ({ policyId, error }: AuthorizationError) => `${policyId}: ${cedarMessage(error)}`,
    );
    const ruleIds = [...forbids.map((p) => p.id), ...diagnostics.errors.map((e) => e.policyId)];
    const reasons = [...forbids.map(reasonOf), ...errors.map((e) => `evaluation error in ${e} (fail closed)`)];
    return deny(policyVersion, ruleIds, reasons, errors);
  }
  if (forbids.length > 0) return deny(policyVersion, ids(forbids), sortById(forbids).map(reasonOf));
  if (decision === 'deny' || permits.length === 0) return deny(policyVersion, [], [DEFAULT_DENY]);

  const gated = permits.filter((p) => p.outcome === 'require_approval');
  if (gated.length === 0) {
    return {
      outcome: 'allow',
      ruleIds: ids(permits),
      reasons: sortById(permits).map(reasonOf),
      policyVersion,
      errors: [],
    };
  }
  const tier = gated
    .map((p) => p.tier ?? '')
    .reduce((high, t) => (bundle.tiers.indexOf(t) > bundle.tiers.indexOf(high) ? t : high));
  if (!bundle.tiers.includes(tier)) throw new Error(`tier "${tier}" is not one of the bundle's tiers`);
  const reasons = sortById(gated).map(reasonOf);
  return { outcome: 'require_approval', tier, ruleIds: ids(gated), reasons, policyVersion, errors: [] };
}

/**
 * A short multi-line account of a decision, for logs, the Explain rail and the CLI.
 */
export function explain(decision: PolicyDecision): string {
  const head = decision.tier ? `${decision.outcome} (approval tier: ${decision.tier})` : decision.outcome;
  const lines = [
    `outcome: ${head}`,
    `rules: ${decision.ruleIds.length > 0 ? decision.ruleIds.join(', ') : '(none)'}`,
    ...decision.reasons.map((r) => `  - ${r}`),
    ...(decision.errors.length > 0 ? ['errors:', ...decision.errors.map((e) => `  - ${e}`)] : []),
    `policy version: ${decision.policyVersion}`,
  ];
  return lines.join('\n');
}

function deny(policyVersion: string, ruleIds: string[], reasons: string[], errors: string[] = []): PolicyDecision {
  return { outcome: 'deny', ruleIds: [...new Set(ruleIds)].sort(), reasons, policyVersion, errors };
}

function policyOf(runtime: BundleRuntime, id: string): LoadedPolicy {
  const policy = runtime.policiesById.get(id);
  if (!policy) throw new Error(`Cedar named policy "${id}", which the bundle does not contain`);
  return policy;
}

function reasonOf(policy: LoadedPolicy): string {
  const fallback =
    policy.effect === 'forbid'
      ? 'forbidden'
      : policy.outcome === 'require_approval'
        ? 'permitted with approval'
        : 'permitted';
  const tier = policy.outcome === 'require_approval' ? ` [approval tier: ${policy.tier}]` : '';
  return `${policy.id}: ${policy.reason ?? fallback}${tier}`;
}

const ids = (policies: LoadedPolicy[]): string[] => [...new Set(policies.map((p) => p.id))].sort();
const sortById = (policies: LoadedPolicy[]): LoadedPolicy[] => [...policies].sort((a, b) => (a.id < b.id ? -1 : 1));

function safeVersion(bundle: PolicyBundle): string {
  try {
    return typeof bundle?.policyVersion === 'string' ? bundle.policyVersion : 'unknown';
  } catch {
    return 'unknown';
  }
}
