import type { z } from 'zod';
import type { PersonalDataMap } from '../core/personal-data';
import { verifyGrant } from '../core/grant';

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
}

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
}

export interface Connector {
  name: string;
  operations: Record<string, OperationSpec<never, unknown>>;
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
      | 'grant_refused',
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
  return spec.run(parseParams(spec, operation, params), ctx);
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
  return spec.run(parseParams(spec, operation, params), { ...ctx, grantId: verdict.claims.grantId });
}

function specFor(connector: Connector, operation: string): OperationSpec<never, unknown> {
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

function parseParams(spec: OperationSpec<never, unknown>, operation: string, params: unknown): never {
  const result = spec.params.safeParse(params);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`).join('; ');
    throw new ConnectorError(`invalid params for ${operation}: ${problems}`, 'invalid_params');
  }
  return result.data;
}
