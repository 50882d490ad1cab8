import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSigningKey } from '../../../approvals-ui/keys';
import { createAttestationSigner } from '../../../core/signer';
import { generateEd25519KeyPair } from '../../../core/ed25519';

describe('the service signing key', () => {
  it('is generated once under the data dir (0600) when nothing is configured, then reused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mandate-keys-'));
    const first = loadSigningKey(undefined, dir);
    expect(first.source).toBe(join(dir, 'approvals-signing-key.pem'));
    expect(statSync(first.source).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'approvals-signing-key.pub.pem')).isFile()).toBe(true);
    expect(loadSigningKey(undefined, dir).pem).toBe(first.pem);
    expect(createAttestationSigner(first.pem).keyId).toMatch(/^[0-9a-f]{16}$/);
  });

  it('takes inline PEM or a file path; a missing file is an error that names it', () => {
    const keys = generateEd25519KeyPair();
    expect(loadSigningKey(keys.privateKeyPem, '/nonexistent').pem).toBe(keys.privateKeyPem);
    const dir = mkdtempSync(join(tmpdir(), 'mandate-keys-'));
    const generated = loadSigningKey(undefined, dir);
    expect(loadSigningKey(generated.source, '/nonexistent').pem).toBe(generated.pem);
    expect(() => loadSigningKey('/no/such/key.pem', dir)).toThrow(/no file \/no\/such\/key\.pem/);
  });
});
