import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { ed25519KeyId } from './ed25519';
import { canonicalJson, hashJson } from './hash';

/**
 * Short-lived execution grants: a signed statement that exactly one state-changing action may run.
 *
 * A grant binds mission, action, operation, `sha256(operation, params)` and policy version, and lives for
 * minutes. Verification is pure; **single use is not enforced here**: the executing integration records each
 * `grantId` it has acted on and refuses a second use (and stays idempotent on `actionId`).
 */

/** Default and ceiling for a grant's lifetime. */
export const GRANT_MAX_LIFETIME_MS = 5 * 60_000;
/** How far in the future `issuedAt` may lie before a grant is "not yet valid" (clocks drift between hosts). */
export const GRANT_CLOCK_SKEW_MS = 30_000;

const id = z.string().min(1).max(256);

/** The signed claims. Times are ISO-8601 UTC strings (`Date.prototype.toISOString()`). */
export const GrantClaims = z.strictObject({
  v: z.literal(1),
  grantId: id,
  missionId: id,
  actionId: id,
  operation: id,
  paramsHash: z.string().regex(/^[0-9a-f]{64}$/, 'must be a lower-case sha256 hex digest'),
  policyVersion: id,
  approvers: z.array(id),
  issuedAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
});
export type GrantClaims = z.infer<typeof GrantClaims>;

/** A grant as it travels: claims, the id of the signing key, and a base64 Ed25519 signature over canonical claims. */
export interface SignedGrant {
  claims: GrantClaims;
  keyId: string;
  signature: string;
}

/** An Ed25519 signature is 64 bytes: exactly 88 canonical base64 characters (checked again by re-encoding). */
const SignedGrantShape = z.strictObject({
  claims: z.unknown(),
  keyId: z.string().regex(/^[0-9a-f]{16}$/, 'must be 16 lower-case hex characters'),
  signature: z.string().regex(/^[A-Za-z0-9+/]{86}==$/, 'must be a base64 Ed25519 signature'),
});

export type GrantFailureCode = 'malformed' | 'unknown_key' | 'bad_signature' | 'expired' | 'not_yet_valid' | 'mismatch';
export type GrantVerification =
  { ok: true; claims: GrantClaims } | { ok: false; code: GrantFailureCode; message: string };

/** What the executor is about to do; every field must match the grant. */
export interface ExpectedAction {
  missionId: string;
  actionId: string;
  operation: string;
  params: unknown;
  policyVersion: string;
}

export interface GrantOptions {
  /** Longest accepted lifetime (default {@link GRANT_MAX_LIFETIME_MS}). */
  maxLifetimeMs?: number;
}

/** sha256 hex of the canonical JSON of `{operation, params}`: key order in `params` does not matter. */
export function actionParamsHash(operation: string, params: unknown): string {
  return hashJson({ operation, params });
}

/** Time-window problems of otherwise well-formed claims, or null. */
function lifetimeProblem(claims: GrantClaims, maxLifetimeMs: number): string | null {
  const lifetime = Date.parse(claims.expiresAt) - Date.parse(claims.issuedAt);
  if (!(lifetime > 0)) return 'expiresAt must be after issuedAt'; // also catches unparseable (NaN) times
  if (lifetime > maxLifetimeMs) return `lifetime ${lifetime} ms exceeds the maximum of ${maxLifetimeMs} ms`;
  return null;
}

/**
 * Signs claims with the grant key. Throws (a programming or configuration error, not user input) when the
 * claims are invalid, their lifetime is not positive or above the maximum, or they are already expired or
 * issued in the future at `now`.
 */
export function mintGrant(
  claims: GrantClaims,
  key: { privateKeyPem: string; keyId: string },
  now: Date,
  options: GrantOptions = {},
): SignedGrant {
  const parsed = GrantClaims.safeParse(claims);
  if (!parsed.success) throw new TypeError(`mintGrant: invalid claims: ${z.prettifyError(parsed.error)}`);
  const problem =
    lifetimeProblem(parsed.data, options.maxLifetimeMs ?? GRANT_MAX_LIFETIME_MS) ??
    (Date.parse(parsed.data.expiresAt) <= now.getTime() ? 'the grant would already be expired' : null) ??
    (Date.parse(parsed.data.issuedAt) > now.getTime() + GRANT_CLOCK_SKEW_MS ? 'issuedAt is in the future' : null);
  if (problem) throw new RangeError(`mintGrant: ${problem} (grant ${parsed.data.grantId})`);
  const privateKey = createPrivateKey(key.privateKeyPem);
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new TypeError('mintGrant: the grant key must be Ed25519');
  const publicKeyPem = createPublicKey(privateKey).export({ format: 'pem', type: 'spki' }).toString();
  if (ed25519KeyId(publicKeyPem) !== key.keyId)
    throw new TypeError(`mintGrant: keyId ${key.keyId} is not this key's id`);
  const signature = sign(null, Buffer.from(canonicalJson(parsed.data)), privateKey).toString('base64');
  return { claims: parsed.data, keyId: key.keyId, signature };
}

const fail = (code: GrantFailureCode, message: string): GrantVerification => ({ ok: false, code, message });

function publicKeyFor(publicKeys: Record<string, string>, keyId: string): KeyObject | null {
  if (!Object.prototype.hasOwnProperty.call(publicKeys, keyId)) return null;
  try {
    const key = createPublicKey(publicKeys[keyId]);
    return key.asymmetricKeyType === 'ed25519' ? key : null;
  } catch {
    return null;
  }
}

/**
 * Checks, in order: structure, key id, Ed25519 signature, time window (expired at or after `expiresAt`; not yet
 * valid while `issuedAt` is more than {@link GRANT_CLOCK_SKEW_MS} ahead of `now`), then that mission, action,
 * operation, params (through {@link actionParamsHash}) and policy version equal `expected`.
 * Never throws: any input, however broken, yields a result. It does not track use; see the module note.
 */
export function verifyGrant(
  grant: unknown,
  expected: ExpectedAction,
  keys: { publicKeys: Record<string, string> },
  now: Date,
  options: GrantOptions = {},
): GrantVerification {
  try {
    const shape = SignedGrantShape.safeParse(grant);
    if (!shape.success) return fail('malformed', `grant: ${z.prettifyError(shape.error)}`);
    const parsed = GrantClaims.safeParse(shape.data.claims);
    if (!parsed.success) return fail('malformed', `grant claims: ${z.prettifyError(parsed.error)}`);
    const claims = parsed.data;
    const lifetime = lifetimeProblem(claims, options.maxLifetimeMs ?? GRANT_MAX_LIFETIME_MS);
    if (lifetime) return fail('malformed', `grant claims: ${lifetime}`);
    const signature = Buffer.from(shape.data.signature, 'base64');
    if (signature.toString('base64') !== shape.data.signature) return fail('malformed', 'grant: non-canonical base64');

    const publicKey = publicKeyFor(keys.publicKeys, shape.data.keyId);
    if (!publicKey) return fail('unknown_key', `no Ed25519 public key for keyId ${shape.data.keyId}`);
    if (!verify(null, Buffer.from(canonicalJson(claims)), publicKey, signature)) {
      return fail('bad_signature', `signature of grant ${claims.grantId} does not verify`);
    }

    if (now.getTime() >= Date.parse(claims.expiresAt)) return fail('expired', `grant expired at ${claims.expiresAt}`);
    if (Date.parse(claims.issuedAt) > now.getTime() + GRANT_CLOCK_SKEW_MS) {
      return fail('not_yet_valid', `grant issued in the future (${claims.issuedAt})`);
    }

    const wanted = { ...expected, paramsHash: actionParamsHash(expected.operation, expected.params) };
    const fields = ['missionId', 'actionId', 'operation', 'paramsHash', 'policyVersion'] as const;
    const differing = fields.filter((f) => claims[f] !== wanted[f]);
    if (differing.length > 0) return fail('mismatch', `grant does not match the action: ${differing.join(', ')}`);
    return { ok: true, claims };
  } catch (err) {
    // Unexpected inputs (e.g. hostile getters, cyclic params) still must not escape as exceptions.
    return fail('malformed', `grant could not be checked: ${err instanceof Error ? err.message : String(err)}`);
  }
}
