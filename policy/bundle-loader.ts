import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { SchemaJson, Type, ValidationError } from '@cedar-policy/cedar-wasm/nodejs';
import { hashJson, sha256Hex } from '../core/hash';
import { buildEntities, NAMESPACE, SYSTEM_CONTEXT_RECORDS } from './cedar-request';
import { readPolicyFile, type LocatedPolicy } from './policy-file';
import { issueFromCedar, normalizeNewlines } from './source-text';
import {
  DEFAULT_APPROVAL_TIERS,
  formatIssue,
  PolicyLoadError,
  type LoadedPolicy,
  type LoadPolicyBundleInput,
  type PolicyBundle,
  type PolicyLoadIssue,
  type PolicyRequest,
} from './types';

/** What `decide` needs beyond the public bundle; kept out of the public type so a bundle cannot be forged. */
export interface BundleRuntime {
  policySetId: string;
  schemaName: string;
  policiesById: ReadonlyMap<string, LoadedPolicy>;
  /** Declared context attribute names per action id (operation). */
  actionContexts: ReadonlyMap<string, ReadonlySet<string>>;
  /**
   * Per action id, the members declared for each record-typed context attribute the system fills
   * (`facts`, `aggregates`): the request keeps exactly those, and the worker checks at start that
   * someone supplies each of them.
   */
  actionRecords: ReadonlyMap<string, ReadonlyMap<string, ReadonlySet<string>>>;
}

const runtimes = new WeakMap<PolicyBundle, BundleRuntime>();
let preparseSeq = 0;

/** The runtime of a bundle loaded in this process, or undefined for anything else. */
export function bundleRuntime(bundle: PolicyBundle): BundleRuntime | undefined {
  return runtimes.get(bundle);
}

/** Any well-formed request will do: it only checks that the schema declares the entity model. */
const PROBE: PolicyRequest = {
  mission: { id: 'm', type: 't', dataClass: 'internal', initiator: 'u1' },
  agent: 'a',
  onBehalfOf: 'u2',
  action: { actionId: 'x', operation: 'probe', params: {} },
  context: { now: '2000-01-01T00:00:00Z', priorActions: 0 },
};

/**
 * Loads a mission's policy bundle: splits the `.cedar` file into `@id`-annotated policies, checks their
 * `@outcome`/`@tier` annotations, validates them against the schema in strict mode, computes the policy
 * version and preparses policies and schema for `decide`.
 * @throws PolicyLoadError naming file, line, column and Cedar's message for every problem found.
 */
export function loadPolicyBundle(input: LoadPolicyBundleInput): PolicyBundle {
  const file = input.sourcePath ?? `${input.name}.cedar`;
  const schemaFile = input.schemaSourcePath ?? `${input.name}.cedarschema`;
  const fail = (issues: PolicyLoadIssue[]): never => {
    throw new PolicyLoadError(input.name, issues);
  };
  const tiers = [...(input.tiers ?? DEFAULT_APPROVAL_TIERS)];
  if (tiers.length === 0 || new Set(tiers).size !== tiers.length || tiers.some((t) => !t)) {
    fail([{ file, message: `approval tiers must be distinct non-empty names, got ${JSON.stringify(tiers)}` }]);
  }
  const policyText = normalizeNewlines(input.policyText);
  const schemaText = normalizeNewlines(input.schemaText);

  const schemaParse = cedar.checkParseSchema(schemaText);
  if (schemaParse.type === 'failure') {
    const source = { fileText: schemaText, sourceText: schemaText, base: 0 };
    fail(schemaParse.errors.map((e) => issueFromCedar(e, schemaFile, source)));
  }
  const { policies, issues } = readPolicyFile(policyText, file, tiers);
  if (issues.length > 0) fail(issues);
  const staticPolicies = Object.fromEntries(policies.map((p) => [p.id, p.text]));
  const { errors, warnings } = validateStrictly(staticPolicies, schemaText, policies, policyText, file);
  if (errors.length > 0) fail(errors);

  const probe = cedar.checkParseEntities({ entities: buildEntities(PROBE), schema: schemaText });
  if (probe.type === 'failure') {
    const why = probe.errors.map((e) => e.message).join('; ');
    fail([{ file: schemaFile, message: `the schema does not declare the engine's entity model (${why})` }]);
  }

  const policyVersion = hashJson(policies.map((p) => [p.id, p.text]).sort(([a], [b]) => (a < b ? -1 : 1)));
  // Cedar keeps preparsed sets in a per-thread cache keyed by these names: unique per load, never reused.
  const preparseId = `${input.name}#${++preparseSeq}@${policyVersion.slice(0, 16)}`;
  const loaded = policies.map(({ offset: _offset, ...policy }) => Object.freeze(policy));
  const runtime: BundleRuntime = {
    policySetId: `${preparseId}/policies`,
    schemaName: `${preparseId}/schema`,
    policiesById: new Map(loaded.map((p) => [p.id, p])),
    ...actionContexts(schemaText),
  };
  for (const answer of [
    cedar.preparseSchema(runtime.schemaName, schemaText),
    cedar.preparsePolicySet(runtime.policySetId, { staticPolicies }),
  ]) {
    if (answer.type === 'failure') fail(answer.errors.map((e) => issueFromCedar(e, file)));
  }

  const bundle: PolicyBundle = Object.freeze({
    name: input.name,
    sourcePath: file,
    schemaSourcePath: schemaFile,
    policyVersion,
    schemaVersion: sha256Hex(schemaText),
    tiers: Object.freeze(tiers),
    policies: Object.freeze(loaded),
    warnings: Object.freeze(warnings),
  });
  runtimes.set(bundle, runtime);
  return bundle;
}

/** Strict validation; errors and warnings located in the policy file. */
function validateStrictly(
  staticPolicies: Record<string, string>,
  schemaText: string,
  policies: readonly LocatedPolicy[],
  fileText: string,
  file: string,
): { errors: PolicyLoadIssue[]; warnings: string[] } {
  const answer = cedar.validate({
    schema: schemaText,
    policies: { staticPolicies },
    validationSettings: { mode: 'strict' },
  });
  if (answer.type === 'failure') return { errors: answer.errors.map((e) => issueFromCedar(e, file)), warnings: [] };
  const located = ({ policyId, error }: ValidationError) => {
    const policy = policies.find((p) => p.id === policyId);
    const source = policy && { fileText, sourceText: policy.text, base: policy.offset };
    return issueFromCedar(error, file, source, policyId);
  };
  return {
    errors: answer.validationErrors.map(located),
    warnings: [
      ...answer.validationWarnings.map((w) => formatIssue(located(w))),
      ...answer.otherWarnings.map((e) => formatIssue(issueFromCedar(e, file))),
    ],
  };
}

/** Context attribute names the schema declares for each action of the `Mandate` namespace. */
function actionContexts(schemaText: string): Pick<BundleRuntime, 'actionContexts' | 'actionRecords'> {
  const answer = cedar.schemaToJsonWithResolvedTypes(schemaText);
  if (answer.type === 'failure') throw new Error(answer.errors.map((e) => e.message).join('; '));
  const actions = Object.entries(answer.json[NAMESPACE]?.actions ?? {});
  const records = (type: Type<string> | undefined) => {
    const members = attributes(answer.json, type);
    const out = new Map<string, ReadonlySet<string>>();
    for (const name of SYSTEM_CONTEXT_RECORDS) {
      if (members.has(name)) out.set(name, new Set(attributes(answer.json, members.get(name)).keys()));
    }
    return out;
  };
  return {
    actionContexts: new Map(
      actions.map(([id, action]) => [id, new Set(attributes(answer.json, action.appliesTo?.context).keys())]),
    ),
    actionRecords: new Map(actions.map(([id, action]) => [id, records(action.appliesTo?.context)])),
  };
}

/** The attributes of a record type (following common types), with their types. */
function attributes(json: SchemaJson<string>, type: Type<string> | undefined, depth = 0): Map<string, Type<string>> {
  const shape = type as { type?: string; attributes?: Record<string, Type<string>> } | undefined;
  if (!shape?.type) return new Map();
  if (shape.type === 'Record') return new Map(Object.entries(shape.attributes ?? {}));
  // A common type, e.g. `context: RefundContext`, appears as {"type": "Mandate::RefundContext"}.
  const cut = shape.type.lastIndexOf('::');
  const [namespace, name] = cut === -1 ? ['', shape.type] : [shape.type.slice(0, cut), shape.type.slice(cut + 2)];
  const common = json[namespace]?.commonTypes?.[name];
  return common && depth < 8 ? attributes(json, common, depth + 1) : new Map();
}
