import { join } from 'node:path';
import { ensureSecretFile, readKeySetting } from '../config/key-files';
import { generateEd25519KeyPair } from '../core/ed25519';

/**
 * The service's Ed25519 signing key: MANDATE_APPROVALS_SIGNING_KEY as inline PEM or a file path;
 * for the local stack, a key generated once under the data dir (0600) when nothing is configured.
 */
export function loadSigningKey(setting: string | undefined, dataDir: string): { pem: string; source: string } {
  if (setting) {
    const source = setting.includes('-----BEGIN') ? 'MANDATE_APPROVALS_SIGNING_KEY' : setting;
    return { pem: readKeySetting(setting, 'MANDATE_APPROVALS_SIGNING_KEY'), source };
  }
  const path = join(dataDir, 'approvals-signing-key.pem');
  const { text } = ensureSecretFile(path, () => {
    const keys = generateEd25519KeyPair();
    return {
      secret: keys.privateKeyPem,
      companions: { [join(dataDir, 'approvals-signing-key.pub.pem')]: keys.publicKeyPem },
    };
  });
  return { pem: text, source: path };
}
