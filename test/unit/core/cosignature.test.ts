import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkCosignatureLine,
  cosign,
  cosignatureKeyId,
  cosignedMessage,
  generateCosignerKeyPair,
  parseCosignatureVerifierKey,
  parseCosignerKey,
  splitNote,
} from '../../../core/cosignature';
import { NoteError, openNote, signNote } from '../../../core/signed-note';

/**
 * Ed25519 cosignature/v1 against the Go reference: the vectors in test/fixtures/cosignature were
 * produced by golang.org/x/mod/sumdb/note with github.com/transparency-dev/formats/note (see the
 * fixture's `source`). Ed25519 is deterministic, so signing the same body with the same key at the
 * same timestamp must give the same bytes.
 */
const go = JSON.parse(readFileSync(join(__dirname, '..', '..', 'fixtures', 'cosignature', 'go-vectors.json'), 'utf8'));

describe('cosignature/v1: Go reference vectors', () => {
  it('derives the Go key hash and the cosignature (0x04) verifier key from the witness key', () => {
    const signer = parseCosignerKey(go.witnessSignerKey);
    expect(signer.keyId.toString(16).padStart(8, '0')).toBe(go.witnessKeyHash);
    expect(signer.verifierKey).toBe(go.witnessCosignatureVkey);
    // A plain Ed25519 vkey is accepted and converted, as VKeyToCosignatureV1 does.
    expect(parseCosignatureVerifierKey(go.witnessEd25519Vkey).text).toBe(go.witnessCosignatureVkey);
    const raw = Buffer.from(go.witnessCosignatureVkey.split('+').slice(2).join('+'), 'base64').subarray(1);
    expect(cosignatureKeyId('witness.example/w1', raw)).toBe(parseInt(go.witnessKeyHash, 16));
  });

  it.each([0, 1])('signs vector %i byte-for-byte like Go and verifies the Go cosignature', (i) => {
    const v = go.vectors[i];
    expect(cosign(v.body, go.witnessSignerKey, v.timestamp)).toBe(v.cosignatureLine);
    const verifier = parseCosignatureVerifierKey(go.witnessCosignatureVkey);
    expect(checkCosignatureLine(v.body, v.cosignatureLine, [verifier])).toEqual({
      name: 'witness.example/w1',
      keyId: parseInt(go.witnessKeyHash, 16),
      timestamp: v.timestamp,
      line: v.cosignatureLine,
    });
    // The log's own signature line is byte-identical too, and the cosigned note still opens with the log key.
    expect(signNote(v.body, go.logSignerKey)).toBe(v.logSigned);
    expect(openNote(v.cosigned, [go.logVerifierKey]).unverified).toHaveLength(1);
    const { body, lines } = splitNote(v.cosigned);
    expect(body).toBe(v.body);
    expect(lines.at(-1)).toBe(v.cosignatureLine);
  });

  it('refuses a cosignature over another body, at another time, or by another key', () => {
    const v = go.vectors[0];
    const verifier = parseCosignatureVerifierKey(go.witnessCosignatureVkey);
    const type = (fn: () => unknown) => {
      try {
        fn();
        return 'accepted';
      } catch (err) {
        return (err as NoteError).type;
      }
    };
    expect(type(() => checkCosignatureLine(go.vectors[1].body, v.cosignatureLine, [verifier]))).toBe(
      'InvalidSignature',
    );
    const raw = Buffer.from(v.cosignatureLine.slice(2 + 'witness.example/w1 '.length, -1), 'base64');
    raw.writeBigUInt64BE(BigInt(v.timestamp + 1), 4);
    const retimed = `\u2014 witness.example/w1 ${raw.toString('base64')}\n`;
    expect(type(() => checkCosignatureLine(v.body, retimed, [verifier]))).toBe('InvalidSignature');
    const other = parseCosignatureVerifierKey(generateCosignerKeyPair('witness.example/w2').verifierKey);
    expect(checkCosignatureLine(v.body, v.cosignatureLine, [other])).toBeUndefined();
    expect(type(() => checkCosignatureLine(v.body, '\u2014 x', [verifier]))).toBe('MalformedNote');
  });
});

describe('cosignature/v1: the C2SP example', () => {
  // https://c2sp.org/tlog-cosignature: the example checkpoint, its cosignature line and signed message.
  const body = 'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n';
  const line =
    '\u2014 witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n';

  it('builds the signed message of the spec and reads the key ID and timestamp of its line', () => {
    expect(cosignedMessage(body, 1679315147).toString()).toBe(
      'cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n',
    );
    const raw = Buffer.from(line.slice(2, -1).split(' ')[1], 'base64');
    expect(raw.length).toBe(4 + 8 + 64);
    expect(raw.readUInt32BE(0)).toBe(0x8d66cf3f);
    expect(Number(raw.readBigUInt64BE(4))).toBe(1679315147);
  });
});

describe('cosigner keys', () => {
  it('generates pairs whose signatures verify, and keeps the seed out of errors', () => {
    const pair = generateCosignerKeyPair('mandate-witness');
    const body = 'mandate/audit/x\n1\nGBdN5aTkiG1DnvEZgmRfs0GMSDf+U3P2O8Rv1A0ZVkM=\n';
    const line = cosign(body, pair.signerKey, 1_700_000_000);
    expect(checkCosignatureLine(body, line, [parseCosignatureVerifierKey(pair.verifierKey)])?.timestamp).toBe(
      1_700_000_000,
    );
    const broken = pair.signerKey.replace(/\+[^+]+$/, '+AAAA');
    expect(() => parseCosignerKey(broken)).toThrow(NoteError);
    try {
      parseCosignerKey(broken);
    } catch (err) {
      expect((err as Error).message).not.toContain(pair.signerKey.split('+').at(-1));
    }
    expect(() => parseCosignatureVerifierKey(pair.verifierKey.replace(/\+([0-9a-f]{8})\+/, '+00000000+'))).toThrow(
      /wrong key ID/,
    );
  });
});
