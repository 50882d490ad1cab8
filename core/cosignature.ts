import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { NoteError } from './signed-note';

/**
 * C2SP tlog-cosignature (https://c2sp.org/tlog-cosignature), Ed25519 `cosignature/v1`: a witness's
 * timestamped signature over a checkpoint body, carried as one more signed-note signature line
 *
 *   — <witness name> base64(key ID[4] || timestamp[8, big-endian] || Ed25519 signature[64])
 *
 * over the message "cosignature/v1\ntime <timestamp>\n" + the checkpoint body. Key IDs use the
 * signature type 0x04: SHA-256(name || "\n" || 0x04 || public key)[:4]. Keys are written like
 * golang.org/x/mod/sumdb/note keys with that type byte; like github.com/transparency-dev/formats/note,
 * a plain Ed25519 (0x01) key is also accepted and used as a cosigner key.
 */
export const ALG_COSIGNATURE_V1 = 0x04;
const ALG_ED25519 = 0x01;
const SIG_PREFIX = '\u2014 ';
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const MAX_TIMESTAMP = 2n ** 63n - 1n;

/** A cosigner (witness) signing key. */
export interface Cosigner {
  readonly name: string;
  readonly keyId: number;
  readonly privateKey: KeyObject;
  /** The cosignature verifier key string (type 0x04), safe to publish. */
  readonly verifierKey: string;
}

/** A parsed cosignature verifier key. */
export interface CosignatureVerifier {
  readonly name: string;
  readonly keyId: number;
  readonly publicKey: KeyObject;
  /** The key in its canonical (type 0x04) text form. */
  readonly text: string;
}

/** One verified cosignature. */
export interface Cosignature {
  readonly name: string;
  readonly keyId: number;
  /** POSIX seconds at which the witness signed. */
  readonly timestamp: number;
  /** The signature line, with its final newline. */
  readonly line: string;
}

const keyError = (message: string) => new NoteError('MalformedKey', message);

/** Key ID of an Ed25519 cosigner key: SHA-256(name || 0x0A || 0x04 || public key)[:4], big-endian. */
export function cosignatureKeyId(name: string, rawPublicKey: Uint8Array): number {
  return createHash('sha256')
    .update(name, 'utf8')
    .update(Buffer.of(0x0a, ALG_COSIGNATURE_V1))
    .update(rawPublicKey)
    .digest()
    .readUInt32BE(0);
}

/** Encodes a cosignature verifier key: `<name>+<key ID>+base64(0x04 || public key)`. */
export function encodeCosignatureVerifierKey(name: string, rawPublicKey: Uint8Array): string {
  checkName(name);
  const key = Buffer.concat([Buffer.of(ALG_COSIGNATURE_V1), rawPublicKey]).toString('base64');
  return `${name}+${hex8(cosignatureKeyId(name, rawPublicKey))}+${key}`;
}

/** A fresh cosigner key pair (type 0x04 signer and verifier strings). Keep `signerKey` secret. */
export function generateCosignerKeyPair(name: string): { signerKey: string; verifierKey: string } {
  checkName(name);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length);
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
  const secret = Buffer.concat([Buffer.of(ALG_COSIGNATURE_V1), seed]).toString('base64');
  return {
    signerKey: `PRIVATE+KEY+${name}+${hex8(cosignatureKeyId(name, raw))}+${secret}`,
    verifierKey: encodeCosignatureVerifierKey(name, raw),
  };
}

/** Parses a cosigner signer key (`PRIVATE+KEY+<name>+<id>+base64(0x04 or 0x01 || seed)`). */
export function parseCosignerKey(text: string): Cosigner {
  const [p1, p2, name, idHex, key64] = chop(text, 5);
  // Never echo the text: it holds the private seed.
  if (p1 !== 'PRIVATE' || p2 !== 'KEY') throw keyError('cosigner key must start with PRIVATE+KEY+');
  checkName(name);
  const key = decodeBase64(key64);
  if (!/^[0-9a-fA-F]{8}$/.test(idHex) || key?.length !== 33)
    throw keyError(`cosigner key for ${JSON.stringify(name)} is malformed`);
  if (key[0] !== ALG_COSIGNATURE_V1 && key[0] !== ALG_ED25519)
    throw keyError(`cosigner key for ${JSON.stringify(name)} has unknown algorithm 0x${key[0].toString(16)}`);
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, key.subarray(1)]),
    format: 'der',
    type: 'pkcs8',
  });
  const raw = createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
  const keyId = cosignatureKeyId(name, raw);
  return { name, keyId, privateKey, verifierKey: encodeCosignatureVerifierKey(name, raw) };
}

/** Parses a cosignature verifier key (type 0x04, or a plain Ed25519 0x01 key used as a cosigner key). */
export function parseCosignatureVerifierKey(text: string): CosignatureVerifier {
  const [name, idHex, key64] = chop(text, 3);
  const what = `witness key ${JSON.stringify(text)}`;
  checkName(name);
  const key = decodeBase64(key64);
  if (!/^[0-9a-fA-F]{8}$/.test(idHex) || key?.length !== 33) throw keyError(`${what} is malformed`);
  const raw = key.subarray(1);
  const expected =
    key[0] === ALG_COSIGNATURE_V1
      ? cosignatureKeyId(name, raw)
      : key[0] === ALG_ED25519
        ? ed25519NoteKeyId(name, raw)
        : undefined;
  if (expected === undefined) throw keyError(`${what} has unknown algorithm 0x${key[0].toString(16)}`);
  if (expected !== parseInt(idHex, 16)) throw keyError(`${what} has the wrong key ID`);
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
  } catch {
    throw keyError(`${what} is not a valid Ed25519 public key`);
  }
  return { name, keyId: cosignatureKeyId(name, raw), publicKey, text: encodeCosignatureVerifierKey(name, raw) };
}

/** The bytes a cosigner signs: "cosignature/v1\ntime <t>\n" followed by the checkpoint body. */
export function cosignedMessage(body: string, timestamp: number): Buffer {
  checkTimestamp(timestamp);
  if (!body.endsWith('\n') || body.split('\n').length < 4)
    throw new NoteError('MalformedCheckpoint', 'a cosigned body needs at least origin, size and root lines');
  return Buffer.from(`cosignature/v1\ntime ${timestamp}\n${body}`, 'utf8');
}

/** Cosigns a checkpoint body at `timestamp` (POSIX seconds); returns the signature line. */
export function cosign(body: string, signer: string | Cosigner, timestamp: number): string {
  const key = typeof signer === 'string' ? parseCosignerKey(signer) : signer;
  const signature = sign(null, cosignedMessage(body, timestamp), key.privateKey);
  const head = Buffer.alloc(12);
  head.writeUInt32BE(key.keyId, 0);
  head.writeBigUInt64BE(BigInt(timestamp), 4);
  return `${SIG_PREFIX}${key.name} ${Buffer.concat([head, signature]).toString('base64')}\n`;
}

/**
 * Checks one signature line as a cosignature of `body` by one of `verifiers`. Returns undefined when
 * no verifier has the line's name and key ID (not ours to judge); throws `NoteError` when a matching
 * key's signature does not verify or the line is malformed.
 */
export function checkCosignatureLine(
  body: string,
  line: string,
  verifiers: readonly CosignatureVerifier[],
): Cosignature | undefined {
  const text = line.endsWith('\n') ? line.slice(0, -1) : line;
  if (!text.startsWith(SIG_PREFIX) || text.includes('\n'))
    throw new NoteError('MalformedNote', `not a signature line: ${JSON.stringify(line)}`);
  const rest = text.slice(SIG_PREFIX.length);
  const space = rest.indexOf(' ');
  const name = rest.slice(0, space);
  const raw = space < 0 ? undefined : decodeBase64(rest.slice(space + 1));
  if (!isValidName(name) || raw === undefined || raw.length < 4)
    throw new NoteError('MalformedNote', `malformed signature line: ${JSON.stringify(line)}`);
  const keyId = raw.readUInt32BE(0);
  const key = verifiers.find((v) => v.name === name && v.keyId === keyId);
  if (!key) return undefined;
  const label = `${name}+${hex8(keyId)}`;
  if (raw.length !== 4 + 8 + 64) throw new NoteError('InvalidSignature', `cosignature by ${label} has the wrong size`);
  const ts = raw.readBigUInt64BE(4);
  if (ts > MAX_TIMESTAMP || ts === 0n)
    throw new NoteError('InvalidSignature', `cosignature by ${label} has an invalid timestamp`);
  const timestamp = Number(ts);
  if (!verify(null, cosignedMessage(body, timestamp), key.publicKey, raw.subarray(12)))
    throw new NoteError('InvalidSignature', `invalid cosignature by ${label}`);
  return { name, keyId, timestamp, line: `${text}\n` };
}

/** Splits a signed note into its body and its signature lines (each with its newline). */
export function splitNote(note: string): { body: string; lines: string[] } {
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) throw new NoteError('MalformedNote', 'not a signed note');
  const lines = note
    .slice(split + 2, -1)
    .split('\n')
    .map((l) => `${l}\n`);
  return { body: note.slice(0, split + 1), lines };
}

/** The raw-key ID a plain Ed25519 (0x01) note key carries, to accept such keys as in the Go code. */
function ed25519NoteKeyId(name: string, raw: Uint8Array): number {
  return createHash('sha256')
    .update(name, 'utf8')
    .update(Buffer.of(0x0a, ALG_ED25519))
    .update(raw)
    .digest()
    .readUInt32BE(0);
}

function checkTimestamp(timestamp: number): void {
  if (!Number.isSafeInteger(timestamp) || timestamp <= 0)
    throw new NoteError('MalformedNote', `cosignature timestamp must be a positive integer, got ${timestamp}`);
}

function chop(text: string, count: number): string[] {
  const parts = String(text).split('+');
  if (parts.length < count) throw keyError(`key must have ${count} '+'-separated fields`);
  return [...parts.slice(0, count - 1), parts.slice(count - 1).join('+')];
}

function decodeBase64(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64');
  return bytes.length > 0 && bytes.toString('base64') === text ? bytes : undefined;
}

function isValidName(name: string): boolean {
  return name !== '' && !/[\s\u0085+\u0000-\u001f]/.test(name) && !/\p{Cs}/u.test(name);
}

function checkName(name: string): void {
  if (!isValidName(name)) throw keyError(`invalid key name ${JSON.stringify(name)}`);
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}
