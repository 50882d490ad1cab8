/**
 * Translation of a `PolicyRequest` into a Cedar request. The entity model (every mission schema declares it
 * in namespace `Mandate`; `loadPolicyBundle` checks that it does):
 *
 *   principal  Mandate::Agent::"<agent>"        { onBehalfOf: Mandate::User }
 *              the AI agent acting for a human: policies can constrain the agent, the human, or both
 *   action     Mandate::Action::"<operation>"   e.g. Mandate::Action::"refunds.issue"
 *   resource   Mandate::Mission::"<mission.id>" { type: String, dataClass: String, initiator: Mandate::User }
 *   entities   the agent, the mission, and Mandate::User::"<onBehalfOf>" / "<initiator>" (no attributes)
 *   context    the action's params and the request's context fields, flattened into one record:
 *              `context.amountCents`, `context.currency`, `context.priorActions`, ...; `now` becomes a Cedar
 *              `datetime` (compare with `context.now < datetime("2026-01-01T00:00:00Z")`).
 *
 * The context passed to Cedar keeps only the attributes the schema declares for the action: strict validation
 * guarantees that no policy reads anything else, and the workflow may send context a mission does not use.
 * A param and a context field with the same name must agree, or the request is refused.
 *
 * `context.facts` (what the connector loaded from the system of record) and `context.aggregates` (rolling
 * figures from the action ledger) are filled by the system only: params may not name them, and only their
 * members the schema declares reach Cedar.
 */
import type { CedarValueJson, Context, EntityJson, EntityUid } from '@cedar-policy/cedar-wasm/nodejs';
import { z } from 'zod';
import { canonicalJson } from '../core/hash';
import { DATA_CLASSES } from '../core/mission';
import type { PolicyRequest } from './types';

export const NAMESPACE = 'Mandate';
const AGENT = `${NAMESPACE}::Agent`;
const USER = `${NAMESPACE}::User`;
const MISSION = `${NAMESPACE}::Mission`;
const ACTION = `${NAMESPACE}::Action`;
/** Deeper params are not something a policy should be reading; bounding depth also bounds recursion. */
const MAX_DEPTH = 16;
/** Context attributes the system fills as records; a param of that name is refused. */
export const SYSTEM_CONTEXT_RECORDS = ['facts', 'aggregates'] as const;
const SYSTEM_RECORD_NAMES: ReadonlySet<string> = new Set(SYSTEM_CONTEXT_RECORDS);
/** Keys that Cedar's JSON format reads as entity references or extension values, not as record members. */
const RESERVED_KEYS = new Set(['__entity', '__extn', '__expr']);

const name = z.string().min(1);

/** Shape check of a `PolicyRequest` (params are checked separately, for Cedar representability). */
export const policyRequestSchema = z.object({
  mission: z.object({ id: name, type: name, dataClass: z.enum(DATA_CLASSES), initiator: name }),
  agent: name,
  onBehalfOf: name,
  action: z.object({ actionId: name, operation: name, params: z.record(z.string(), z.unknown()) }),
  context: z.looseObject({
    now: z.iso.datetime({ offset: true }),
    priorActions: z.number().int().nonnegative(),
    amountCents: z.number().int().optional(),
  }),
});

/** The parts of a Cedar authorization call that depend on the request. */
export interface CedarRequestParts {
  principal: EntityUid;
  action: EntityUid;
  resource: EntityUid;
  context: Context;
  entities: EntityJson[];
}

/** Either the Cedar request or the reason the request cannot be put to Cedar. */
export type BuiltRequest = { ok: true; parts: CedarRequestParts } | { ok: false; reason: string };

/**
 * Builds the Cedar request. `declaredContext` lists the context attributes the schema declares for the
 * operation (see the module comment).
 */
export function buildCedarRequest(
  request: unknown,
  declaredContext: ReadonlySet<string>,
  declaredRecords: ReadonlyMap<string, ReadonlySet<string>> = new Map(),
): BuiltRequest {
  const parsed = policyRequestSchema.safeParse(request);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(request)'}: ${i.message}`);
    return { ok: false, reason: `invalid policy request: ${issues.join('; ')}` };
  }
  const req = parsed.data as PolicyRequest;
  const merged = new Map<string, { raw: unknown; value: CedarValueJson; from: string }>();
  const sources: Array<[string, Record<string, unknown>]> = [
    ['params', req.action.params],
    ['context', req.context],
  ];
  try {
    for (const [from, record] of sources) {
      for (const [key, given] of Object.entries(record)) {
        if (given === undefined) continue;
        if (SYSTEM_RECORD_NAMES.has(key) && from === 'params') {
          return { ok: false, reason: `params.${key} is reserved for what the system supplies; refusing` };
        }
        const members = SYSTEM_RECORD_NAMES.has(key) ? declaredRecords.get(key) : undefined;
        const raw = members ? only(given, members) : given;
        // Every value must be representable, declared or not: an odd param is a reason to stop, not to skip.
        const value = toCedarValue(raw, `${from}.${key}`, 0);
        const seen = merged.get(key);
        if (seen && canonicalJson(seen.raw) !== canonicalJson(raw)) {
          return { ok: false, reason: `${seen.from}.${key} and ${from}.${key} disagree; refusing to guess` };
        }
        merged.set(key, { raw, value, from });
      }
    }
  } catch (err) {
    if (err instanceof Unrepresentable) return { ok: false, reason: err.message };
    throw err;
  }
  const context: Context = {};
  for (const [key, { value }] of merged) {
    if (declaredContext.has(key)) context[key] = key === 'now' ? cedarDatetime(req.context.now) : value;
  }
  return { ok: true, parts: { ...requestUids(req), context, entities: buildEntities(req) } };
}

/** The members of a system record the schema declares (an absent one is left absent: Cedar then refuses). */
function only(value: unknown, members: ReadonlySet<string>): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([name]) => members.has(name)));
}

/** The principal, action and resource of a request. */
export function requestUids(req: PolicyRequest): Pick<CedarRequestParts, 'principal' | 'action' | 'resource'> {
  return {
    principal: { type: AGENT, id: req.agent },
    action: { type: ACTION, id: req.action.operation },
    resource: { type: MISSION, id: req.mission.id },
  };
}

/** The entities of the model above, built from a request. */
export function buildEntities(req: PolicyRequest): EntityJson[] {
  const ref = (type: string, id: string): CedarValueJson => ({ __entity: { type, id } });
  const users = [...new Set([req.onBehalfOf, req.mission.initiator])];
  const { id, type, dataClass, initiator } = req.mission;
  return [
    { uid: { type: AGENT, id: req.agent }, attrs: { onBehalfOf: ref(USER, req.onBehalfOf) }, parents: [] },
    ...users.map((user) => ({ uid: { type: USER, id: user }, attrs: {}, parents: [] })),
    { uid: { type: MISSION, id }, attrs: { type, dataClass, initiator: ref(USER, initiator) }, parents: [] },
  ];
}

/** Cedar's datetime accepts `YYYY-MM-DDThh:mm:ss.SSSZ` but not every ISO-8601 offset form: normalise to UTC. */
function cedarDatetime(iso: string): CedarValueJson {
  return { __extn: { fn: 'datetime', arg: new Date(iso).toISOString() } };
}

class Unrepresentable extends Error {
  constructor(path: string, why: string) {
    super(`${path} cannot be represented in Cedar: ${why}`);
  }
}

/** JSON data to Cedar's JSON value format, refusing what Cedar cannot hold or would misread. */
function toCedarValue(value: unknown, path: string, depth: number): CedarValueJson {
  if (depth > MAX_DEPTH) throw new Unrepresentable(path, `nested deeper than ${MAX_DEPTH} levels`);
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) return value;
    throw new Unrepresentable(path, `${value} is not a safe integer (Cedar numbers are 64-bit integers)`);
  }
  if (value === null) throw new Unrepresentable(path, 'Cedar has no null');
  if (Array.isArray(value)) return value.map((item, i) => toCedarValue(item, `${path}[${i}]`, depth + 1));
  if (typeof value !== 'object') throw new Unrepresentable(path, `a ${typeof value} is not JSON data`);
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw new Unrepresentable(path, `a ${value.constructor?.name ?? 'non-plain'} object is not JSON data`);
  }
  const record: Record<string, CedarValueJson> = {};
  for (const [key, member] of Object.entries(value)) {
    if (RESERVED_KEYS.has(key)) throw new Unrepresentable(`${path}.${key}`, `"${key}" is reserved by Cedar JSON`);
    if (member !== undefined) record[key] = toCedarValue(member, `${path}.${key}`, depth + 1);
  }
  return record;
}
