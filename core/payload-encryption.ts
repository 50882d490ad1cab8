import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

/**
 * Payload encryption: AES-256-GCM over the whole serialised payload (its metadata and data), with a
 * fresh random 96-bit nonce per payload. The result is a payload whose metadata names only the
 * encoding, the cipher and the key id, so the cluster stores ciphertext and whoever holds the key
 * ring (workers, clients, the codec server, auditors) reads plaintext. A key ring holds the current
 * key (used to encrypt) and older keys (which still decrypt), so keys rotate without re-encrypting
 * histories. Payloads that are not encrypted pass through decode unchanged (histories from before
 * encryption was turned on); confidentiality comes from here, authenticity from the signatures.
 */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
export const CIPHER_METADATA = 'encryption-cipher';
export const CIPHER = 'AES-256-GCM';

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A payload under a key id the ring does not hold. */
export class UnknownEncryptionKey extends Error {
  override name = 'UnknownEncryptionKey';
  constructor(
    readonly keyId: string,
    held: readonly string[],
  ) {
    super(
      `payload is encrypted under key id "${keyId}", which is not in this key ring (it holds ${held.map((id) => `"${id}"`).join(', ') || 'no keys'}): add that key to the ring to read it`,
    );
  }
}

/** An encrypted payload that does not decrypt (altered, truncated, or not ours). */
export class PayloadDecryptionFailed extends Error {
  override name = 'PayloadDecryptionFailed';
}

/** The keys payloads are encrypted and decrypted with. Key material never leaves the ring as text. */
export class KeyRing {
  readonly #keys: Map<string, Buffer>;
  readonly currentKeyId: string;

  constructor(keys: Iterable<readonly [string, Uint8Array]>, currentKeyId: string) {
    this.#keys = new Map();
    for (const [id, key] of keys) {
      if (!KEY_ID_PATTERN.test(id)) throw new Error(`key id "${id}" must match ${KEY_ID_PATTERN}`);
      if (key.length !== KEY_BYTES) throw new Error(`key "${id}" must be ${KEY_BYTES} bytes, it has ${key.length}`);
      const existing = this.#keys.get(id);
      if (existing && !existing.equals(key)) throw new Error(`key id "${id}" is given twice with different keys`);
      this.#keys.set(id, Buffer.from(key));
    }
    if (!this.#keys.has(currentKeyId)) {
      throw new Error(`the current key id "${currentKeyId}" is not in the key ring (it holds ${this.ids.join(', ')})`);
    }
    this.currentKeyId = currentKeyId;
  }

  /** Key ids, current first. */
  get ids(): string[] {
    return [...this.#keys.keys()].sort((a, b) => Number(b === this.currentKeyId) - Number(a === this.currentKeyId));
  }

  has(id: string): boolean {
    return this.#keys.has(id);
  }

  /** Encrypts one payload under the current key. */
  encrypt(payload: Payload): Payload {
    const keyId = this.currentKeyId;
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#keys.get(keyId)!, nonce);
    cipher.setAAD(aad(keyId));
    const plain = temporal.api.common.v1.Payload.encode(payload).finish();
    const sealed = Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: {
        encoding: utf8(ENCRYPTED_ENCODING),
        [CIPHER_METADATA]: utf8(CIPHER),
        [KEY_ID_METADATA]: utf8(keyId),
      },
      data: sealed,
    };
  }

  /** Decrypts one payload; a payload that is not encrypted is returned as it is. */
  decrypt(payload: Payload): Payload {
    if (!isEncrypted(payload)) return payload;
    const keyId = payloadKeyId(payload) ?? '';
    const key = this.#keys.get(keyId);
    if (!key) throw new UnknownEncryptionKey(keyId, this.ids);
    const cipherName = text(payload.metadata?.[CIPHER_METADATA]);
    if (cipherName !== CIPHER)
      throw new PayloadDecryptionFailed(`payload cipher ${cipherName || '(none)'} is not ${CIPHER}`);
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < NONCE_BYTES + TAG_BYTES) throw new PayloadDecryptionFailed('encrypted payload is truncated');
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, NONCE_BYTES));
    decipher.setAAD(aad(keyId));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(NONCE_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadDecryptionFailed(
        `encrypted payload under key id "${keyId}" does not decrypt (altered or damaged)`,
      );
    }
    const inner = temporal.api.common.v1.Payload.decode(plain);
    return { metadata: { ...inner.metadata }, data: inner.data };
  }

  /** What a ring may show: its key ids, never the keys. */
  toJSON(): { currentKeyId: string; keyIds: string[] } {
    return { currentKeyId: this.currentKeyId, keyIds: this.ids };
  }

  /** Generates a fresh random 256-bit key. */
  static generateKey(): Buffer {
    return randomBytes(KEY_BYTES);
  }
}

/** The Temporal SDK's seam: every client, worker and replayer encodes and decodes through this. */
export class EncryptionCodec implements PayloadCodec {
  constructor(readonly ring: KeyRing) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.ring.encrypt(p));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.ring.decrypt(p));
  }
}

export function isEncrypted(payload: Payload): boolean {
  return text(payload.metadata?.encoding) === ENCRYPTED_ENCODING;
}

export function payloadKeyId(payload: Payload): string | undefined {
  return text(payload.metadata?.[KEY_ID_METADATA]) || undefined;
}

/** A payload in proto3 JSON form (`temporal workflow show --output json`, the codec server protocol). */
export interface PayloadJson {
  metadata?: Record<string, string>;
  data?: string;
}

export function payloadFromJson(json: PayloadJson): Payload {
  const metadata: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(json.metadata ?? {})) metadata[k] = Buffer.from(v, 'base64');
  return { metadata, data: Buffer.from(json.data ?? '', 'base64') };
}

/** Proto3 JSON leaves out empty fields (a `binary/null` payload has no data), as the SDK and the CLI do. */
export function payloadToJson(payload: Payload): PayloadJson {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(payload.metadata ?? {})) if (v) metadata[k] = Buffer.from(v).toString('base64');
  const data = Buffer.from(payload.data ?? new Uint8Array()).toString('base64');
  return { ...(Object.keys(metadata).length ? { metadata } : {}), ...(data ? { data } : {}) };
}

// The key id and cipher are bound to the ciphertext: changing either metadata field fails decryption.
const aad = (keyId: string) => utf8(`mandate.payload.v1|${CIPHER}|${keyId}`);
const utf8 = (s: string) => Buffer.from(s, 'utf8');
const text = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString('utf8') : '');
