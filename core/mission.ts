import { z } from 'zod';
import { AggregateSpec } from './aggregates';
import { PersonalDataMap } from './personal-data';

/**
 * The mission domain: definitions (data in `missions/<type>/`) and reasoning steps. These schemas
 * validate everything that crosses a process boundary; workflow code imports only their types. The
 * wire types (actions, decisions, votes, observations) are in `contract/mission`.
 */

export const DATA_CLASSES = ['public', 'internal', 'confidential', 'restricted'] as const;
export type DataClass = (typeof DATA_CLASSES)[number];

const identifier = z.string().regex(/^[a-z][a-z0-9-]*$/, 'lower-case letters, digits and dashes');
const operationName = z
  .string()
  .max(100)
  .regex(/^[a-z][a-zA-Z0-9]*(\.[a-z][a-zA-Z0-9]*)+$/, 'dotted name such as refunds.issue');
export const JsonObject = z.record(z.string(), z.unknown());

/** One rule of the definition's built-in decision table (the seam that Cedar policies replace). */
export const DecisionRule = z.object({
  id: z.string().min(1),
  operation: operationName,
  /** Optional numeric condition on one param: the rule matches when `params[param]` is within bounds. */
  when: z
    .object({ param: z.string().min(1), gt: z.number().optional(), lte: z.number().optional() })
    .strict()
    .optional(),
  outcome: z.enum(['allow', 'require_approval', 'deny']),
  tier: z.string().min(1).optional(),
  reason: z.string().min(1),
});
export type DecisionRule = z.infer<typeof DecisionRule>;

/** One step of an approval ladder: who may decide, how many distinct approvers, for how long. */
export const LadderStep = z
  .object({
    roles: z.array(z.string().min(1)).min(1),
    quorum: z.number().int().min(1).max(10).default(1),
    timeoutSeconds: z.number().positive(),
  })
  .strict();
export type LadderStep = z.infer<typeof LadderStep>;

/**
 * Approval ladders by tier. Each tier's ladder is walked step by step: a step that times out
 * escalates to the next; after the last, the action is rejected (fail closed). A tier without a
 * ladder gets one step: role = the tier's name, quorum 1, `timeoutSeconds`.
 */
export const ApprovalPolicy = z
  .object({
    timeoutSeconds: z.number().positive(),
    ladders: z.record(z.string().min(1), z.array(LadderStep).min(1)).default({}),
  })
  .strict();
export type ApprovalPolicy = z.infer<typeof ApprovalPolicy>;

/** The ladder that applies to a tier. */
export function ladderFor(approval: ApprovalPolicy, tier: string): LadderStep[] {
  return approval.ladders[tier] ?? [{ roles: [tier], quorum: 1, timeoutSeconds: approval.timeoutSeconds }];
}

/**
 * The mission's subject: a `type` the definition's connector knows (it resolves the subject's rows from
 * the system of record) and the `input` field holding its id. How each operation's rows relate to a
 * subject (an order of the case, the case's customer) is declared by the connector, per operation.
 */
export const MissionSubject = z.object({ type: identifier, input: z.string().min(1) }).strict();
export type MissionSubject = z.infer<typeof MissionSubject>;

export const MissionDefinition = z
  .object({
    type: identifier,
    title: z.string().min(1),
    description: z.string().min(1),
    dataClass: z.enum(DATA_CLASSES),
    integration: identifier,
    /** JSON Schema of the mission input; validated before start and again when the mission loads. */
    inputSchema: JsonObject,
    /** Input fields holding personal data (`{"customerName": "name"}`), pseudonymised outside the boundary. Optional, so definitions without it keep their version. */
    inputPersonalData: PersonalDataMap.optional(),
    reasoning: z
      .object({
        /** `provider:model`; a mission can be started with another (`--provider`). */
        provider: z.string().min(1).default('offline:playbook'),
        /** Tried in order when the provider is down (routing by data class still applies). */
        failover: z.array(z.string().min(1)).default([]),
        maxSteps: z.number().int().min(1).max(200),
        /** Re-asks after a reply that is not a valid step, with the validation error as feedback. */
        validationRetries: z.number().int().min(0).max(5).default(2),
        budget: z
          .object({ maxTokens: z.number().int().positive().optional(), maxCostUsd: z.number().positive().optional() })
          .strict()
          .default({}),
      })
      .strict(),

    /**
     * The mission's subject: whose rows it may touch (for refunds, the support case named in the input).
     * Reads and actions are confined to the rows the connector relates to it (row-level scopes).
     */
    subject: MissionSubject.optional(),
    /**
     * History-aware policy: the rolling aggregates of the action ledger the policy reads
     * (`context.aggregates`), and the fact that holds the customer key the `customer` aggregates group by.
     */
    history: z
      .object({
        customerFact: z.string().min(1).optional(),
        aggregates: z
          .array(AggregateSpec)
          .min(1)
          .refine((list) => new Set(list.map((a) => a.name)).size === list.length, 'aggregate names are unique'),
      })
      .strict()
      .optional(),
    /** Read scopes the mission may use. The model cannot widen them. */
    scopes: z.array(z.string().regex(/^[a-z]+:read$/)).min(1),
    /** State-changing operations the mission may propose. Anything else is denied. */
    operations: z.array(operationName).min(1),
    /**
     * How proposed actions are decided: `cedar` uses the mission's `policy.cedar` (validated against
     * `policy.cedarschema`); `rules` is the small built-in table for missions without a Cedar policy.
     */
    decision: z.discriminatedUnion('engine', [
      z.object({ engine: z.literal('cedar') }).strict(),
      z.object({ engine: z.literal('rules'), rules: z.array(DecisionRule).min(1) }).strict(),
    ]),
    approval: ApprovalPolicy,
    /** Roles allowed to halt, pause and resume the mission (the signed control must carry one). */
    controls: z
      .object({ roles: z.array(z.string().min(1)).min(1) })
      .strict()
      .default({ roles: ['operator', 'security'] }),
    limits: z
      .object({ continueAsNewAfterSteps: z.number().int().min(1).default(40) })
      .strict()
      .default({ continueAsNewAfterSteps: 40 }),
  })
  .strict();
export type MissionDefinition = z.infer<typeof MissionDefinition>;

/** One mission's subject: its type and id (e.g. case CASE-1001). */
export interface SubjectRef {
  type: string;
  id: string;
}

/** The subject of a mission with this input, or undefined when the definition names none. */
export function subjectOf(
  definition: Pick<MissionDefinition, 'subject'>,
  input: Record<string, unknown>,
): SubjectRef | undefined {
  if (!definition.subject) return undefined;
  const id = input[definition.subject.input];
  return { type: definition.subject.type, id: typeof id === 'string' ? id : String(id ?? '') };
}

/**
 * Bounds on everything a model writes: a reply over them is invalid and re-asked like any other,
 * so no model-authored field can grow the history or a person's screen without limit.
 */
export const MODEL_TEXT_LIMITS = {
  observation: 2000,
  observations: 20,
  rationale: 2000,
  summary: 2000,
  /** Serialised params of one read or proposal. */
  paramsBytes: 8192,
} as const;

const BoundedParams = JsonObject.refine(
  (params) => JSON.stringify(params).length <= MODEL_TEXT_LIMITS.paramsBytes,
  `params must serialise to at most ${MODEL_TEXT_LIMITS.paramsBytes} characters`,
);

/** Context entries the mission keeps itself; a read cannot overwrite them. */
export const RESERVED_CONTEXT_NAMES: readonly string[] = ['input', 'lastAction'];

export const ReadStep = z
  .object({
    kind: z.literal('read'),
    operation: operationName,
    params: BoundedParams,
    /** Name under which the result is kept in the mission context (never one the mission itself keeps). */
    as: z
      .string()
      .max(64)
      .regex(/^[a-zA-Z][a-zA-Z0-9_]*$/)
      .refine((name) => !RESERVED_CONTEXT_NAMES.includes(name), 'is reserved for the mission (input, lastAction)'),
  })
  .strict();
export const ProposeStep = z
  .object({
    kind: z.literal('propose'),
    operation: operationName,
    params: BoundedParams,
    rationale: z.string().min(1).max(MODEL_TEXT_LIMITS.rationale),
  })
  .strict();
export const FinishStep = z
  .object({
    kind: z.literal('finish'),
    verdict: z.enum(['completed', 'declined']),
    summary: z.string().min(1).max(MODEL_TEXT_LIMITS.summary),
  })
  .strict();

/** What one reasoning step returns: what it noticed and what to do next. */
export const ReasoningStep = z
  .object({
    observations: z.array(z.string().max(MODEL_TEXT_LIMITS.observation)).max(MODEL_TEXT_LIMITS.observations),
    next: z.discriminatedUnion('kind', [ReadStep, ProposeStep, FinishStep]),
  })
  .strict();
export type ReasoningStep = z.infer<typeof ReasoningStep>;
export type NextStep = ReasoningStep['next'];
