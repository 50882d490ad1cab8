import { generateKeyPairSync } from 'node:crypto';
import { createAttestationSigner, verifyAttestation } from '../../../core/attestation';
import { actionParamsHash } from '../../../core/grant';
import type { VoteInput } from '../../../contract/mission';
import { ed25519KeyId, generateEd25519KeyPair } from '../../../core/ed25519';

const keys = generateEd25519KeyPair();
const signer = createAttestationSigner(keys.privateKeyPem);
const trusted = { [keys.keyId]: keys.publicKeyPem };

function signed(overrides: Partial<VoteInput> = {}): VoteInput {
  const input: VoteInput = {
    actionId: 'a1',
    decision: 'approve',
    approver: 'sam@example.com',
    roles: ['supervisor'],
    reason: 'receipt checked',
    paramsHash: actionParamsHash('refunds.issue', { amountCents: 45000 }),
    policyVersion: 'v1',
    ...overrides,
  };
  return { ...input, attestation: signer.sign('m-1', input, new Date('2026-01-01T00:00:00Z')) };
}

describe('attestations', () => {
  it('derives the key id from the raw public key, the same from the private side', () => {
    expect(keys.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(ed25519KeyId(keys.publicKeyPem)).toBe(keys.keyId);
    expect(signer.keyId).toBe(keys.keyId);
  });

  it('verifies a signed decision', () => {
    const input = signed();
    expect(input.attestation).toMatchObject({ keyId: keys.keyId, signedAt: '2026-01-01T00:00:00.000Z' });
    expect(verifyAttestation('m-1', input, trusted)).toEqual({ ok: true, keyId: keys.keyId });
  });

  it('does not depend on key order or absent optional fields', () => {
    const input = signed({ reason: undefined });
    const reordered = JSON.parse(JSON.stringify({ attestation: input.attestation, ...input }));
    expect(verifyAttestation('m-1', reordered, trusted).ok).toBe(true);
  });

  it.each<[string, Partial<VoteInput>]>([
    ['approver', { approver: 'mallory@example.com' }],
    ['decision', { decision: 'reject' }],
    ['roles', { roles: ['supervisor', 'cfo'] }],
    ['reason', { reason: 'other' }],
    ['paramsHash', { paramsHash: 'f'.repeat(64) }],
    ['policyVersion', { policyVersion: 'v2' }],
    ['actionId', { actionId: 'a2' }],
  ])('refuses a decision whose %s changed after signing', (_field, change) => {
    const result = verifyAttestation('m-1', { ...signed(), ...change }, trusted);
    expect(result).toEqual({ ok: false, reason: 'attestation signature does not match the decision' });
  });

  it('refuses another mission, an unknown key, a forged key id and a moved timestamp', () => {
    const input = signed();
    expect(verifyAttestation('m-2', input, trusted).ok).toBe(false);
    expect(verifyAttestation('m-1', input, {})).toEqual({ ok: false, reason: `unknown attestation key ${keys.keyId}` });
    const other = generateEd25519KeyPair();
    expect(verifyAttestation('m-1', input, { [keys.keyId]: other.publicKeyPem })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/does not match its id/),
    });
    const moved = { ...input, attestation: { ...input.attestation!, signedAt: '2026-01-02T00:00:00.000Z' } };
    expect(verifyAttestation('m-1', moved, trusted).ok).toBe(false);
  });

  it('never throws on broken input', () => {
    const broken: unknown[] = [
      undefined,
      null,
      {},
      { attestation: null },
      { attestation: { keyId: 1, signature: 'x', signedAt: 'y' } },
      { attestation: { keyId: keys.keyId, signature: '!!', signedAt: 'y' } },
    ];
    for (const value of broken) {
      expect(verifyAttestation('m-1', value as VoteInput, trusted).ok).toBe(false);
    }
    expect(verifyAttestation('m-1', signed(), { [keys.keyId]: 'not a pem' })).toMatchObject({ ok: false });
  });

  it('refuses a non-Ed25519 signing key', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => createAttestationSigner(rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString())).toThrow(
      /must be Ed25519/,
    );
  });
});
