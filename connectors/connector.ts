import type { z } from 'zod';
import type { PersonalDataMap } from '../core/personal-data';
import { verifyGrant } from '../core/grant';
import type { SubjectRef } from '../core/mission';
import { subjectProblem } from './subject';
import type { SubjectRows } from './subject';

/**
 * A connector reaches one enterprise system. It declares every operation it offers,
 * with the scope a mission needs to read and the schema its params must satisfy. Reads run only
 * within the mission's declared scopes; writes run only from the execute step, after policy (and,
 * where policy says so, a human) allowed that exact action.
 */
export interface OperationSpec<P = unknown, R = unknown> {
  kind: 'read' | 'write';
  /** `<resource>:read` for reads, `<resource>:write` for writes. */
  scope: string;
  description: string;
  params: z.ZodType<P>;
  /**
   * Which fields of the result hold personal data, and of what kind (`{"customer.name": "name"}`; arrays
   * are walked, so `payments.cardNumber` covers every payment). Declared fields are pseudonymised whole
   * before data leaves the deployment boundary; `free_text` fields and undeclared ones go through the
   * detector. Optional: an operation that declares nothing is detected field by field.
   */
  personalData?: PersonalDataMap;
  run(params: P, ctx: OperationContext): R;
  /**
   * Writes only: the recorded result when this action (missionId/actionId) already took effect. A
   * retry of a committed action then returns it without needing a grant that may have expired since.
   */
  executed?(ctx: OperationContext): R | undefined;
  /**
   * How the params address rows of a mission's subject: param name → entity, e.g. `{orderId: 'order'}`
   * (`{}` for data no subject owns). A mission with a subject may use only operations that declare it,
   * and only on its subject's rows.
   */
  rows?: Readonly<Record<string, string>>;
  /**
   * Writes: the authoritative facts policy needs about this action (case status, order total, refunds
   * already issued…), loaded from the system of record, never taken from the model's params. `names`
   * lists them, so a policy that reads a fact the connector does not load fails at worker start.
   */
  facts?: { names: readonly string[]; load(params: P, ctx: OperationContext): Facts };
  /**
   * Writes: a dry run that throws a ConnectorError (`refused`, `not_found`) when the action could not
   * run now, so no grant is ever minted for it.
   */
  validate?(params: P, ctx: OperationContext): void;
  /**
   * Writes: runs `fn` in one transaction with the effect: the re-check of the facts policy decided on
   * (and the action ledger's record) commit or roll back with it.
   */
  transaction?<T>(fn: () => T): T;
}

/** Facts about an action, as policy sees them (`context.facts` in Cedar). */
export type Facts = Record<string, string | number | boolean>;

export interface OperationContext {
  missionId: string;
  /** Set for writes: the idempotency key is `${missionId}/${actionId}`. */
  actionId?: string;
  now: Date;
  /**
   * Set for writes: the execution grant, the keys it may be signed with and the policy version in
   * force. `runWrite` verifies signature, binding and expiry; the operation records `grantId` in the
   * same transaction as its effect, so a grant is used once.
   */
  grant?: { value: unknown; publicKeys: Record<string, string>; policyVersion: string };
  /** Set by runWrite once the grant verified. */
  grantId?: string;
  /** The mission's subject: reads (and facts) are confined to its rows. */
  subject?: SubjectRef;
  /**
   * Writes: asks policy again with the facts as they are inside the effect's transaction; a reason to
   * refuse when they no longer support the decision the grant was minted on (e.g. a concurrent refund).
   */
  recheck?(facts: Facts): string | undefined;
}

export interface Connector {
  name: string;
  operations: Record<string, OperationSpec<never, unknown>>;
  /**
   * Subject types this connector can resolve: the rows (by entity) that belong to a subject, read
   * from the system of record; undefined when no such subject exists.
   */
  subjects?: Record<string, (id: string, ctx: OperationContext) => SubjectRows | undefined>;
  close(): void;
}

export class ConnectorError extends Error {
  constructor(
    message: string,
    readonly code:
      | 'unknown_operation'
      | 'out_of_scope'
      | 'invalid_params'
      | 'not_found'
      | 'not_a_read'
      | 'not_a_write'
      | 'grant_refused'
      /** The params address rows outside the mission's subject. */
      | 'outside_subject'
      /** The system of record says the action cannot run (dry run, or the re-check at execution). */
      | 'refused',
  ) {
    super(message);
    this.name = 'ConnectorError';
  }
}

/**
 * Runs a read within the mission's scopes. Unknown operations, writes, out-of-scope reads and bad
 * params are refused with a ConnectorError saying which.
 */
export function runRead(
  connector: Connector,
  operation: string,
  params: unknown,
  scopes: readonly string[],
  ctx: OperationContext,
): unknown {
  const spec = specFor(connector, operation);
  if (spec.kind !== 'read')
    throw new ConnectorError(`${operation} changes state; it cannot run as a read`, 'not_a_read');
  if (!scopes.includes(spec.scope)) {
    throw new ConnectorError(
      `${operation} needs scope ${spec.scope}; the mission holds ${scopes.join(', ') || 'none'}`,
      'out_of_scope',
    );
  }
  const parsed = parseParams(spec, operation, params);
  const outside = ctx.subject && subjectProblem(connector, spec, operation, parsed, ctx.subject, ctx);
  if (outside) throw new ConnectorError(outside, 'outside_subject');
  return spec.run(parsed, ctx);
}

/** Runs a state-changing operation, only on a valid execution grant for exactly this action. */
export function runWrite(connector: Connector, operation: string, params: unknown, ctx: OperationContext): unknown {
  const spec = specFor(connector, operation);
  if (spec.kind !== 'write') throw new ConnectorError(`${operation} is a read, not an action`, 'not_a_write');
  if (!ctx.actionId) throw new ConnectorError(`${operation} needs an actionId for idempotency`, 'invalid_params');
  // Idempotency first: an action that already took effect changes nothing again, whatever the grant.
  const done = spec.executed?.(ctx);
  if (done !== undefined) return done;
  if (!ctx.grant) throw new ConnectorError(`${operation} refused: no execution grant`, 'grant_refused');
  const verdict = verifyGrant(
    ctx.grant.value,
    { missionId: ctx.missionId, actionId: ctx.actionId, operation, params, policyVersion: ctx.grant.policyVersion },
    { publicKeys: ctx.grant.publicKeys },
    ctx.now,
  );
  if (!verdict.ok)
    throw new ConnectorError(`${operation} refused: grant ${verdict.code}: ${verdict.message}`, 'grant_refused');
  const parsed = parseParams(spec, operation, params);
  const granted = { ...ctx, grantId: verdict.claims.grantId };
  const act = () => {
    // Policy decided on facts read earlier; inside the transaction they are read again and must still hold.
    const problem = ctx.recheck && spec.facts && ctx.recheck(spec.facts.load(parsed, granted));
    if (problem) throw new ConnectorError(`${operation} refused: ${problem}`, 'refused');
    return spec.run(parsed, granted);
  };
  return spec.transaction ? spec.transaction(act) : act();
}

/** The operation's spec, or a ConnectorError naming the operations the connector offers. */
export function specFor(connector: Connector, operation: string): OperationSpec<never, unknown> {
  const spec = Object.prototype.hasOwnProperty.call(connector.operations, operation)
    ? connector.operations[operation]
    : undefined;
  if (!spec) {
    const known = Object.keys(connector.operations).join(', ');
    throw new ConnectorError(
      `${connector.name} has no operation ${operation} (it offers ${known})`,
      'unknown_operation',
    );
  }
  return spec;
}

/** The params as the operation's schema parses them, or a ConnectorError naming every problem. */
export function parseParams(spec: OperationSpec<never, unknown>, operation: string, params: unknown): never {
  const result = spec.params.safeParse(params);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`).join('; ');
    throw new ConnectorError(`invalid params for ${operation}: ${problems}`, 'invalid_params');
  }
  return result.data;
}
