import { resolve } from 'node:path';
import { z } from 'zod';
import { KEY_ID_PATTERN } from '../core/payload-encryption';
import type { Env } from './schema';
import { ConfigError, optionalText, parseSection, port } from './schema';
import { Secret } from './secret';

/**
 * Settings of payload encryption (every client, worker, replayer and audit tool) and of the codec
 * server. Encryption is on unless `MANDATE_ENCRYPTION=off`; keys come from a key ring file and/or
 * `MANDATE_ENCRYPTION_KEYS`, never from history (see key-ring.ts for loading them).
 */
const EncryptionEnv = z.object({
  MANDATE_ENCRYPTION: z.enum(['on', 'off']).default('on'),
  /** Key ring file (JSON: current key id and every key that still decrypts); default <data dir>/keys/payload-keys.json. */
  MANDATE_ENCRYPTION_KEYS_FILE: optionalText,
  /** Keys inline, `id:base64,id:base64` (a secret store's injection); merged with the file's. */
  MANDATE_ENCRYPTION_KEYS: optionalText,
  /** The key new payloads are encrypted under (default: the file's `current`, else the first inline key). */
  MANDATE_ENCRYPTION_KEY_ID: optionalText.pipe(z.string().regex(KEY_ID_PATTERN, 'a key id').optional()),
  MANDATE_CODEC_PORT: port(8781),
  /** Origins (the Temporal Web UI's) allowed to call the codec server from a browser, comma-separated. */
  MANDATE_CODEC_ORIGINS: optionalText,
  /** Roles whose tokens the codec server accepts, comma-separated (default `decrypt`). */
  MANDATE_CODEC_ROLES: optionalText,
});

export interface InlineKey {
  id: string;
  key: Secret;
}

export interface EncryptionConfig {
  enabled: boolean;
  keysFile: string;
  /** Whether the key file was named explicitly: a named file that is missing is an error, never generated. */
  keysFileConfigured: boolean;
  inlineKeys: InlineKey[];
  currentKeyId?: string;
}

export interface CodecServerConfig {
  port: number;
  /** Browser origins allowed by CORS (exact match). */
  origins: string[];
  /** A token must carry one of these roles. */
  roles: string[];
}

export function parseEncryptionConfig(
  env: Env,
  base: { dataDir: string; uiPort: number },
): { encryption: EncryptionConfig; codecServer: CodecServerConfig } {
  const c = parseSection(EncryptionEnv, env);
  const list = (value: string | undefined) =>
    (value ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const origins = c.MANDATE_CODEC_ORIGINS
    ? list(c.MANDATE_CODEC_ORIGINS).map(
        (o) => parseSection(OriginSetting, { MANDATE_CODEC_ORIGINS: o }).MANDATE_CODEC_ORIGINS,
      )
    : [`http://127.0.0.1:${base.uiPort}`, `http://localhost:${base.uiPort}`];
  return {
    encryption: {
      enabled: c.MANDATE_ENCRYPTION === 'on',
      keysFile: resolve(c.MANDATE_ENCRYPTION_KEYS_FILE ?? `${base.dataDir}/keys/payload-keys.json`),
      keysFileConfigured: Boolean(c.MANDATE_ENCRYPTION_KEYS_FILE),
      inlineKeys: parseInlineKeys(c.MANDATE_ENCRYPTION_KEYS),
      currentKeyId: c.MANDATE_ENCRYPTION_KEY_ID,
    },
    codecServer: {
      port: c.MANDATE_CODEC_PORT,
      origins,
      roles: c.MANDATE_CODEC_ROLES ? list(c.MANDATE_CODEC_ROLES) : ['decrypt'],
    },
  };
}

// An origin is scheme://host[:port], nothing more: CORS compares it byte for byte.
const OriginSetting = z.object({
  MANDATE_CODEC_ORIGINS: z
    .string()
    .regex(/^https?:\/\/[^/\s:]+(:\d+)?$/, 'origins like http://127.0.0.1:8233 (scheme, host, port; no path)'),
});

const InlineKeys = z.object({
  MANDATE_ENCRYPTION_KEYS: z.array(
    z.object({
      id: z.string().regex(KEY_ID_PATTERN, 'each entry is id:base64 with a key id of letters, digits, . _ -'),
      key: z.string().refine((k) => Buffer.from(k, 'base64').length === 32 && /^[A-Za-z0-9+/]+={0,2}$/.test(k), {
        message: 'each key is 32 bytes in base64 (openssl rand -base64 32)',
      }),
    }),
  ),
});

function parseInlineKeys(value: string | undefined): InlineKey[] {
  if (!value) return [];
  const entries = value.split(',').map((entry) => {
    const colon = entry.indexOf(':');
    return { id: entry.slice(0, colon).trim(), key: entry.slice(colon + 1).trim() };
  });
  const parsed = InlineKeys.safeParse({ MANDATE_ENCRYPTION_KEYS: entries });
  if (!parsed.success) {
    // Only the path and the rule reach the message: key material is never echoed.
    const issue = parsed.error.issues[0];
    throw new ConfigError(`configuration error: ${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data.MANDATE_ENCRYPTION_KEYS.map((k) => ({ id: k.id, key: new Secret(k.key) }));
}
