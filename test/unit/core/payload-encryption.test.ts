import { createCipheriv } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import {
  CIPHER,
  ENCRYPTED_ENCODING,
  EncryptionCodec,
  KEY_ID_METADATA,
  KeyRing,
  PayloadDecryptionFailed,
  UnknownEncryptionKey,
  payloadFromJson,
  payloadKeyId,
  payloadToJson,
} from '../../../core/payload-encryption';

const k1 = Buffer.alloc(32, 1);
const k2 = Buffer.alloc(32, 2);
const ring1 = new KeyRing([['k1', k1]], 'k1');
const ring12 = new KeyRing(
  [
    ['k1', k1],
    ['k2', k2],
  ],
  'k2',
);
const secret = { customer: 'Ada Lovelace', email: 'ada@example.com', note: 'CANARY-7f3a' };
const plain = defaultPayloadConverter.toPayload(secret);
const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? new Uint8Array()).toString('utf8');

test('a payload encrypts to ciphertext that names only the encoding, cipher and key id, and decrypts back', () => {
  const sealed = ring1.encrypt(plain);
  expect(Object.fromEntries(Object.entries(sealed.metadata!).map(([k, v]) => [k, text(v)]))).toEqual({
    encoding: ENCRYPTED_ENCODING,
    'encryption-cipher': CIPHER,
    [KEY_ID_METADATA]: 'k1',
  });
  const bytes = Buffer.from(sealed.data!);
  expect(bytes.includes('CANARY-7f3a')).toBe(false);
  expect(bytes.includes('json/plain')).toBe(false); // the inner metadata is encrypted too
  expect(defaultPayloadConverter.fromPayload(ring1.decrypt(sealed))).toEqual(secret);
});

test('every encryption uses a fresh 96-bit nonce: the same payload never encrypts to the same bytes', () => {
  const nonces = new Set<string>();
  const bodies = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const data = Buffer.from(ring1.encrypt(plain).data!);
    nonces.add(data.subarray(0, 12).toString('hex'));
    bodies.add(data.toString('hex'));
  }
  expect(nonces.size).toBe(2000);
  expect(bodies.size).toBe(2000);
});

test('the format is nonce ‖ AES-256-GCM(serialised payload) ‖ tag, with the key id bound as associated data', () => {
  // A known-answer check built with node:crypto directly: the wire format cannot drift unnoticed.
  const nonce = Buffer.alloc(12, 7);
  const cipher = createCipheriv('aes-256-gcm', k1, nonce);
  cipher.setAAD(Buffer.from(`mandate.payload.v1|${CIPHER}|k1`));
  const inner = temporal.api.common.v1.Payload.encode(plain).finish();
  const data = Buffer.concat([nonce, cipher.update(inner), cipher.final(), cipher.getAuthTag()]);
  const sealed = payloadFromJson({
    metadata: {
      encoding: Buffer.from(ENCRYPTED_ENCODING).toString('base64'),
      'encryption-cipher': Buffer.from(CIPHER).toString('base64'),
      [KEY_ID_METADATA]: Buffer.from('k1').toString('base64'),
    },
    data: data.toString('base64'),
  });
  expect(defaultPayloadConverter.fromPayload(ring1.decrypt(sealed))).toEqual(secret);
});

test('rotation: a ring with a new current key encrypts under it and still decrypts the old key', () => {
  const old = ring1.encrypt(plain);
  const fresh = ring12.encrypt(plain);
  expect(payloadKeyId(old)).toBe('k1');
  expect(payloadKeyId(fresh)).toBe('k2');
  expect(defaultPayloadConverter.fromPayload(ring12.decrypt(old))).toEqual(secret);
  expect(ring12.ids).toEqual(['k2', 'k1']);
});

test('a payload under a key id the ring lacks fails with a message naming that key id', () => {
  const underK2 = ring12.encrypt(plain);
  expect(() => ring1.decrypt(underK2)).toThrow(UnknownEncryptionKey);
  expect(() => ring1.decrypt(underK2)).toThrow(/key id "k2", which is not in this key ring \(it holds "k1"\)/);
});

test('altered ciphertext, tag, nonce or key id does not decrypt', () => {
  const sealed = ring12.encrypt(plain);
  for (const index of [0, 11, 12, sealed.data!.length - 1]) {
    const data = Buffer.from(sealed.data!);
    data[index] ^= 1;
    expect(() => ring12.decrypt({ ...sealed, data })).toThrow(PayloadDecryptionFailed);
  }
  // Relabelling a k2 payload as k1 (both in the ring): the key id is bound, so it fails.
  const relabelled = { ...sealed, metadata: { ...sealed.metadata, [KEY_ID_METADATA]: Buffer.from('k1') } };
  expect(() => ring12.decrypt(relabelled)).toThrow(PayloadDecryptionFailed);
  expect(() => ring12.decrypt({ ...sealed, data: Buffer.alloc(10) })).toThrow(/truncated/);
});

test('payloads that are not encrypted pass through decode unchanged (histories from before encryption)', async () => {
  const codec = new EncryptionCodec(ring1);
  expect(await codec.decode([plain])).toEqual([plain]);
  const [sealed] = await codec.encode([plain]);
  expect(await codec.decode([sealed])).toEqual([expect.objectContaining({ data: plain.data })]);
});

test('payloads convert to and from the proto3 JSON of the codec protocol', () => {
  const sealed = ring1.encrypt(plain);
  const json = payloadToJson(sealed);
  expect(json.metadata!.encoding).toBe(Buffer.from(ENCRYPTED_ENCODING).toString('base64'));
  expect(defaultPayloadConverter.fromPayload(ring1.decrypt(payloadFromJson(json)))).toEqual(secret);
});

test('a key ring refuses bad keys and ids, and never shows key material', () => {
  expect(() => new KeyRing([['k1', Buffer.alloc(16)]], 'k1')).toThrow(/32 bytes/);
  expect(() => new KeyRing([['bad id', k1]], 'bad id')).toThrow(/must match/);
  expect(() => new KeyRing([['k1', k1]], 'k9')).toThrow(/current key id "k9" is not in the key ring/);
  expect(
    () =>
      new KeyRing(
        [
          ['k1', k1],
          ['k1', k2],
        ],
        'k1',
      ),
  ).toThrow(/given twice/);
  const shown = JSON.stringify({ ring12 }) + String(ring12);
  expect(shown).toContain('k2');
  expect(shown).not.toContain(k1.toString('base64'));
  expect(shown).not.toContain(k2.toString('hex'));
});
