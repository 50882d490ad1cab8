import { createPrivateKey, sign } from 'node:crypto';
import fc from 'fast-check';
import { GRANT_CLOCK_SKEW_MS, actionParamsHash, mintGrant, verifyGrant } from '../../../core/grant';
import type { ExpectedAction, GrantClaims, SignedGrant } from '../../../core/grant';
import { canonicalJson } from '../../../core/hash';
import { generateEd25519KeyPair, ed25519KeyId } from '../../../core/ed25519';

const keys = generateEd25519KeyPair();
const other = generateEd25519KeyPair();
const trust = { publicKeys: { [keys.keyId]: keys.publicKeyPem } };
const now = new Date('2025-01-15T12:00:00.000Z');
const at = (offsetMs: number): string => new Date(now.getTime() + offsetMs).toISOString();

const expected: ExpectedAction = {
  missionId: 'mission-1',
  actionId: 'action-7',
  operation: 'payments.refund',
  params: { orderId: 'o-42', amount: { value: 1250, currency: 'EUR' }, notify: true },
  policyVersion: 'policy-3f2a',
};

const claimsFor = (overrides: Partial<GrantClaims> = {}): GrantClaims => ({
  v: 1,
  grantId: 'grant-1',
  missionId: expected.missionId,
  actionId: expected.actionId,
  operation: expected.operation,
  paramsHash: actionParamsHash(expected.operation, expected.params),
  policyVersion: expected.policyVersion,
  approvers: ['alice@example.com', 'bob@example.com'],
  issuedAt: at(0),
  expiresAt: at(2 * 60_000),
  ...overrides,
});

const grant = mintGrant(claimsFor(), keys, now);
const check = (g: unknown, exp: ExpectedAction = expected, when = now) => verifyGrant(g, exp, trust, when);

describe('keys and hashes', () => {
  it('derives the key id from the raw public key', () => {
    expect(keys.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(ed25519KeyId(keys.publicKeyPem)).toBe(keys.keyId);
    expect(other.keyId).not.toBe(keys.keyId);
  });

  it('hashes params independently of key order, but not of operation or values', () => {
    const a = actionParamsHash('op', { b: 1, a: { y: [1, 2], x: null } });
    expect(actionParamsHash('op', { a: { x: null, y: [1, 2] }, b: 1 })).toBe(a);
    expect(actionParamsHash('op2', { a: { x: null, y: [1, 2] }, b: 1 })).not.toBe(a);
    expect(actionParamsHash('op', { a: { x: null, y: [2, 1] }, b: 1 })).not.toBe(a);
  });
});

describe('mintGrant', () => {
  it('produces a base64 signature over the claims', () => {
    expect(grant.keyId).toBe(keys.keyId);
    expect(Buffer.from(grant.signature, 'base64')).toHaveLength(64);
    expect(grant.claims).toEqual(claimsFor());
  });

  it.each([
    ['expiresAt before issuedAt', { expiresAt: at(-1) }],
    ['a lifetime above 5 minutes', { expiresAt: at(5 * 60_000 + 1) }],
    ['an already expired grant', { issuedAt: at(-3 * 60_000), expiresAt: at(-60_000) }],
    ['a grant issued in the future', { issuedAt: at(60_000), expiresAt: at(120_000) }],
    ['a bad params hash', { paramsHash: 'abc' }],
    ['an empty missionId', { missionId: '' }],
  ])('rejects %s', (_label, overrides) => {
    expect(() => mintGrant(claimsFor(overrides), keys, now)).toThrow(/mintGrant/);
  });

  it('honours a configured maximum lifetime and a key id that belongs to the key', () => {
    expect(() => mintGrant(claimsFor(), keys, now, { maxLifetimeMs: 60_000 })).toThrow(/exceeds/);
    expect(() => mintGrant(claimsFor(), { ...keys, keyId: other.keyId }, now)).toThrow(/keyId/);
  });
});

describe('verifyGrant', () => {
  it('accepts a valid grant for the expected action, params in any key order', () => {
    const reordered = {
      ...expected,
      params: { notify: true, amount: { currency: 'EUR', value: 1250 }, orderId: 'o-42' },
    };
    expect(check(grant)).toEqual({ ok: true, claims: grant.claims });
    expect(check(JSON.parse(JSON.stringify(grant)), reordered)).toEqual({ ok: true, claims: grant.claims });
  });

  it('rejects a signature by another key claiming a trusted key id', () => {
    const privateKey = createPrivateKey(other.privateKeyPem);
    const forged: SignedGrant = {
      ...grant,
      signature: sign(null, Buffer.from(canonicalJson(grant.claims)), privateKey).toString('base64'),
    };
    expect(check(forged)).toMatchObject({ ok: false, code: 'bad_signature' });
  });

  it('rejects a grant signed by an unknown key', () => {
    const foreign = mintGrant(claimsFor(), other, now);
    expect(check(foreign)).toMatchObject({ ok: false, code: 'unknown_key' });
    expect(check({ ...grant, keyId: '0123456789abcdef' })).toMatchObject({ ok: false, code: 'unknown_key' });
    expect(verifyGrant(grant, expected, { publicKeys: { [keys.keyId]: 'not a pem' } }, now)).toMatchObject({
      ok: false,
      code: 'unknown_key',
    });
  });

  it('enforces the time window with a small skew for not-yet-valid', () => {
    expect(check(grant, expected, new Date(now.getTime() + 2 * 60_000))).toMatchObject({ code: 'expired' });
    expect(check(grant, expected, new Date(now.getTime() - GRANT_CLOCK_SKEW_MS))).toMatchObject({ ok: true });
    expect(check(grant, expected, new Date(now.getTime() - GRANT_CLOCK_SKEW_MS - 1))).toMatchObject({
      code: 'not_yet_valid',
    });
  });

  it.each<[string, Partial<ExpectedAction>]>([
    ['missionId', { missionId: 'mission-2' }],
    ['actionId', { actionId: 'action-8' }],
    ['operation', { operation: 'payments.charge' }],
    ['paramsHash', { params: { ...(expected.params as object), amount: { value: 9999, currency: 'EUR' } } }],
    ['policyVersion', { policyVersion: 'policy-0000' }],
  ])('reports a mismatched %s', (field, change) => {
    const result = check(grant, { ...expected, ...change });
    expect(result).toMatchObject({ ok: false, code: 'mismatch' });
    expect(!result.ok && result.message).toContain(field);
  });

  it.each<[string, Partial<GrantClaims>]>([
    ['missionId', { missionId: 'mission-2' }],
    ['paramsHash', { paramsHash: actionParamsHash('x', {}) }],
    ['approvers', { approvers: ['mallory@example.com'] }],
    ['expiresAt', { expiresAt: at(3 * 60_000) }],
    ['grantId', { grantId: 'grant-2' }],
  ])('detects tampering with %s after signing', (_field, change) => {
    expect(check({ ...grant, claims: { ...grant.claims, ...change } })).toMatchObject({ code: 'bad_signature' });
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['a string', 'grant'],
    ['an empty object', {}],
    ['missing claims', { keyId: grant.keyId, signature: grant.signature }],
    ['a missing claim', { ...grant, claims: { ...grant.claims, actionId: undefined } }],
    ['an extra claim', { ...grant, claims: { ...grant.claims, admin: true } }],
    ['a wrong version', { ...grant, claims: { ...grant.claims, v: 2 } }],
    ['an unparseable time', { ...grant, claims: { ...grant.claims, issuedAt: 'yesterday' } }],
    ['a non-base64 signature', { ...grant, signature: '!'.repeat(86) + '==' }],
    ['a short signature', { ...grant, signature: 'AAAA' }],
    ['a numeric signature', { ...grant, signature: 42 }],
    ['a malformed key id', { ...grant, keyId: '__proto__' }],
  ])('reports %s as malformed without throwing', (_label, input) => {
    expect(check(input)).toMatchObject({ ok: false, code: 'malformed' });
  });

  it('never throws, even for hostile objects', () => {
    const hostile = Object.defineProperty({}, 'claims', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    });
    expect(check(hostile)).toMatchObject({ ok: false, code: 'malformed' });
  });

  /** Parses a mutated serialization and verifies it; text that is no longer JSON cannot be presented as a grant. */
  const verifiesAfterChange = (serialized: string, index: number, replacement: string): boolean => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(serialized.slice(0, index) + replacement + serialized.slice(index + 1));
    } catch {
      return false;
    }
    return check(parsed).ok;
  };

  it('never accepts a grant with any single character changed', () => {
    const serialized = JSON.stringify(grant);
    // Lookalike characters keep the JSON parseable, so the checks behind parsing are what gets exercised.
    const lookalikes = fc.constantFrom(...'0123456789abcdefABCDEFXYZxyz+/=-:.TZ "[]{},\\');
    const anyChar = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
    fc.assert(
      fc.property(fc.nat({ max: serialized.length - 1 }), fc.oneof(lookalikes, anyChar), (index, replacement) => {
        fc.pre(replacement !== serialized[index]);
        expect(verifiesAfterChange(serialized, index, replacement)).toBe(false);
      }),
      { numRuns: 3000 },
    );
  });

  it('never accepts a grant with a character changed to a neighbour, at every position', () => {
    const serialized = JSON.stringify(grant);
    for (let i = 0; i < serialized.length; i++) {
      for (const delta of [1, -1]) {
        const replacement = String.fromCharCode(serialized.charCodeAt(i) + delta);
        expect(verifiesAfterChange(serialized, i, replacement)).toBe(false);
      }
    }
  });
});
