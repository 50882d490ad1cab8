import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

/**
 * C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys, and transparency-log checkpoints
 * (https://c2sp.org/tlog-checkpoint) as note bodies. Key strings use the golang.org/x/mod/sumdb/note
 * formats, so keys and notes interoperate with Go tooling and C2SP witnesses.
 */

/** Why a key, note or checkpoint was refused. */
export type NoteErrorType =
  'MalformedKey' | 'MalformedNote' | 'UnverifiedNote' | 'InvalidSignature' | 'AmbiguousKey' | 'MalformedCheckpoint';

/** Every refusal in this module; `type` says which kind, the message says what was wrong. */
export class NoteError extends Error {
  override readonly name = 'NoteError';
  constructor(
    readonly type: NoteErrorType,
    message: string,
  ) {
    super(message);
  }
}

/** A parsed verifier key (`<name>+<hex key id>+<base64(0x01 || public key)>`). */
export interface VerifierKey {
  readonly name: string;
  readonly keyId: number;
  readonly publicKey: KeyObject;
}

/** A parsed signer key (`PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || seed)>`). */
export interface SignerKey {
  readonly name: string;
  readonly keyId: number;
  readonly privateKey: KeyObject;
  /** The matching verifier key string, safe to publish. */
  readonly verifierKey: string;
}

/** One signature line of a note. */
export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  readonly base64: string;
}

/** Result of `openNote`: the signed body and which signatures verified. */
export interface OpenedNote {
  readonly body: string;
  readonly verified: NoteSignature[];
  /** Signatures by keys the caller did not supply; ignored, as the spec requires. */
  readonly unverified: NoteSignature[];
}

/** A checkpoint: the signed head of a transparency log. */
export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly rootHash: Uint8Array;
  readonly extensions?: readonly string[];
}

const ALG_ED25519 = 0x01;
const SIG_PREFIX = '\u2014 '; // Em dash, space.
const MAX_SIGNATURES = 100; // Bounds the work an attacker can make us do; the spec requires at least 16.
// DER framing around a raw Ed25519 seed (PKCS#8) and public key (SPKI), RFC 8410.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

const keyError = (message: string): NoteError => new NoteError('MalformedKey', message);
const noteError = (message: string): NoteError => new NoteError('MalformedNote', message);
const checkpointError = (message: string): NoteError => new NoteError('MalformedCheckpoint', message);

/** Key ID: the first 4 bytes (big-endian) of SHA-256(name || 0x0A || 0x01 || 32-byte Ed25519 public key). */
export function ed25519KeyId(name: string, rawPublicKey: Uint8Array): number {
  const digest = createHash('sha256').update(name, 'utf8').update(Buffer.of(0x0a, ALG_ED25519)).update(rawPublicKey);
  return digest.digest().readUInt32BE(0);
}

/** Encodes a verifier key string for a name and a raw 32-byte Ed25519 public key. */
export function encodeVerifierKey(name: string, rawPublicKey: Uint8Array): string {
  checkName(name);
  if (rawPublicKey.length !== 32) throw keyError(`Ed25519 public key must be 32 bytes, got ${rawPublicKey.length}`);
  const key = Buffer.concat([Buffer.of(ALG_ED25519), rawPublicKey]).toString('base64');
  return `${name}+${hex8(ed25519KeyId(name, rawPublicKey))}+${key}`;
}

/** Generates a fresh Ed25519 key pair as signer and verifier key strings. Keep `signerKey` secret. */
export function generateKeyPair(name: string): { signerKey: string; verifierKey: string } {
  checkName(name);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length);
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
  const secret = Buffer.concat([Buffer.of(ALG_ED25519), seed]).toString('base64');
  const id = hex8(ed25519KeyId(name, raw));
  return { signerKey: `PRIVATE+KEY+${name}+${id}+${secret}`, verifierKey: encodeVerifierKey(name, raw) };
}

/** Parses a verifier key string, checking its algorithm byte, length and key ID. */
export function parseVerifierKey(text: string): VerifierKey {
  const [name, idHex, key64] = chop(text, 3);
  const what = `verifier key ${JSON.stringify(text)}`;
  const raw = decodeKey(name, idHex, key64, what);
  if (ed25519KeyId(name, raw) !== parseInt(idHex, 16)) throw keyError(`${what} has the wrong key ID`);
  try {
    const publicKey = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
    return { name, keyId: parseInt(idHex, 16), publicKey };
  } catch {
    throw keyError(`${what} is not a valid Ed25519 public key`);
  }
}

/** Parses a signer key string; its key ID must match the public key derived from the seed. */
export function parseSignerKey(text: string): SignerKey {
  const [private1, private2, name, idHex, key64] = chop(text, 5);
  // Error messages never echo the text: it holds the private seed.
  if (private1 !== 'PRIVATE' || private2 !== 'KEY') throw keyError('signer key must start with PRIVATE+KEY+');
  const seed = decodeKey(name, idHex, key64, `signer key for ${JSON.stringify(name)}`);
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const raw = createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
  const keyId = ed25519KeyId(name, raw);
  if (keyId !== parseInt(idHex, 16)) throw keyError(`signer key for ${JSON.stringify(name)} has the wrong key ID`);
  return { name, keyId, privateKey, verifierKey: encodeVerifierKey(name, raw) };
}

/** Signs `body` (text ending in a newline) with one or more signer keys and returns the note text. */
export function signNote(body: string, ...signers: (string | SignerKey)[]): string {
  checkNoteText(body);
  if (!body.endsWith('\n')) throw noteError('note body must end with a newline');
  if (signers.length === 0) throw noteError('signNote needs at least one signer key');
  const message = Buffer.from(body, 'utf8');
  const lines = signers.map((signer) => {
    const key = typeof signer === 'string' ? parseSignerKey(signer) : signer;
    const id = Buffer.alloc(4);
    id.writeUInt32BE(key.keyId);
    const signature = Buffer.concat([id, sign(null, message, key.privateKey)]).toString('base64');
    return `${SIG_PREFIX}${key.name} ${signature}\n`;
  });
  return `${body}\n${lines.join('')}`;
}

/**
 * Parses a signed note and verifies every signature made by one of `verifierKeys`. Signatures by other
 * keys are returned as `unverified`. Throws a `NoteError` if the note is malformed, if a known key's
 * signature does not verify, or if no known key signed it.
 */
export function openNote(note: string | Uint8Array, verifierKeys: readonly (string | VerifierKey)[]): OpenedNote {
  const text = typeof note === 'string' ? note : decodeUtf8(note);
  checkNoteText(text);
  const split = text.lastIndexOf('\n\n');
  if (split < 0) throw noteError('note has no blank line between its body and its signatures');
  const body = text.slice(0, split + 1);
  const block = text.slice(split + 2);
  if (!block.endsWith('\n')) throw noteError('note must end with signature lines, each ending in a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw noteError(`note has ${lines.length} signatures, over ${MAX_SIGNATURES}`);
  const known = verifierKeys.map((key) => (typeof key === 'string' ? parseVerifierKey(key) : key));
  const message = Buffer.from(body, 'utf8');
  const verified = new Map<string, NoteSignature>();
  const unverified = new Map<string, NoteSignature>();
  for (const line of lines) {
    const { signature, bytes } = parseSignatureLine(line);
    const label = `${signature.name}+${hex8(signature.keyId)}`;
    const matches = known.filter((key) => key.name === signature.name && key.keyId === signature.keyId);
    if (matches.length === 0) {
      unverified.set(line, signature); // Unknown keys are ignored, identical lines kept once.
      continue;
    }
    if (matches.length > 1) throw new NoteError('AmbiguousKey', `more than one verifier key is ${label}`);
    // Every signature by a known key must verify, duplicates included.
    if (bytes.length !== 64 || !verify(null, message, matches[0].publicKey, bytes)) {
      throw new NoteError('InvalidSignature', `invalid signature for key ${label}`);
    }
    if (!verified.has(label)) verified.set(label, signature);
  }
  if (verified.size === 0) {
    const by = [...unverified.values()].map((s) => `${s.name}+${hex8(s.keyId)}`).join(', ');
    throw new NoteError('UnverifiedNote', `note has no signature by a known key (signed by ${by})`);
  }
  return { body, verified: [...verified.values()], unverified: [...unverified.values()] };
}

/** Formats a checkpoint body: origin, decimal tree size, base64 root hash, extension lines. */
export function formatCheckpoint(checkpoint: Checkpoint): string {
  const { origin, size, rootHash, extensions = [] } = checkpoint;
  if (!isLine(origin)) throw checkpointError('checkpoint origin must be a non-empty line without control characters');
  if (!Number.isSafeInteger(size) || size < 0) throw checkpointError(`tree size must be an integer >= 0, got ${size}`);
  if (rootHash.length !== 32) throw checkpointError(`root hash must be 32 bytes, got ${rootHash.length}`);
  if (!extensions.every(isLine)) throw checkpointError('checkpoint extension lines must be non-empty single lines');
  return [origin, String(size), Buffer.from(rootHash).toString('base64'), ...extensions, ''].join('\n');
}

/** Parses and strictly validates a checkpoint body (the text `openNote` returns). */
export function parseCheckpoint(body: string): Required<Checkpoint> & { rootHash: Buffer; extensions: string[] } {
  if (!body.endsWith('\n')) throw checkpointError('checkpoint must end with a newline');
  const [origin, sizeText, rootText, ...extensions] = body.slice(0, -1).split('\n');
  if (rootText === undefined) throw checkpointError('checkpoint needs origin, tree size and root hash lines');
  if (!isLine(origin)) throw checkpointError('checkpoint origin must be a non-empty line without control characters');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText)) {
    throw checkpointError(`tree size must be decimal without leading zeros, got ${JSON.stringify(sizeText)}`);
  }
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw checkpointError(`tree size ${sizeText} is too large`);
  const rootHash = decodeBase64(rootText);
  if (rootHash?.length !== 32) throw checkpointError(`root hash must be base64 of 32 bytes, got ${rootText}`);
  if (!extensions.every(isLine)) throw checkpointError('checkpoint extension lines must not be empty');
  return { origin, size, rootHash, extensions };
}

function parseSignatureLine(line: string): { signature: NoteSignature; bytes: Buffer } {
  if (!line.startsWith(SIG_PREFIX)) throw noteError(`signature line must start with an em dash and a space: ${line}`);
  const rest = line.slice(SIG_PREFIX.length);
  const space = rest.indexOf(' ');
  const name = rest.slice(0, space);
  const base64 = rest.slice(space + 1);
  const raw = space < 0 ? undefined : decodeBase64(base64);
  if (!isValidName(name) || raw === undefined || raw.length < 5) throw noteError(`malformed signature line: ${line}`);
  return { signature: { name, keyId: raw.readUInt32BE(0), base64 }, bytes: raw.subarray(4) };
}

/** Validates the name, key ID and `0x01 || 32 bytes` key fields shared by both key formats. */
function decodeKey(name: string, idHex: string, key64: string, what: string): Buffer {
  checkName(name);
  if (!/^[0-9a-fA-F]{8}$/.test(idHex)) throw keyError(`${what} needs an 8-digit hex key ID`);
  const key = decodeBase64(key64);
  if (key?.length !== 33) throw keyError(`${what} needs base64 of 33 key bytes`);
  if (key[0] !== ALG_ED25519) throw keyError(`${what} has unknown algorithm 0x${key[0].toString(16)}`);
  return key.subarray(1);
}

/** Splits at the first `count - 1` pluses: base64 key material may itself contain '+'. */
function chop(text: string, count: number): string[] {
  const parts = text.split('+');
  if (parts.length < count) throw keyError(`key must have ${count} '+'-separated fields`);
  return [...parts.slice(0, count - 1), parts.slice(count - 1).join('+')];
}

/** Strict standard base64: anything that does not re-encode identically is refused. */
function decodeBase64(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64');
  return bytes.length > 0 && bytes.toString('base64') === text ? bytes : undefined;
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw noteError('note is not valid UTF-8');
  }
}

function checkNoteText(text: string): void {
  if (/\p{Cs}/u.test(text)) throw noteError('note is not valid UTF-8 (lone surrogate)');
  if (/[\u0000-\u0009\u000b-\u001f]/.test(text)) throw noteError('note contains an ASCII control character');
}

/** Key names are non-empty, without Unicode spaces or '+' (and, being note text, control characters). */
function isValidName(name: string): boolean {
  return name !== '' && !/[\s\u0085+\u0000-\u001f]/.test(name) && !/\p{Cs}/u.test(name);
}

function checkName(name: string): void {
  if (!isValidName(name)) throw keyError(`invalid key name ${JSON.stringify(name)}`);
}

function isLine(line: string): boolean {
  return line !== '' && !/[\u0000-\u001f]/.test(line);
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}
