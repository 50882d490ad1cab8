import { ApplicationFailure, log } from '@temporalio/activity';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { CatalogError, InvalidMissionInput } from '../core/catalog';
import type { Catalog, CatalogEntry } from '../core/catalog';
import type { MissionDefinition, ReasoningStep as ReasoningStepType } from '../core/mission';
import { JsonObject } from '../core/mission';
import { actionParamsHash, mintGrant } from '../core/grant';
import type { SignedGrant } from '../core/grant';
import type { BoundDecision } from '../core/mission';
import type { Notifier } from './notify';
import type { PendingApproval } from '../core/approval';
import type { DecisionService } from './policy/decision-service';
import type { Integration } from './integrations/integration';
import { IntegrationError, runRead, runWrite } from './integrations/integration';
import { ProviderError } from './reasoning/provider';
import { routeStep } from './reasoning/router';
import type { RoutedStep, RouterDeps } from './reasoning/router';

/** What the activities need from the process that hosts them (built in `workers/`). */
export interface ActivityDeps {
  catalog: Catalog;
  decisions: DecisionService;
  grants: GrantKeys;
  notifier: Notifier;
  integrations: Record<string, Integration>;
  reasoning: RouterDeps;
  /** Fault injection for tests: fail once right after a write committed (proves idempotent retries). */
  faults?: { failAfterWriteOnce?: boolean };
}

const LoadInput = z.object({ missionType: z.string(), input: z.unknown() });
const ReasonInput = z.object({
  missionId: z.string(),
  missionType: z.string(),
  definitionVersion: z.string(),
  stepIndex: z.number().int().min(0),
  provider: z.string().optional(),
  context: JsonObject,
  history: z.array(z.object({ kind: z.string(), summary: z.string() })),
});
const ReadInput = z.object({
  missionId: z.string(),
  integration: z.string(),
  operation: z.string(),
  params: JsonObject,
  scopes: z.array(z.string()),
});
const Action = z.object({
  actionId: z.string().min(1),
  operation: z.string(),
  params: JsonObject,
  rationale: z.string(),
});
const DecideInput = z.object({
  missionId: z.string(),
  missionType: z.string(),
  definitionVersion: z.string(),
  initiator: z.string(),
  priorActions: z.number().int().min(0),
  action: Action,
});
const MintInput = z.object({
  missionId: z.string(),
  action: Action,
  policyVersion: z.string(),
  approvers: z.array(z.string()),
});
const NotifyInput = z.object({
  missionId: z.string(),
  missionType: z.string(),
  escalated: z.boolean(),
  pending: z.custom<PendingApproval>(
    (v) => typeof v === 'object' && v !== null && 'actionId' in v,
    'a pending approval',
  ),
});
const ExecuteInput = z.object({
  missionId: z.string(),
  missionType: z.string(),
  integration: z.string(),
  action: Action,
  grant: z.unknown(),
});

/** Ed25519 keys for execution grants: the worker signs with one and integrations accept any listed. */
export interface GrantKeys {
  signer: { privateKeyPem: string; keyId: string };
  publicKeys: Record<string, string>;
  lifetimeMs: number;
}

export type LoadMissionResult = { definition: MissionDefinition; definitionVersion: string };
export type ReadResult = { ok: true; result: unknown } | { ok: false; refused: string; code: string };

/** Builds the mission activities around their dependencies. */
export function createActivities(deps: ActivityDeps) {
  let faultFired = false;

  function entryAt(type: string, version: string): CatalogEntry {
    const entry = catalogEntry(deps.catalog, type);
    if (entry.definitionVersion !== version) {
      throw ApplicationFailure.create({
        type: 'DefinitionChanged',
        nonRetryable: true,
        message: `mission type ${type} changed since this mission started (version ${version.slice(0, 12)}, worker has ${entry.definitionVersion.slice(0, 12)})`,
      });
    }
    return entry;
  }

  function integrationFor(name: string): Integration {
    const integration = deps.integrations[name];
    if (!integration) {
      throw ApplicationFailure.create({
        type: 'UnknownIntegration',
        nonRetryable: true,
        message: `this worker has no integration ${name}`,
      });
    }
    return integration;
  }

  return {
    /** Loads the mission definition snapshot and validates the input against it. */
    async loadMission(raw: z.input<typeof LoadInput>): Promise<LoadMissionResult> {
      const { missionType, input } = parse(LoadInput, raw, 'loadMission');
      const entry = catalogEntry(deps.catalog, missionType);
      try {
        deps.catalog.validateInput(missionType, input);
      } catch (err) {
        if (err instanceof InvalidMissionInput) {
          throw ApplicationFailure.create({ type: 'InvalidMissionInput', nonRetryable: true, message: err.message });
        }
        throw err;
      }
      return { definition: entry.definition, definitionVersion: entry.definitionVersion };
    },

    /** One reasoning step, routed by data class, redacted outside the boundary, validated before the workflow sees it. */
    async reason(raw: z.input<typeof ReasonInput>): Promise<Omit<RoutedStep, 'step'> & { step: ReasoningStepType }> {
      const input = parse(ReasonInput, raw, 'reason');
      const entry = entryAt(input.missionType, input.definitionVersion);
      const { reasoning } = entry.definition;
      const candidates = [input.provider ?? reasoning.provider, ...reasoning.failover];
      try {
        return await routeStep(
          { ...deps.reasoning, validationRetries: reasoning.validationRetries },
          { ...input, definition: entry.definition, playbook: entry.playbook },
          candidates,
        );
      } catch (err) {
        if (err instanceof ProviderError) {
          throw ApplicationFailure.create({
            type: err.retryable ? 'ProviderUnavailable' : 'ProviderError',
            nonRetryable: !err.retryable,
            message: err.message,
            ...(err.retryAfterMs !== undefined ? { nextRetryDelay: err.retryAfterMs } : {}),
          });
        }
        throw err;
      }
    },

    /** A read within the mission's scopes. A refusal is a result (the mission records it), not a failure. */
    async readData(raw: z.input<typeof ReadInput>): Promise<ReadResult> {
      const input = parse(ReadInput, raw, 'readData');
      try {
        const result = runRead(integrationFor(input.integration), input.operation, input.params, input.scopes, {
          missionId: input.missionId,
          now: new Date(),
        });
        return { ok: true, result };
      } catch (err) {
        if (err instanceof IntegrationError) return { ok: false, refused: err.message, code: err.code };
        throw err;
      }
    },

    /** The policy decision for a proposed action. */
    async decideAction(raw: z.input<typeof DecideInput>): Promise<BoundDecision> {
      const input = parse(DecideInput, raw, 'decideAction');
      const entry = entryAt(input.missionType, input.definitionVersion);
      const { operation, params } = input.action;
      // Params the integration would refuse are denied here, so the mission ends `denied` with the reason
      // instead of being granted an action that cannot run (policy sees only the attributes it declares).
      const spec = deps.integrations[entry.definition.integration]?.operations[operation];
      const check = spec?.kind === 'write' ? spec.params.safeParse(params) : undefined;
      if (check && !check.success) {
        const problems = check.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`).join('; ');
        return {
          outcome: 'deny',
          ruleIds: [],
          reasons: [`params do not satisfy ${operation}: ${problems}`],
          policyVersion: deps.decisions.policyVersionOf(entry.definition),
          errors: [],
          paramsHash: actionParamsHash(operation, params),
          engine: entry.definition.decision.engine,
        };
      }
      return deps.decisions.decide(entry.definition, { ...input, now: new Date() });
    },

    /** Signs a short-lived grant bound to exactly this action, its params and the policy version. */
    async mintGrant(raw: z.input<typeof MintInput>): Promise<SignedGrant> {
      const input = parse(MintInput, raw, 'mintGrant');
      const now = new Date();
      return mintGrant(
        {
          v: 1,
          grantId: `g-${randomUUID()}`,
          missionId: input.missionId,
          actionId: input.action.actionId,
          operation: input.action.operation,
          paramsHash: actionParamsHash(input.action.operation, input.action.params),
          policyVersion: input.policyVersion,
          approvers: input.approvers,
          issuedAt: now.toISOString(),
          expiresAt: new Date(now.getTime() + deps.grants.lifetimeMs).toISOString(),
        },
        deps.grants.signer,
        now,
      );
    },

    /** Tells a ladder step's approvers that an action waits for them. */
    async notifyApprovers(raw: z.input<typeof NotifyInput>): Promise<void> {
      const input = parse(NotifyInput, raw, 'notifyApprovers');
      await deps.notifier.notify(input);
    },

    /**
     * Executes an action through its integration, which acts only on a valid grant for exactly this
     * action under the mission type's current policy version; idempotent on (missionId, actionId).
     */
    async executeAction(raw: z.input<typeof ExecuteInput>): Promise<{ result: unknown }> {
      const input = parse(ExecuteInput, raw, 'executeAction');
      const definition = catalogEntry(deps.catalog, input.missionType).definition;
      const ctx = {
        missionId: input.missionId,
        actionId: input.action.actionId,
        now: new Date(),
        grant: {
          value: input.grant,
          publicKeys: deps.grants.publicKeys,
          policyVersion: deps.decisions.policyVersionOf(definition),
        },
      };
      try {
        const result = runWrite(integrationFor(input.integration), input.action.operation, input.action.params, ctx);
        if (deps.faults?.failAfterWriteOnce && !faultFired) {
          faultFired = true;
          throw new Error('injected fault: the write committed but the worker failed before reporting it');
        }
        log.info('action executed', { missionId: input.missionId, actionId: input.action.actionId });
        return { result };
      } catch (err) {
        if (err instanceof IntegrationError) {
          throw ApplicationFailure.create({
            type: err.code === 'grant_refused' ? 'GrantRefused' : 'IntegrationError',
            nonRetryable: true,
            message: err.message,
          });
        }
        throw err;
      }
    },
  };
}

export type MissionActivities = ReturnType<typeof createActivities>;

function catalogEntry(catalog: Catalog, type: string): CatalogEntry {
  try {
    return catalog.get(type);
  } catch (err) {
    if (err instanceof CatalogError)
      throw ApplicationFailure.create({ type: 'UnknownMissionType', nonRetryable: true, message: err.message });
    throw err;
  }
}

function parse<T extends z.ZodType>(schema: T, raw: unknown, activity: string): z.output<T> {
  const result = schema.safeParse(raw);
  if (!result.success) {
    throw ApplicationFailure.create({
      type: 'InvalidActivityInput',
      nonRetryable: true,
      message: `${activity}: ${z.prettifyError(result.error)}`,
    });
  }
  return result.data;
}
