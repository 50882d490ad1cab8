import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generateAttestationKeys } from '../core/attestation';

/**
 * The service's Ed25519 signing key: MANDATE_APPROVALS_SIGNING_KEY as inline PEM or a file path;
 * for the local stack, a key generated once under the data dir (0600) when nothing is configured.
 */
export function loadSigningKey(setting: string | undefined, dataDir: string): { pem: string; source: string } {
  if (setting?.startsWith('-----BEGIN')) return { pem: setting, source: 'MANDATE_APPROVALS_SIGNING_KEY' };
  if (setting) {
    if (!existsSync(setting)) throw new Error(`MANDATE_APPROVALS_SIGNING_KEY: no file ${setting}`);
    return { pem: readFileSync(setting, 'utf8'), source: setting };
  }
  const path = join(dataDir, 'approvals-signing-key.pem');
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    const keys = generateAttestationKeys();
    writeFileSync(path, keys.privateKeyPem, { mode: 0o600 });
    writeFileSync(join(dataDir, 'approvals-signing-key.pub.pem'), keys.publicKeyPem);
    chmodSync(path, 0o600);
  }
  return { pem: readFileSync(path, 'utf8'), source: path };
}
