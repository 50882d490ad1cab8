import fc from 'fast-check';
import { MerkleLog, verifyInclusion } from '../../../core/merkle';
import {
  NoteError,
  ed25519KeyId,
  formatCheckpoint,
  generateKeyPair,
  openNote,
  parseCheckpoint,
  parseSignerKey,
  parseVerifierKey,
  signNote,
} from '../../../core/signed-note';
import type { NoteErrorType } from '../../../core/signed-note';

// Test keys and notes published in golang.org/x/mod sumdb/note/note_test.go (TestSign, TestOpen).
const PETER_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_B64 = 'x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=';
const ENOCH_B64 = 'rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=';
const PETER_SIG = `\u2014 PeterNeumann ${PETER_B64}\n`;
const ENOCH_SIG = `\u2014 EnochRoot ${ENOCH_B64}\n`;
const PETER = { name: 'PeterNeumann', keyId: 0xc74f20a3, base64: PETER_B64 };
const ENOCH = { name: 'EnochRoot', keyId: 0xaf0cfe78, base64: ENOCH_B64 };

// A live sum.golang.org checkpoint, quoted in sigsum/sigsum proposals/2026-01-22-tags-releases-non-releases.md,
// and the Go checksum database key from golang/go src/cmd/go/internal/modfetch/key.go.
const SUMDB_VKEY = 'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8';
const SUMDB_NOTE =
  'go.sum database tree\n49189689\nftjbAOzaupaIvaPo/G+Dk63nxOZ2s1OPOKIaPtXs7S4=\n\n' +
  '\u2014 sum.golang.org Az3grlKZssqRoMNPpZfKt0TphbbcF+pzXqElURJKRNFKfaUAgqeI5k2AORH0QAhg/ebRwyIqD/OqP4oLtLnNumvOBAM=\n';

const refusal = (fn: () => unknown): NoteErrorType | 'no error' => {
  try {
    fn();
    return 'no error';
  } catch (error) {
    if (error instanceof NoteError) return error.type;
    throw error;
  }
};

describe('signed notes: golang.org/x/mod sumdb/note vectors', () => {
  it('derives the published key IDs and verifier key', () => {
    const peter = parseVerifierKey(PETER_VKEY);
    expect(peter).toMatchObject({ name: 'PeterNeumann', keyId: 0xc74f20a3 });
    const raw = Buffer.from(PETER_VKEY.split('+')[2], 'base64').subarray(1);
    expect(ed25519KeyId('PeterNeumann', raw)).toBe(0xc74f20a3);
    expect(parseVerifierKey(ENOCH_VKEY).keyId).toBe(0xaf0cfe78);
    expect(parseSignerKey(PETER_SKEY)).toMatchObject({ keyId: 0xc74f20a3, verifierKey: PETER_VKEY });
  });

  it('signs byte-for-byte like Go (Ed25519 is deterministic)', () => {
    expect(signNote(TEXT, PETER_SKEY)).toBe(`${TEXT}\n${PETER_SIG}`);
  });

  it('opens the published notes, separating known from unknown signers', () => {
    const note = `${TEXT}\n${PETER_SIG}${ENOCH_SIG}`;
    expect(openNote(note, [PETER_VKEY])).toEqual({ body: TEXT, verified: [PETER], unverified: [ENOCH] });
    expect(openNote(note, [PETER_VKEY, ENOCH_VKEY])).toEqual({ body: TEXT, verified: [PETER, ENOCH], unverified: [] });
    expect(() => openNote(note, [])).toThrow('note has no signature by a known key (signed by PeterNeumann+c74f20a3');
    expect(refusal(() => openNote(`${TEXT}\n${ENOCH_SIG}`, [ENOCH_VKEY, PETER_VKEY, ENOCH_VKEY]))).toBe('AmbiguousKey');
    expect(openNote(`${TEXT}\n${PETER_SIG}`, [ENOCH_VKEY, PETER_VKEY, ENOCH_VKEY]).verified).toEqual([PETER]);
    expect(openNote(new TextEncoder().encode(note), [ENOCH_VKEY]).verified).toEqual([ENOCH]);
  });

  it('keeps duplicate signatures once and verifies every one by a known key', () => {
    const enochAbcd = ENOCH_SIG.slice(0, 58) + 'ABCD' + ENOCH_SIG.slice(58);
    const note = `${TEXT}\n${PETER_SIG}${PETER_SIG}${ENOCH_SIG}${ENOCH_SIG}${enochAbcd}`;
    const opened = openNote(note, [PETER_VKEY]);
    expect(opened.verified).toEqual([PETER]);
    expect(opened.unverified.map((s) => s.base64)).toEqual([ENOCH_B64, enochAbcd.slice(12, -1)]);
    expect(() => openNote(note, [PETER_VKEY, ENOCH_VKEY])).toThrow('invalid signature for key EnochRoot+af0cfe78');
  });

  it('rejects malformed notes as Go does', () => {
    const peterAbcd = PETER_SIG.slice(0, 58) + 'ABCD' + PETER_SIG.slice(58);
    expect(() => openNote(`${TEXT}\n${peterAbcd}`, [PETER_VKEY])).toThrow(
      'invalid signature for key PeterNeumann+c74f20a3',
    );
    expect(refusal(() => openNote(`${TEXT}\n${PETER_SIG.repeat(101)}`, [PETER_VKEY]))).toBe('MalformedNote');
    const bad = [
      TEXT,
      `${TEXT}\n`,
      `${TEXT}\n${PETER_SIG.slice(0, -1)}`,
      `\u0001${TEXT}\n${PETER_SIG}`,
      `\ud800${TEXT}\n${PETER_SIG}`,
      `${TEXT}\n\u2014 Bad Name ${PETER_B64}\n`,
      `${TEXT}\n${PETER_SIG}Unexpected line.\n`,
      `${TEXT}\n\u2014 PeterNeumann\n`,
      `${TEXT}\n\u2014 PeterNeumann x08g\n`,
      `${TEXT}\n\u2014 PeterNeumann ${PETER_B64.replace('=', '')}\n`,
    ];
    for (const note of bad) expect(refusal(() => openNote(note, [PETER_VKEY]))).toBe('MalformedNote');
    const invalidUtf8 = Buffer.concat([Buffer.of(0xff), Buffer.from(`${TEXT}\n${PETER_SIG}`)]);
    expect(() => openNote(invalidUtf8, [PETER_VKEY])).toThrow('note is not valid UTF-8');
  });

  it('rejects every truncation and every one-character change of the published keys', () => {
    for (const [key, parse] of [
      [PETER_VKEY, parseVerifierKey],
      [PETER_SKEY, parseSignerKey],
    ] as const) {
      for (let i = 0; i < key.length; i++) {
        for (let j = i + 1; j <= key.length; j++) {
          if (i !== 0 || j !== key.length) expect(refusal(() => parse(key.slice(i, j)))).toBe('MalformedKey');
        }
        const changed = key.slice(0, i) + String.fromCharCode(key.charCodeAt(i) + 1) + key.slice(i + 1);
        expect(refusal(() => parse(changed))).toBe('MalformedKey');
      }
    }
    // Go's own extra cases: wrong key length and unknown algorithm, each with a matching key ID.
    const wrongLength = 'PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==';
    expect(() => parseVerifierKey(wrongLength)).toThrow('needs base64 of 33 key bytes');
    const unknownAlg = 'PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
    expect(() => parseVerifierKey(unknownAlg)).toThrow('unknown algorithm 0x65');
    // A signer key error names the problem but never echoes the private seed.
    const seed64 = PETER_SKEY.split('+').slice(4).join('+');
    const tampered = PETER_SKEY.slice(0, -1) + 'y';
    expect(() => parseSignerKey(tampered)).toThrow('signer key for "PeterNeumann" has the wrong key ID');
    expect(() => parseSignerKey(tampered)).not.toThrow(seed64.slice(0, 8));
  });
});

describe('signed notes: own keys', () => {
  it('round-trips generated keys, including cosigned notes', () => {
    const log = generateKeyPair('mandate.example/audit');
    const witness = generateKeyPair('witness.example/w1');
    const body = 'mandate.example/audit\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n';
    const note = signNote(body, log.signerKey, witness.signerKey);
    expect(openNote(note, [log.verifierKey]).body).toBe(body);
    expect(openNote(note, [log.verifierKey, witness.verifierKey]).verified.map((s) => s.name)).toEqual([
      'mandate.example/audit',
      'witness.example/w1',
    ]);
    expect(parseSignerKey(log.signerKey).verifierKey).toBe(log.verifierKey);
  });

  it('fails on any change to the body, signature or key name', () => {
    const { signerKey, verifierKey } = generateKeyPair('mandate.example/audit');
    const body = fc.stringMatching(/^[a-zA-Z0-9 ./+=\n\u00e9\u2014]{0,40}\n$/);
    fc.assert(
      fc.property(body, fc.nat(), fc.integer({ min: 1, max: 255 }), (text, at, delta) => {
        const note = signNote(text, signerKey);
        expect(openNote(note, [verifierKey]).body).toBe(text);
        // Change one character of the body (never its final newline) to another printable one.
        const i = at % Math.max(1, text.length - 1);
        const char = String.fromCharCode(32 + ((text.charCodeAt(i) + delta) % 95));
        const altered = text.length > 1 ? text.slice(0, i) + char + text.slice(i + 1) : text;
        if (altered !== text) {
          expect(refusal(() => openNote(altered + note.slice(text.length), [verifierKey]))).toBe('InvalidSignature');
        }
        const sigLine = note.slice(note.lastIndexOf('\u2014')).trimEnd();
        const sig = Buffer.from(sigLine.split(' ')[2], 'base64');
        sig[4 + (at % 64)] ^= 1 << (delta % 8);
        const flipped = `${text}\n\u2014 mandate.example/audit ${sig.toString('base64')}\n`;
        expect(refusal(() => openNote(flipped, [verifierKey]))).toBe('InvalidSignature');
      }),
      { numRuns: 50 },
    );
    const note = signNote('hello\n', signerKey);
    expect(refusal(() => openNote(note.replace('audit ', 'audit2 '), [verifierKey]))).toBe('UnverifiedNote');
    expect(refusal(() => openNote(note, [generateKeyPair('mandate.example/audit').verifierKey]))).toBe(
      'UnverifiedNote',
    );
  });

  it('refuses bodies and key names the spec forbids', () => {
    const { signerKey } = generateKeyPair('a');
    expect(() => signNote('no newline', signerKey)).toThrow('note body must end with a newline');
    expect(() => signNote('tab\there\n', signerKey)).toThrow('control character');
    expect(() => signNote('x\n')).toThrow('at least one signer');
    for (const name of ['', 'a+b', 'a b', 'a\u00a0b', 'a\u2028b']) {
      expect(refusal(() => generateKeyPair(name))).toBe('MalformedKey');
    }
  });
});

describe('checkpoints', () => {
  const root = Buffer.from('7ed8db00ecdaba9688bda3e8fc6f8393ade7c4e676b3538f38a21a3ed5eced2e', 'hex');

  it('opens and parses a real sum.golang.org checkpoint', () => {
    const { body, verified } = openNote(SUMDB_NOTE, [SUMDB_VKEY]);
    expect(verified.map((s) => s.keyId)).toEqual([0x033de0ae]);
    expect(parseCheckpoint(body)).toEqual({
      origin: 'go.sum database tree',
      size: 49189689,
      rootHash: root,
      extensions: [],
    });
    expect(formatCheckpoint(parseCheckpoint(body))).toBe(body);
    expect(refusal(() => openNote(SUMDB_NOTE.replace('49189689', '49189690'), [SUMDB_VKEY]))).toBe('InvalidSignature');
  });

  it('formats and parses with extension lines', () => {
    const checkpoint = { origin: 'example.com/log', size: 0, rootHash: root, extensions: ['ext one', 'ext two'] };
    const body = formatCheckpoint(checkpoint);
    expect(body).toBe(`example.com/log\n0\n${root.toString('base64')}\next one\next two\n`);
    expect(parseCheckpoint(body)).toEqual(checkpoint);
  });

  it('validates strictly', () => {
    const b64 = root.toString('base64');
    const bad = [
      `o\n1\n${b64}`,
      `o\n1\n`,
      `\n1\n${b64}\n`,
      `o\n01\n${b64}\n`,
      `o\n+1\n${b64}\n`,
      `o\n-1\n${b64}\n`,
      `o\n 1\n${b64}\n`,
      `o\n1.0\n${b64}\n`,
      `o\n9007199254740993\n${b64}\n`,
      `o\n1\n${root.subarray(1).toString('base64')}\n`,
      `o\n1\n${b64.replace('=', '')}\n`,
      `o\n1\n${b64.slice(0, -2)}f=\n`,
      `o\n1\n${b64}\n\n`,
      `o\n1\n${b64}\next\n\n`,
    ];
    for (const body of bad) expect(refusal(() => parseCheckpoint(body))).toBe('MalformedCheckpoint');
    expect(() => parseCheckpoint(`o\n007\n${b64}\n`)).toThrow(
      'tree size must be decimal without leading zeros, got "007"',
    );
    const good = { origin: 'o', size: 1, rootHash: root };
    for (const wrong of [
      { origin: '' },
      { origin: 'a\nb' },
      { size: -1 },
      { size: 1.5 },
      { rootHash: root.subarray(1) },
    ]) {
      expect(refusal(() => formatCheckpoint({ ...good, ...wrong }))).toBe('MalformedCheckpoint');
    }
    expect(refusal(() => formatCheckpoint({ ...good, extensions: [''] }))).toBe('MalformedCheckpoint');
  });

  it('carries a MerkleLog root that inclusion proofs verify against', () => {
    const { signerKey, verifierKey } = generateKeyPair('mandate.example/audit');
    const log = new MerkleLog();
    for (const event of ['approve', 'act', 'report']) log.append(Buffer.from(event));
    const note = signNote(
      formatCheckpoint({ origin: 'mandate.example/audit', size: log.size, rootHash: log.root() }),
      signerKey,
    );
    const checkpoint = parseCheckpoint(openNote(note, [verifierKey]).body);
    const proof = log.proveInclusion(1, checkpoint.size);
    expect(verifyInclusion(log.leafHash(1), 1, checkpoint.size, proof, checkpoint.rootHash)).toBe(true);
  });
});
