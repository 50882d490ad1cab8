import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, EncryptionKeyMissing, loadConfig, loadKeyRing, rotateKeyFile, useKey } from '../../../config';

const dir = () => mkdtempSync(join(tmpdir(), 'mandate-keys-'));
const key32 = (fill: number) => Buffer.alloc(32, fill).toString('base64');

test('encryption is on by default, with the key ring file in the data dir and the Web UI as the only browser origin', () => {
  const config = loadConfig({});
  expect(config.encryption).toEqual({
    enabled: true,
    keysFile: join(resolve('.mandate'), 'keys', 'payload-keys.json'),
    keysFileConfigured: false,
    inlineKeys: [],
    currentKeyId: undefined,
  });
  expect(config.codecServer).toEqual({
    port: 8781,
    origins: ['http://127.0.0.1:8233', 'http://localhost:8233'],
    roles: ['decrypt'],
  });
  expect(loadConfig({ MANDATE_ENCRYPTION: 'off' }).encryption.enabled).toBe(false);
  expect(loadConfig({ MANDATE_CODEC_ORIGINS: 'https://temporal.example.com' }).codecServer.origins).toEqual([
    'https://temporal.example.com',
  ]);
});

test('bad settings stop the process with a one-line message that never echoes key material', () => {
  expect(() => loadConfig({ MANDATE_ENCRYPTION: 'maybe' })).toThrow(/MANDATE_ENCRYPTION/);
  expect(() => loadConfig({ MANDATE_CODEC_ORIGINS: 'http://ui.example.com/path' })).toThrow(/MANDATE_CODEC_ORIGINS/);
  expect(() => loadConfig({ MANDATE_ENCRYPTION_KEY_ID: 'no spaces' })).toThrow(/MANDATE_ENCRYPTION_KEY_ID/);
  const short = Buffer.alloc(16, 9).toString('base64');
  let message = '';
  try {
    loadConfig({ MANDATE_ENCRYPTION_KEYS: `k1:${short}` });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    message = (err as Error).message;
  }
  expect(message).toMatch(/MANDATE_ENCRYPTION_KEYS\.0\.key: each key is 32 bytes/);
  expect(message).not.toContain(short);
});

test('a local stack generates the default key ring once (0600 in a 0700 folder) and reuses it', () => {
  const d = dir();
  const config = loadConfig({ MANDATE_DATA_DIR: d }).encryption;
  expect(() => loadKeyRing(config)).toThrow(EncryptionKeyMissing);
  expect(() => loadKeyRing(config)).toThrow(`no file ${join(d, 'keys', 'payload-keys.json')}`);
  const first = loadKeyRing(config, { generate: true })!;
  expect(first).toMatchObject({ created: true, source: config.keysFile });
  expect(statSync(config.keysFile).mode & 0o777).toBe(0o600);
  expect(statSync(join(d, 'keys')).mode & 0o777).toBe(0o700);
  const again = loadKeyRing(config, { generate: true })!;
  expect(again.created).toBe(false);
  expect(again.ring.currentKeyId).toBe(first.ring.currentKeyId);
  expect(loadKeyRing({ ...config, enabled: false })).toBeUndefined();
});

test('a key file named explicitly is never generated: missing, it refuses', () => {
  const file = join(dir(), 'named.json');
  const config = loadConfig({ MANDATE_ENCRYPTION_KEYS_FILE: file }).encryption;
  expect(() => loadKeyRing(config, { generate: true })).toThrow(`payload encryption is on but its key ring is missing`);
});

test('keys from the environment alone, or merged with the file; the current key must be in the ring', () => {
  const env = { MANDATE_DATA_DIR: dir(), MANDATE_ENCRYPTION_KEYS: `k2:${key32(2)},k1:${key32(1)}` };
  const inline = loadKeyRing(loadConfig(env).encryption)!;
  expect(inline).toMatchObject({ source: 'MANDATE_ENCRYPTION_KEYS' });
  expect(inline.ring.ids).toEqual(['k2', 'k1']);
  const file = join(dir(), 'ring.json');
  rotateKeyFile(file, { id: 'k0' });
  const merged = loadKeyRing(loadConfig({ ...env, MANDATE_ENCRYPTION_KEYS_FILE: file }).encryption)!;
  expect(merged.ring.currentKeyId).toBe('k0');
  expect(merged.ring.ids.sort()).toEqual(['k0', 'k1', 'k2']);
  expect(() => loadKeyRing(loadConfig({ ...env, MANDATE_ENCRYPTION_KEY_ID: 'k9' }).encryption)!).toThrow(
    /current key id "k9" is not in the key ring/,
  );
  const clash = { MANDATE_ENCRYPTION_KEYS_FILE: file, MANDATE_ENCRYPTION_KEYS: `k0:${key32(5)}` };
  expect(() => loadKeyRing(loadConfig(clash).encryption)).toThrow(/key id "k0" is given twice/);
});

test('rotate adds a key and makes it current (or only stages it), use switches, old keys stay', () => {
  const file = join(dir(), 'keys', 'ring.json');
  expect(rotateKeyFile(file, { id: 'k1' })).toEqual({ id: 'k1', current: 'k1', createdFile: true });
  expect(rotateKeyFile(file, { id: 'k2', stage: true })).toEqual({ id: 'k2', current: 'k1', createdFile: false });
  useKey(file, 'k2');
  const generated = rotateKeyFile(file);
  expect(generated.id).toMatch(/^k\d{8}-[0-9a-f]{6}$/);
  const stored = JSON.parse(readFileSync(file, 'utf8'));
  expect(stored.current).toBe(generated.id);
  expect(stored.keys.map((k: { id: string }) => k.id)).toEqual(['k1', 'k2', generated.id]);
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(() => rotateKeyFile(file, { id: 'k1' })).toThrow(/already has a key "k1"/);
  expect(() => useKey(file, 'k7')).toThrow(/has no key "k7"/);
});

test('a damaged key file is refused with its path and the problem', () => {
  const file = join(dir(), 'ring.json');
  writeFileSync(file, JSON.stringify({ current: 'k1', keys: [{ id: 'k1', key: key32(1).slice(0, 20) }] }));
  const config = loadConfig({ MANDATE_ENCRYPTION_KEYS_FILE: file }).encryption;
  expect(() => loadKeyRing(config)).toThrow(`key ring file ${file}: keys.0.key: a 32-byte key in base64`);
  writeFileSync(file, '{');
  expect(() => loadKeyRing(config)).toThrow(/is not readable JSON/);
});
