import { z } from 'zod';
import { JsonObject, ReasoningStep } from './mission';

/**
 * An offline playbook: the scripted reasoning of a mission type, used by the offline provider so a
 * mission runs with no network and no model. Step N of the playbook answers reasoning step N.
 * Strings may hold `{{path}}` templates resolved against the mission context (`input`, named reads,
 * `lastAction`); a string that is exactly one template keeps the value's type.
 */

const Condition = z
  .object({
    path: z.string().min(1),
    op: z.enum(['eq', 'ne', 'gt', 'gte', 'lt', 'lte']),
    value: z.union([z.string(), z.number(), z.boolean(), z.null()]),
  })
  .strict();
export type Condition = z.infer<typeof Condition>;

const PlaybookStep = z
  .object({
    observations: z.array(z.string()).default([]),
    /** Checked in order before `next`: the first that holds finishes the mission instead. */
    checks: z
      .array(z.object({ when: Condition, observation: z.string().min(1), finish: z.unknown() }).strict())
      .default([]),
    next: JsonObject,
  })
  .strict();

export const Playbook = z.object({ steps: z.array(PlaybookStep).min(1) }).strict();
export type Playbook = z.infer<typeof Playbook>;

export class PlaybookError extends Error {
  override name = 'PlaybookError';
}

/** Resolves a dotted path (`case.orderId`, `priorRefunds.items.0.id`) in the context. */
export function lookup(context: Record<string, unknown>, path: string): unknown {
  let current: unknown = context;
  for (const part of path.split('.')) {
    // Own properties only: `constructor` or `toString` is not something the context holds.
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, part)) {
      throw new PlaybookError(`playbook refers to ${path}, which the mission context does not hold`);
    }
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

const WHOLE = /^\{\{\s*([\w.]+)\s*\}\}$/;
const PART = /\{\{\s*([\w.]+)\s*\}\}/g;

/** Fills `{{path}}` templates anywhere in a JSON value. */
export function render(value: unknown, context: Record<string, unknown>): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole) return lookup(context, whole[1]);
    return value.replace(PART, (_, path: string) => String(lookup(context, path)));
  }
  if (Array.isArray(value)) return value.map((item) => render(item, context));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, render(v, context)]));
  }
  return value;
}

export function holds(condition: Condition, context: Record<string, unknown>): boolean {
  const actual = lookup(context, condition.path);
  // The value may itself be a template, e.g. compare the requested amount with `{{order.totalCents}}`.
  const expected = render(condition.value, context);
  switch (condition.op) {
    case 'eq':
      return actual === expected;
    case 'ne':
      return actual !== expected;
    default: {
      if (typeof actual !== 'number' || typeof expected !== 'number') {
        throw new PlaybookError(`condition ${condition.path} ${condition.op} needs numbers`);
      }
      if (condition.op === 'gt') return actual > expected;
      if (condition.op === 'gte') return actual >= expected;
      if (condition.op === 'lt') return actual < expected;
      return actual <= expected;
    }
  }
}

/** Plays step `index` of the playbook against the context. */
export function playStep(playbook: Playbook, index: number, context: Record<string, unknown>): ReasoningStep {
  const step = playbook.steps[index];
  if (!step)
    throw new PlaybookError(`the playbook has ${playbook.steps.length} steps; step ${index + 1} was asked for`);
  for (const check of step.checks) {
    if (holds(check.when, context)) {
      return ReasoningStep.parse({
        observations: [render(check.observation, context)],
        next: render(check.finish, context),
      });
    }
  }
  return ReasoningStep.parse({ observations: render(step.observations, context), next: render(step.next, context) });
}
