import type Database from 'better-sqlite3';
import { createPrivateKey, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEnterpriseDb } from '../../../connectors/enterprise-db';
import type { RefundResult } from '../../../connectors/enterprise-db';
import { seedEnterpriseDb } from '../../../connectors/enterprise-db-seed';
import { ConnectorError, runWrite } from '../../../connectors/connector';
import type { Connector, OperationContext } from '../../../connectors/connector';
import { actionParamsHash, GRANT_MAX_LIFETIME_MS, mintGrant } from '../../../core/grant';
import type { GrantClaims, SignedGrant } from '../../../core/grant';
import { canonicalJson } from '../../../core/hash';
import { generateEd25519KeyPair } from '../../../core/ed25519';

/**
 * The execution grant at the point of use: an integration reached through `runWrite` acts only on a
 * grant signed by a trusted key, bound to exactly this action and policy version, unexpired and not
 * used before. Every refusal must leave the database exactly as it was.
 */

const NOW = new Date('2025-03-01T09:30:00.000Z');
const OPERATION = 'refunds.issue';
const POLICY_VERSION = 'policy-v1';
const KEYS = generateEd25519KeyPair();
const OTHER_KEYS = generateEd25519KeyPair();
const PUBLIC_KEYS = { [KEYS.keyId]: KEYS.publicKeyPem };
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

const PARAMS = {
  orderId: 'ORD-5002',
  caseId: 'CASE-1002',
  amountCents: 20_000,
  currency: 'USD',
  reason: 'Espresso machine leaks',
};

let dir: string;
let db: Connector & { db: Database.Database };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mandate-grants-'));
  const path = join(dir, 'enterprise.db');
  seedEnterpriseDb(path, { now: NOW });
  db = createEnterpriseDb(path);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Claims for action a1 of mission-1 with PARAMS, valid for one minute from NOW. */
const claims = (overrides: Partial<GrantClaims> = {}): GrantClaims => ({
  v: 1,
  grantId: 'g-1',
  missionId: 'mission-1',
  actionId: 'a1',
  operation: OPERATION,
  paramsHash: actionParamsHash(OPERATION, PARAMS),
  policyVersion: POLICY_VERSION,
  approvers: ['sam.supervisor'],
  issuedAt: NOW.toISOString(),
  expiresAt: new Date(NOW.getTime() + 60_000).toISOString(),
  ...overrides,
});

const grant = (overrides: Partial<GrantClaims> = {}): SignedGrant => mintGrant(claims(overrides), KEYS, NOW);

/** Signs claims with any private key under any key id, bypassing mintGrant's own checks. */
function signRaw(value: GrantClaims, privateKeyPem: string, keyId: string): SignedGrant {
  const signature = sign(null, Buffer.from(canonicalJson(value)), createPrivateKey(privateKeyPem)).toString('base64');
  return { claims: value, keyId, signature };
}

interface Call {
  params?: unknown;
  missionId?: string;
  actionId?: string;
  now?: Date;
  policyVersion?: string;
  publicKeys?: Record<string, string>;
}

const ctxFor = (value: unknown, call: Call = {}): OperationContext => ({
  missionId: call.missionId ?? 'mission-1',
  actionId: call.actionId ?? 'a1',
  now: call.now ?? NOW,
  grant: { value, publicKeys: call.publicKeys ?? PUBLIC_KEYS, policyVersion: call.policyVersion ?? POLICY_VERSION },
});

const execute = (value: unknown, call: Call = {}): RefundResult =>
  runWrite(db, OPERATION, call.params ?? PARAMS, ctxFor(value, call)) as RefundResult;

/** Full contents of the two tables a write may change. */
const tables = () => ({
  refunds: db.db.prepare('SELECT * FROM refunds ORDER BY refund_id').all(),
  grantsUsed: db.db.prepare('SELECT * FROM grants_used ORDER BY grant_id').all(),
});

/** Runs fn, expects a grant_refused ConnectorError and an unchanged database; returns the message. */
function refused(fn: () => unknown): string {
  const before = tables();
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ConnectorError);
  const err = caught as ConnectorError;
  expect(err.code).toBe('grant_refused');
  expect(tables()).toEqual(before);
  return err.message;
}

describe('runWrite with a valid grant', () => {
  it('executes the action once and records the grant; a retry with the same grant changes nothing', () => {
    const before = tables();
    const value = grant();
    const first = execute(value);
    expect(first).toEqual({
      refundId: expect.stringMatching(/^RF-[0-9A-F]{8}$/),
      orderId: 'ORD-5002',
      amountCents: 20_000,
      alreadyExecuted: false,
    });
    const after = tables();
    expect(after.refunds).toHaveLength(before.refunds.length + 1);
    expect(after.refunds).toContainEqual(
      expect.objectContaining({ refund_id: first.refundId, action_key: 'mission-1/a1', amount_cents: 20_000 }),
    );
    expect(after.grantsUsed).toEqual([{ grant_id: 'g-1', action_key: 'mission-1/a1', used_at: NOW.toISOString() }]);

    // A retry (e.g. the activity's worker died after the commit) is answered from the record.
    expect(execute(value)).toEqual({ ...first, alreadyExecuted: true });
    expect(execute(value, { now: new Date(NOW.getTime() + 59_999) })).toEqual({ ...first, alreadyExecuted: true });
    // A late retry, after the grant expired, still gets the recorded result: the effect already happened.
    expect(execute(value, { now: new Date(NOW.getTime() + 3_600_000) })).toEqual({ ...first, alreadyExecuted: true });
    expect(tables()).toEqual(after);
  });

  it('accepts params whose keys come in another order (the binding is over canonical JSON)', () => {
    const reordered = Object.fromEntries(Object.entries(PARAMS).reverse());
    expect(execute(grant(), { params: reordered }).alreadyExecuted).toBe(false);
  });
});

describe('runWrite refuses, changing nothing', () => {
  it('no grant at all', () => {
    const message = refused(() =>
      runWrite(db, OPERATION, PARAMS, { missionId: 'mission-1', actionId: 'a1', now: NOW }),
    );
    expect(message).toBe('refunds.issue refused: no execution grant');
  });

  it('a forged grant: signed by another key but claiming the trusted key id', () => {
    const forged = signRaw(claims(), OTHER_KEYS.privateKeyPem, KEYS.keyId);
    expect(refused(() => execute(forged))).toBe(
      'refunds.issue refused: grant bad_signature: signature of grant g-1 does not verify',
    );
  });

  it('a genuine grant whose claims were edited after signing (a bigger refund)', () => {
    const bigger = { ...PARAMS, amountCents: 45_000 };
    const genuine = grant();
    const tampered = { ...genuine, claims: { ...genuine.claims, paramsHash: actionParamsHash(OPERATION, bigger) } };
    expect(refused(() => execute(tampered, { params: bigger }))).toBe(
      'refunds.issue refused: grant bad_signature: signature of grant g-1 does not verify',
    );
  });

  it('a grant signed by a key the integration does not trust', () => {
    const untrusted = mintGrant(claims(), OTHER_KEYS, NOW);
    expect(refused(() => execute(untrusted))).toBe(
      `refunds.issue refused: grant unknown_key: no Ed25519 public key for keyId ${OTHER_KEYS.keyId}`,
    );
    expect(refused(() => execute(grant(), { publicKeys: {} }))).toBe(
      `refunds.issue refused: grant unknown_key: no Ed25519 public key for keyId ${KEYS.keyId}`,
    );
  });

  it('an expired grant, at and after its expiry', () => {
    const value = grant();
    for (const now of [new Date(NOW.getTime() + 60_000), new Date(NOW.getTime() + 3_600_000)]) {
      expect(refused(() => execute(value, { now }))).toBe(
        `refunds.issue refused: grant expired: grant expired at ${value.claims.expiresAt}`,
      );
    }
  });

  it('a grant issued further in the future than the allowed clock skew', () => {
    const later = new Date(NOW.getTime() + 10 * 60_000);
    const early = mintGrant(
      claims({ issuedAt: later.toISOString(), expiresAt: new Date(later.getTime() + 60_000).toISOString() }),
      KEYS,
      later,
    );
    expect(refused(() => execute(early))).toBe(
      `refunds.issue refused: grant not_yet_valid: grant issued in the future (${later.toISOString()})`,
    );
  });

  it('a grant id already used by another action (a validly signed grant that reuses the id)', () => {
    execute(grant()); // consumes g-1 for mission-1/a1
    const reuse = grant({ actionId: 'a2', paramsHash: actionParamsHash(OPERATION, { ...PARAMS, amountCents: 5_000 }) });
    const message = refused(() => execute(reuse, { actionId: 'a2', params: { ...PARAMS, amountCents: 5_000 } }));
    expect(message).toBe('refunds.issue refused: grant g-1 was already used');
  });

  it('a grant id already recorded in grants_used for another action key', () => {
    db.db
      .prepare('INSERT INTO grants_used (grant_id, action_key, used_at) VALUES (?, ?, ?)')
      .run('g-1', 'mission-0/a9', NOW.toISOString());
    expect(refused(() => execute(grant()))).toBe('refunds.issue refused: grant g-1 was already used');
  });

  it('the same grant presented for another action of the mission (its binding refuses it first)', () => {
    const value = grant();
    execute(value);
    expect(refused(() => execute(value, { actionId: 'a2' }))).toBe(
      'refunds.issue refused: grant mismatch: grant does not match the action: actionId',
    );
  });

  it.each<[string, Partial<GrantClaims>, Call, string]>([
    ['another mission', { missionId: 'mission-2' }, {}, 'missionId'],
    ['another action', { actionId: 'a2' }, {}, 'actionId'],
    [
      'another operation',
      { operation: 'refunds.void', paramsHash: actionParamsHash('refunds.void', PARAMS) },
      {},
      'operation, paramsHash',
    ],
    ['other params', {}, { params: { ...PARAMS, amountCents: 45_000 } }, 'paramsHash'],
    ['params with an extra key', {}, { params: { ...PARAMS, note: 'x' } }, 'paramsHash'],
    ['another policy version', { policyVersion: 'policy-v0' }, {}, 'policyVersion'],
    ['the policy version changed since it was minted', {}, { policyVersion: 'policy-v2' }, 'policyVersion'],
  ])('a grant for %s', (_label, overrides, call, fields) => {
    expect(refused(() => execute(grant(overrides), call))).toBe(
      `refunds.issue refused: grant mismatch: grant does not match the action: ${fields}`,
    );
  });

  it.each<[string, () => unknown, RegExp]>([
    ['null', () => null, /^grant: /],
    ['a string', () => 'g-1', /^grant: /],
    ['an empty object', () => ({}), /claims|keyId|signature/],
    [
      'claims without a paramsHash',
      () => ({ ...grant(), claims: { ...claims(), paramsHash: undefined } }),
      /paramsHash/,
    ],
    ['claims with an unknown key', () => ({ ...grant(), claims: { ...claims(), scope: 'all' } }), /scope/],
    ['a signature that is not base64', () => ({ ...grant(), signature: '!'.repeat(86) + '==' }), /signature/],
    ['a key id that is not hex', () => ({ ...grant(), keyId: 'KEY-1' }), /keyId/],
    ['an extra top-level key', () => ({ ...grant(), approvedBy: 'me' }), /approvedBy/],
    [
      'a non-canonical base64 signature (same bytes, other text)',
      () => {
        // The last character before "==" carries 2 signature bits and 4 padding bits that must be zero;
        // setting one padding bit decodes to the same 64 bytes.
        const value = grant();
        const last = BASE64.indexOf(value.signature[85]);
        return { ...value, signature: `${value.signature.slice(0, 85)}${BASE64[last + 1]}==` };
      },
      /^grant: non-canonical base64$/,
    ],
    [
      'a lifetime above the maximum, even when correctly signed',
      () =>
        signRaw(
          claims({ expiresAt: new Date(NOW.getTime() + GRANT_MAX_LIFETIME_MS + 1).toISOString() }),
          KEYS.privateKeyPem,
          KEYS.keyId,
        ),
      /lifetime \d+ ms exceeds the maximum/,
    ],
  ])('a malformed grant: %s', (_label, make, why) => {
    const message = refused(() => execute(make()));
    expect(message).toMatch(/^refunds\.issue refused: grant malformed: /);
    expect(message.replace(/^refunds\.issue refused: grant malformed: /, '')).toMatch(why);
  });
});
