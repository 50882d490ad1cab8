import { ApplicationFailure, log } from '@temporalio/activity';
import { z } from 'zod';
import type { DecisionRecord } from '../core/approval';
import { CatalogError, InvalidMissionInput } from '../core/catalog';
import type { Catalog, CatalogEntry } from '../core/catalog';
import type { MissionDefinition, PolicyDecision, ReasoningStep as ReasoningStepType } from '../core/mission';
import { JsonObject, ReasoningStep } from '../core/mission';
import { decideByRules } from './decision';
import type { Integration } from './integrations/integration';
import { IntegrationError, runRead, runWrite } from './integrations/integration';
import { ProviderError } from './reasoning/provider';
import type { ReasoningUsage } from './reasoning/provider';
import type { ProviderRegistry } from './reasoning/registry';

/** What the activities need from the process that hosts them (built in `workers/`). */
export interface ActivityDeps {
  catalog: Catalog;
  integrations: Record<string, Integration>;
  providers: ProviderRegistry;
  /** Fault injection for tests: fail once right after a write committed (proves idempotent retries). */
  faults?: { failAfterWriteOnce?: boolean };
}

const LoadInput = z.object({ missionType: z.string(), input: z.unknown() });
const ReasonInput = z.object({
  missionId: z.string(),
  missionType: z.string(),
  definitionVersion: z.string(),
  stepIndex: z.number().int().min(0),
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
  action: Action,
});
const ExecuteInput = z.object({
  missionId: z.string(),
  integration: z.string(),
  action: Action,
  decision: z.object({
    outcome: z.enum(['allow', 'require_approval', 'deny']),
    tier: z.string().optional(),
    ruleIds: z.array(z.string()),
    reasons: z.array(z.string()),
    policyVersion: z.string(),
  }),
  approvals: z.array(
    z.object({
      actionId: z.string(),
      decision: z.enum(['approve', 'reject']),
      approver: z.string(),
      reason: z.string().optional(),
      at: z.string(),
      via: z.enum(['update', 'signal', 'timeout']),
    }),
  ),
});

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

    /** One reasoning step from the mission's provider, validated before the workflow sees it. */
    async reason(
      raw: z.input<typeof ReasonInput>,
    ): Promise<{ step: ReasoningStepType; usage: ReasoningUsage; provider: string }> {
      const input = parse(ReasonInput, raw, 'reason');
      const entry = entryAt(input.missionType, input.definitionVersion);
      const providerId = entry.definition.reasoning.provider;
      try {
        const provider = deps.providers.resolve(providerId);
        const reply = await provider.step({ ...input, definition: entry.definition, playbook: entry.playbook });
        const step = ReasoningStep.safeParse(reply.step);
        if (!step.success) {
          throw ApplicationFailure.create({
            type: 'ReasoningOutputInvalid',
            nonRetryable: true,
            message: `${providerId} returned a step that is not valid: ${z.prettifyError(step.error)}`,
          });
        }
        return { step: step.data, usage: reply.usage, provider: providerId };
      } catch (err) {
        if (err instanceof ProviderError) {
          throw ApplicationFailure.create({
            type: 'ProviderError',
            nonRetryable: !err.retryable,
            message: err.message,
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
    async decideAction(raw: z.input<typeof DecideInput>): Promise<PolicyDecision> {
      const input = parse(DecideInput, raw, 'decideAction');
      const entry = entryAt(input.missionType, input.definitionVersion);
      return decideByRules(entry.definition, input.action);
    },

    /** Executes an allowed or approved action, idempotently on (missionId, actionId). */
    async executeAction(raw: z.input<typeof ExecuteInput>): Promise<{ result: unknown }> {
      const input = parse(ExecuteInput, raw, 'executeAction');
      assertAuthorised(input.action.actionId, input.decision, input.approvals);
      const ctx = { missionId: input.missionId, actionId: input.action.actionId, now: new Date() };
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
          throw ApplicationFailure.create({ type: 'IntegrationError', nonRetryable: true, message: err.message });
        }
        throw err;
      }
    },
  };
}

export type MissionActivities = ReturnType<typeof createActivities>;

function assertAuthorised(
  actionId: string,
  decision: Pick<PolicyDecision, 'outcome'>,
  approvals: Pick<DecisionRecord, 'actionId' | 'decision'>[],
): void {
  const approved = approvals.some((a) => a.actionId === actionId && a.decision === 'approve');
  const rejected = approvals.some((a) => a.actionId === actionId && a.decision === 'reject');
  if (decision.outcome === 'allow' && !rejected) return;
  if (decision.outcome === 'require_approval' && approved && !rejected) return;
  throw ApplicationFailure.create({
    type: 'NotAuthorised',
    nonRetryable: true,
    message: `action ${actionId} is not authorised (policy: ${decision.outcome}, approved: ${approved}); nothing executed`,
  });
}

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
