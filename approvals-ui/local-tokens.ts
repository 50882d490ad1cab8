import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { sha256Hex } from '../core/hash';
import type { Authenticator, Principal } from './auth';

/**
 * The local token file: the embedded default sign-in. Only SHA-256 hashes of the tokens are stored,
 * so the file grants nothing to whoever reads it.
 *
 *     { "tokens": [ { "sha256": "<hex sha256 of the token>", "subject": "sam@example.com", "roles": ["supervisor"] } ] }
 *
 * `mandate token create --subject … --roles …` adds an entry and prints the token once.
 */
const TokenFile = z
  .object({
    tokens: z.array(
      z
        .object({
          sha256: z.string().regex(/^[0-9a-f]{64}$/, 'lower-case hex sha256 of the token'),
          subject: z.string().min(1),
          roles: z.array(z.string().min(1)),
        })
        .strict(),
    ),
  })
  .strict();
export type TokenFile = z.infer<typeof TokenFile>;

export function readTokenFile(path: string): TokenFile {
  if (!existsSync(path)) return { tokens: [] };
  const parsed = TokenFile.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) throw new Error(`token file ${path}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** Authenticates local tokens; the file is re-read when it changes, so new tokens work without a restart. */
export function localTokens(path: string): Authenticator {
  let loadedAt = -1;
  let bySha = new Map<string, Principal>();
  const reload = () => {
    const mtime = existsSync(path) ? statSync(path).mtimeMs : 0;
    if (mtime === loadedAt) return;
    bySha = new Map(
      readTokenFile(path).tokens.map((t) => [t.sha256, { subject: t.subject, roles: t.roles, via: 'token' }]),
    );
    loadedAt = mtime;
  };
  reload();
  return {
    async authenticate(credential) {
      if (!credential.startsWith('mdt_')) return undefined;
      reload();
      const principal = bySha.get(sha256Hex(credential));
      return principal ? { ...principal, roles: [...principal.roles] } : undefined;
    },
  };
}

/** Adds a fresh token for subject/roles to the file (created 0600 if missing); returns the token, shown once. */
export function createLocalToken(path: string, subject: string, roles: string[]): string {
  const file = readTokenFile(path);
  const token = `mdt_${randomBytes(32).toString('base64url')}`;
  file.tokens.push({ sha256: sha256Hex(token), subject, roles });
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return token;
}
