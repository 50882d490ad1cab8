import { z } from 'zod';

/**
 * Rolling aggregates a mission's policy may read (`context.aggregates` in Cedar): count or sum of the
 * executed actions of one operation over a window, grouped by who or what they concern. They come from
 * the action ledger (what executed, recorded with the effect), never from the model, and a definition
 * declares each one it uses, so a policy naming an undeclared aggregate fails validation at worker start.
 */

/** What an aggregate groups executed actions by: the same initiator, mission type or customer key. */
export const AGGREGATE_KEYS = ['initiator', 'missionType', 'customer'] as const;
export type AggregateKey = (typeof AGGREGATE_KEYS)[number];

const WINDOW = /^([1-9][0-9]{0,4})(m|h|d)$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export const AggregateSpec = z
  .object({
    /** Cedar attribute name under `context.aggregates`. */
    name: z.string().regex(/^[a-z][a-zA-Z0-9]{0,63}$/, 'a camelCase name such as refundsPerInitiator1h'),
    /** The executed operation counted, e.g. `refunds.issue`. */
    operation: z.string().regex(/^[a-z][a-zA-Z0-9]*(\.[a-z][a-zA-Z0-9]*)+$/),
    measure: z.enum(['count', 'sum']),
    /** For `sum`: the numeric param summed (e.g. `amountCents`). */
    field: z
      .string()
      .regex(/^[a-zA-Z][a-zA-Z0-9_]*$/)
      .optional(),
    /** Window back from the decision's time: minutes, hours or days (`15m`, `1h`, `30d`). */
    window: z.string().regex(WINDOW, 'a window such as 15m, 1h or 30d'),
    by: z.enum(AGGREGATE_KEYS),
  })
  .strict()
  .refine((a) => (a.measure === 'sum') === (a.field !== undefined), 'a sum names its field; a count names none');
export type AggregateSpec = z.infer<typeof AggregateSpec>;

/** The window of an aggregate in milliseconds. */
export function windowMs(window: string): number {
  const m = WINDOW.exec(window);
  if (!m) throw new Error(`not a window: ${window}`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** One executed action as the ledger keeps it. */
export interface LedgerEntry {
  missionId: string;
  actionId: string;
  missionType: string;
  initiator: string;
  operation: string;
  /** The customer key the definition names for the action (e.g. the order's customer), if any. */
  customer?: string;
  /** Numeric params, for sums. */
  amounts: Record<string, number>;
  executedAt: string;
}

/** Who and what a decision is about: the values each aggregate groups by. */
export interface AggregateScope {
  missionType: string;
  initiator: string;
  customer?: string;
  now: Date;
}
