import { generateKeyPairSync, sign } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519';
import {
  ATTESTATION_MAX_VALIDITY_MS,
  controlMessage,
  signedBytes,
  startMessage,
  verifyAttestation,
  voteMessage,
} from '../../../core/attestation';
import { actionParamsHash } from '../../../core/grant';
import type { VoteInput } from '../../../contract/mission';
import { ed25519KeyId, generateEd25519KeyPair } from '../../../core/ed25519';
import { createAttestationSigner } from '../../../core/signer';

const keys = generateEd25519KeyPair();
const signer = createAttestationSigner(keys.privateKeyPem);
const trusted = [signer.trusted(['approval', 'control'], false, 'service')];
const AT = new Date('2026-01-01T00:00:00Z');
const SOON = new Date('2026-01-01T00:01:00Z');

const vote = (overrides: Partial<VoteInput> = {}): VoteInput =>
  signer.signVote(
    'm-1',
    {
      actionId: 'a1',
      decision: 'approve',
      approver: 'sam@example.com',
      roles: ['supervisor'],
      reason: 'receipt checked',
      paramsHash: actionParamsHash('refunds.issue', { amountCents: 45000 }),
      policyVersion: 'v1',
      step: 0,
      ...overrides,
    },
    AT,
  );
const check = (v: VoteInput, missionId = 'm-1', now: Date | undefined = SOON, signers = trusted) =>
  verifyAttestation(voteMessage(missionId, v), v.attestation, signers, 'approval', now);

describe('attestations', () => {
  it('derives the key id from the raw public key, the same from the private side', () => {
    expect(keys.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(ed25519KeyId(keys.publicKeyPem)).toBe(keys.keyId);
    expect(signer.keyId).toBe(keys.keyId);
    expect(signer.publicKeyHex).toMatch(/^[0-9a-f]{64}$/);
  });

  it('verifies a signed vote with the pure-JS Ed25519 the workflow uses', () => {
    const v = vote();
    expect(v.attestation).toMatchObject({ v: 2, keyId: keys.keyId, signedAt: '2026-01-01T00:00:00.000Z' });
    expect(v.voteId).toMatch(/^v-/);
    expect(check(v)).toMatchObject({ ok: true, signer: { keyId: keys.keyId, breakGlass: false } });
  });

  it('signs exactly what node:crypto signs: @noble/curves and OpenSSL agree byte for byte', () => {
    const v = vote();
    const bytes = signedBytes(voteMessage('m-1', v), v.attestation!);
    const openssl = sign(null, bytes, keys.privateKeyPem).toString('hex');
    expect(openssl).toBe(v.attestation!.signature);
    expect(ed25519.verify(openssl, bytes, signer.publicKeyHex)).toBe(true);
  });

  it('does not depend on key order or absent optional fields', () => {
    const v = vote({ reason: undefined });
    const reordered = JSON.parse(JSON.stringify({ attestation: v.attestation, ...v }));
    expect(check(reordered).ok).toBe(true);
  });

  it.each<[string, Partial<VoteInput>]>([
    ['approver', { approver: 'mallory@example.com' }],
    ['decision', { decision: 'reject' }],
    ['roles (one added)', { roles: ['supervisor', 'cfo'] }],
    ['reason', { reason: 'other' }],
    ['paramsHash', { paramsHash: 'f'.repeat(64) }],
    ['policyVersion', { policyVersion: 'v2' }],
    ['actionId', { actionId: 'a2' }],
    ['ladder step', { step: 1 }],
    ['vote id', { voteId: 'v-other' }],
  ])('refuses a vote whose %s changed after signing', (_field, change) => {
    expect(check({ ...vote(), ...change })).toMatchObject({ ok: false, code: 'bad_signature' });
  });

  it('refuses the same signed vote in another mission', () => {
    expect(check(vote(), 'm-2')).toMatchObject({ ok: false, code: 'bad_signature' });
  });

  it('refuses a missing attestation, an untrusted key and a key not allowed this purpose', () => {
    const { attestation: _a, ...unsigned } = vote();
    expect(check(unsigned as VoteInput)).toMatchObject({ ok: false, code: 'unsigned' });
    expect(check(vote(), 'm-1', SOON, [])).toMatchObject({ ok: false, code: 'untrusted_key' });
    const startOnly = [signer.trusted(['start'], false)];
    expect(check(vote(), 'm-1', SOON, startOnly)).toMatchObject({
      ok: false,
      code: 'untrusted_key',
      message: expect.stringMatching(/may not sign approval/),
    });
    const impostor = createAttestationSigner(generateEd25519KeyPair().privateKeyPem);
    const forged = {
      ...vote(),
      attestation: { ...impostor.signVote('m-1', { ...vote(), step: 0 }).attestation!, keyId: keys.keyId },
    };
    expect(check(forged)).toMatchObject({ ok: false, code: 'bad_signature' });
  });

  it('counts only inside the validity window, which is bounded', () => {
    expect(check(vote(), 'm-1', new Date('2026-01-01T00:06:00Z'))).toMatchObject({
      ok: false,
      code: 'signature_expired',
    });
    expect(check(vote(), 'm-1', new Date('2025-12-31T23:50:00Z'))).toMatchObject({
      ok: false,
      code: 'signature_expired',
    });
    expect(check(vote(), 'm-1', undefined).ok).toBe(true); // a grant re-checking a vote counted in time
    const long = signer.sign(voteMessage('m-1', vote()), AT, ATTESTATION_MAX_VALIDITY_MS + 1);
    expect(check({ ...vote(), attestation: long })).toMatchObject({ ok: false, code: 'bad_signature' });
    const moved = { ...vote(), attestation: { ...vote().attestation!, expiresAt: '2026-01-01T00:09:00.000Z' } };
    expect(check(moved)).toMatchObject({ ok: false, code: 'bad_signature' });
  });

  it('binds starts and controls to their purpose', () => {
    const start = { missionType: 'customer-refund', input: { caseId: 'CASE-1' }, initiator: 'alice' };
    const a = signer.signStart('m-1', start, AT);
    const starters = [signer.trusted(['start'], false)];
    expect(verifyAttestation(startMessage('m-1', start), a, starters, 'start', SOON).ok).toBe(true);
    expect(
      verifyAttestation(startMessage('m-1', { ...start, initiator: 'mallory' }), a, starters, 'start', SOON).ok,
    ).toBe(false);
    // A start signature does not count as a control's, even by a key that may sign both.
    const both = [signer.trusted(['start', 'control'], false)];
    const c = signer.signControl('m-1', 'halt', { by: 'ops', roles: ['operator'], reason: 'x' }, AT);
    expect(verifyAttestation(controlMessage('m-1', 'halt', c), c.attestation, both, 'control', SOON).ok).toBe(true);
    expect(verifyAttestation(controlMessage('m-1', 'resume', c), c.attestation, both, 'control', SOON).ok).toBe(false);
    expect(verifyAttestation(startMessage('m-1', start), c.attestation, both, 'start', SOON).ok).toBe(false);
  });

  it('never throws on broken input', () => {
    const broken: unknown[] = [
      null,
      {},
      { v: 2, keyId: 1, signature: 'x', signedAt: 'y', expiresAt: 'z' },
      { v: 2, keyId: keys.keyId, signature: '!!', signedAt: AT.toISOString(), expiresAt: SOON.toISOString() },
      { v: 1, keyId: keys.keyId, signature: 'Zm9yZ2Vk', signedAt: 'y' },
      'Zm9yZ2Vk',
    ];
    for (const attestation of broken) {
      expect(verifyAttestation(voteMessage('m-1', vote()), attestation, trusted, 'approval', SOON).ok).toBe(false);
    }
    const bad = [{ ...trusted[0], publicKey: 'not hex' }];
    expect(check(vote(), 'm-1', SOON, bad)).toMatchObject({ ok: false });
  });

  it('refuses a non-Ed25519 signing key', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => createAttestationSigner(rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString())).toThrow(
      /must be Ed25519/,
    );
  });
});
