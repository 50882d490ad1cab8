import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { sha256Hex } from '../core/hash';
import { sameIdentity } from '../core/votes';
import type { Authenticator, Principal } from './auth';
import { updateLockedFile } from './locked-file';

/**
 * The local token file: the embedded default sign-in. Only SHA-256 hashes of the tokens are stored,
 * so the file grants nothing to whoever reads it.
 *
 *     { "tokens": [ { "sha256": "<hex sha256 of the token>", "subject": "sam@example.com", "roles": ["supervisor"] } ] }
 *
 * `mandate token create --subject … --roles …` adds an entry and prints the token once; `mandate
 * token revoke` removes entries, and sessions made with them end at their next request. A token's
 * id is the first 12 hex digits of its hash (it reveals nothing of the token).
 */
const TokenEntry = z
  .object({
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'lower-case hex sha256 of the token'),
    subject: z.string().min(1),
    roles: z.array(z.string().min(1)),
  })
  .strict();
const TokenFile = z.object({ tokens: z.array(TokenEntry) }).strict();
export type TokenFile = z.infer<typeof TokenFile>;
export type TokenEntry = z.infer<typeof TokenEntry>;

export const tokenId = (entry: Pick<TokenEntry, 'sha256'>): string => entry.sha256.slice(0, 12);

function parseTokenFile(path: string, text: string | undefined): TokenFile {
  if (text === undefined) return { tokens: [] };
  const parsed = TokenFile.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`token file ${path}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export function readTokenFile(path: string): TokenFile {
  return parseTokenFile(path, existsSync(path) ? readFileSync(path, 'utf8') : undefined);
}

/** Authenticates local tokens; the file is re-read when it changes, so new and revoked tokens apply at once. */
export function localTokens(path: string): Authenticator {
  let loaded = '';
  let bySha = new Map<string, Principal>();
  const reload = () => {
    // Writes replace the file (rename): a new inode or mtime or size means a new version.
    const stamp = existsSync(path) ? (({ ino, mtimeMs, size }) => `${ino}:${mtimeMs}:${size}`)(statSync(path)) : '-';
    if (stamp === loaded) return;
    bySha = new Map(
      readTokenFile(path).tokens.map((t) => [t.sha256, { subject: t.subject, roles: t.roles, via: 'token' }]),
    );
    loaded = stamp;
  };
  const lookup = (sha256: string): Principal | undefined => {
    reload();
    const principal = bySha.get(sha256);
    return principal ? { ...principal, roles: [...principal.roles] } : undefined;
  };
  reload();
  return {
    async authenticate(credential) {
      if (!credential.startsWith('mdt_')) return undefined;
      const sha256 = sha256Hex(credential);
      const principal = lookup(sha256);
      return principal ? { principal, credential: { kind: 'token', sha256 } } : undefined;
    },
    async recheck(ref) {
      return ref.kind === 'token' ? lookup(ref.sha256) : null;
    },
  };
}

/** Adds a fresh token for subject/roles to the file (created 0600 if missing); returns the token, shown once. */
export function createLocalToken(path: string, subject: string, roles: string[]): string {
  const token = `mdt_${randomBytes(32).toString('base64url')}`;
  updateLockedFile(path, (text) => {
    const file = parseTokenFile(path, text);
    file.tokens.push({ sha256: sha256Hex(token), subject, roles });
    return `${JSON.stringify(file, null, 2)}\n`;
  });
  return token;
}

/** Removes the tokens of a subject (any spelling) or the one with this id; returns what was removed. */
export function revokeLocalTokens(path: string, which: { subject?: string; tokenId?: string }): TokenEntry[] {
  const removed: TokenEntry[] = [];
  updateLockedFile(path, (text) => {
    const file = parseTokenFile(path, text);
    const matches = (t: TokenEntry) =>
      (which.subject !== undefined && sameIdentity(t.subject, which.subject)) ||
      (which.tokenId !== undefined && tokenId(t) === which.tokenId.toLowerCase());
    removed.push(...file.tokens.filter(matches));
    return `${JSON.stringify({ tokens: file.tokens.filter((t) => !matches(t)) }, null, 2)}\n`;
  });
  return removed;
}
