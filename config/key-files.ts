import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Key settings and key files. A key setting holds the key text itself or the path of a file with
 * it; a local stack generates its keys once into the data dir, readable by this user only.
 */

/** The key text of a setting, as given: inline (PEM, C2SP note keys) or read from the file it names. */
export function readKeySetting(value: string, name: string): string {
  const inline =
    value.includes('-----BEGIN') || value.startsWith('PRIVATE+KEY+') || /^[^/\s]+\+[0-9a-f]{8}\+/.test(value);
  if (inline) return value;
  if (!existsSync(value)) throw new Error(`${name}: no file ${value}`);
  return readFileSync(value, 'utf8');
}

/**
 * The contents of a secret file, created (0600, in a 0700 folder) from `create()` when missing.
 * Returns whether this call created it. `create` may return companion files (e.g. a public key).
 */
export function ensureSecretFile(
  path: string,
  create: () => { secret: string; companions?: Record<string, string> },
): { text: string; created: boolean } {
  if (existsSync(path)) return { text: readFileSync(path, 'utf8'), created: false };
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const made = create();
  writeFileSync(path, made.secret, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600); // the umask may have widened it
  for (const [companion, text] of Object.entries(made.companions ?? {}))
    writeFileSync(companion, text, { mode: 0o644 });
  return { text: made.secret, created: true };
}
