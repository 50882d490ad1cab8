import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { KEY_ID_PATTERN, KeyRing } from '../core/payload-encryption';
import type { EncryptionConfig } from './encryption';
import { ConfigError } from './schema';

/**
 * The payload key ring: loaded from the key file (JSON, 0600) and/or `MANDATE_ENCRYPTION_KEYS`,
 * generated once in the data dir for a local stack, rotated by `mandate encryption rotate`.
 *
 *     { "current": "k2", "keys": [ { "id": "k1", "key": "<base64, 32 bytes>", "createdAt": "…" }, … ] }
 *
 * Old keys stay in the file: they decrypt the histories written under them (and auditors need them).
 */
const KeyFile = z
  .object({
    current: z.string().regex(KEY_ID_PATTERN),
    keys: z
      .array(
        z
          .object({
            id: z.string().regex(KEY_ID_PATTERN),
            key: z.string().refine((k) => Buffer.from(k, 'base64').length === 32, 'a 32-byte key in base64'),
            createdAt: z.string().optional(),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();
export type KeyFile = z.infer<typeof KeyFile>;

/** Encryption is on and no key can be found, or the keys are unusable: processes refuse to start. */
export class EncryptionKeyMissing extends ConfigError {
  override name = 'EncryptionKeyMissing';
}

export interface LoadedKeyRing {
  ring: KeyRing;
  /** Where the keys came from, for the start banner (a path and/or the variable's name). */
  source: string;
  /** Set when this call generated the local key file. */
  created: boolean;
}

/**
 * The key ring of the configuration, or `undefined` when encryption is off. With `generate`, a
 * missing *default* key file is created with one fresh key (a local stack); a key file that was
 * named explicitly is never generated, so a typo cannot silently start a new ring.
 */
export function loadKeyRing(config: EncryptionConfig, options: { generate?: boolean } = {}): LoadedKeyRing | undefined {
  if (!config.enabled) return undefined;
  const fileExists = existsSync(config.keysFile);
  let created = false;
  if (!fileExists && (config.keysFileConfigured || config.inlineKeys.length === 0)) {
    if (options.generate && !config.keysFileConfigured) {
      writeKeyFile(config.keysFile, newKeyFile(config.currentKeyId));
      created = true;
    } else {
      throw new EncryptionKeyMissing(
        `payload encryption is on but its key ring is missing: no file ${config.keysFile}` +
          ' (set MANDATE_ENCRYPTION_KEYS_FILE or MANDATE_ENCRYPTION_KEYS, create a ring with `mandate encryption rotate`,' +
          ' or turn encryption off explicitly with MANDATE_ENCRYPTION=off)',
      );
    }
  }
  const file = created || fileExists ? readKeyFile(config.keysFile) : undefined;
  const entries: [string, Uint8Array][] = [
    ...(file?.keys ?? []).map((k): [string, Uint8Array] => [k.id, Buffer.from(k.key, 'base64')]),
    ...config.inlineKeys.map((k): [string, Uint8Array] => [k.id, Buffer.from(k.key.reveal(), 'base64')]),
  ];
  const current = config.currentKeyId ?? file?.current ?? config.inlineKeys[0]?.id;
  const sources = [
    file ? config.keysFile : undefined,
    config.inlineKeys.length ? 'MANDATE_ENCRYPTION_KEYS' : undefined,
  ];
  const source = sources.filter(Boolean).join(' + ');
  try {
    return { ring: new KeyRing(entries, current!), source, created };
  } catch (err) {
    throw new EncryptionKeyMissing(`payload encryption: ${(err as Error).message} (keys from ${source})`);
  }
}

export function readKeyFile(path: string): KeyFile {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new EncryptionKeyMissing(`key ring file ${path} is not readable JSON: ${(err as Error).message}`);
  }
  const parsed = KeyFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new EncryptionKeyMissing(`key ring file ${path}: ${issue.path.join('.') || 'file'}: ${issue.message}`);
  }
  if (!parsed.data.keys.some((k) => k.id === parsed.data.current)) {
    throw new EncryptionKeyMissing(`key ring file ${path}: the current key id "${parsed.data.current}" has no key`);
  }
  return parsed.data;
}

/** Writes the key file readable by this user only, replacing it atomically. */
export function writeKeyFile(path: string, file: KeyFile): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const staging = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(staging, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(staging, 0o600); // the umask may have widened it
  renameSync(staging, path);
}

/** A fresh key id: `k<yyyymmdd>-<random>`, sortable by creation day. */
export function newKeyId(now = new Date()): string {
  return `k${now.toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(3).toString('hex')}`;
}

function newKeyFile(id = newKeyId()): KeyFile {
  return { current: id, keys: [newKey(id)] };
}

function newKey(id: string): KeyFile['keys'][number] {
  return { id, key: KeyRing.generateKey().toString('base64'), createdAt: new Date().toISOString() };
}

/**
 * Adds a new key to the file (creating the file when missing) and makes it current, unless `stage`:
 * then it is only added, so every process can learn it before any payload is written under it.
 */
export function rotateKeyFile(
  path: string,
  options: { id?: string; stage?: boolean } = {},
): { id: string; current: string; createdFile: boolean } {
  const id = options.id ?? newKeyId();
  if (!KEY_ID_PATTERN.test(id)) throw new ConfigError(`key id "${id}" must match ${KEY_ID_PATTERN}`);
  if (!existsSync(path)) {
    writeKeyFile(path, newKeyFile(id));
    return { id, current: id, createdFile: true };
  }
  const file = readKeyFile(path);
  if (file.keys.some((k) => k.id === id)) throw new ConfigError(`key ring file ${path} already has a key "${id}"`);
  const next: KeyFile = { current: options.stage ? file.current : id, keys: [...file.keys, newKey(id)] };
  writeKeyFile(path, next);
  return { id, current: next.current, createdFile: false };
}

/** Makes a key the file already holds the current one (after a staged rotation has reached every process). */
export function useKey(path: string, id: string): void {
  if (!existsSync(path)) throw new EncryptionKeyMissing(`no key ring file ${path}`);
  const file = readKeyFile(path);
  if (!file.keys.some((k) => k.id === id)) {
    throw new ConfigError(
      `key ring file ${path} has no key "${id}" (it holds ${file.keys.map((k) => k.id).join(', ')})`,
    );
  }
  writeKeyFile(path, { ...file, current: id });
}
