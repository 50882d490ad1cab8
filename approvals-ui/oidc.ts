import { createPublicKey, verify } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import type { Authenticator } from './auth';

/**
 * OIDC bearer tokens: a JWT verified against the issuer's JWKS (RS256, ES256 or EdDSA) with
 * `iss`, `aud`, `exp` and `nbf` checked. The subject is `sub`; roles come from a `roles` claim
 * (or `groups`). Keys are cached and refetched when a token names an unknown key id.
 */
export interface OidcOptions {
  issuer: string;
  audience: string;
  jwksUrl: string;
  /** Allowed clock skew for exp/nbf, seconds. */
  clockSkewSeconds?: number;
  now?: () => number;
}

const KEY_TYPES: Record<string, string> = { RS256: 'RSA', ES256: 'EC', EdDSA: 'OKP' };
const MIN_REFETCH_MS = 10_000;

export class JwtInvalid extends Error {
  override name = 'JwtInvalid';
}

export function oidc(options: OidcOptions): Authenticator & { verify(jwt: string): Promise<Record<string, unknown>> } {
  const now = options.now ?? Date.now;
  const skew = (options.clockSkewSeconds ?? 60) * 1000;
  let keys = new Map<string, { key: KeyObject; kty: string }>();
  let fetchedAt = 0;

  async function fetchKeys(): Promise<void> {
    const response = await fetch(options.jwksUrl, { signal: AbortSignal.timeout(5000) });
    if (!response.ok) throw new JwtInvalid(`JWKS ${options.jwksUrl} answered ${response.status}`);
    const body = (await response.json()) as { keys?: (JsonWebKey & { kid?: string })[] };
    const next = new Map<string, { key: KeyObject; kty: string }>();
    for (const jwk of body.keys ?? []) {
      if (!jwk.kid || !jwk.kty) continue;
      try {
        next.set(jwk.kid, { key: createPublicKey({ key: jwk, format: 'jwk' }), kty: jwk.kty });
      } catch {
        // A key we cannot import is skipped: tokens naming it fail as "unknown key".
      }
    }
    keys = next;
    fetchedAt = now();
  }

  async function keyFor(kid: string) {
    if (!keys.has(kid) && now() - fetchedAt > MIN_REFETCH_MS) await fetchKeys();
    return keys.get(kid);
  }

  async function verifyJwt(jwt: string): Promise<Record<string, unknown>> {
    const parts = jwt.split('.');
    if (parts.length !== 3) throw new JwtInvalid('not a JWT');
    const [h, p, s] = parts;
    const header = decode(h) as { alg?: string; kid?: string };
    const alg = header.alg ?? '';
    if (!KEY_TYPES[alg]) throw new JwtInvalid(`algorithm ${alg || '(none)'} is not accepted`);
    if (!header.kid) throw new JwtInvalid('token names no key id');
    const entry = await keyFor(header.kid);
    if (!entry) throw new JwtInvalid(`unknown key ${header.kid}`);
    if (entry.kty !== KEY_TYPES[alg]) throw new JwtInvalid(`key ${header.kid} is not a ${alg} key`);
    const data = Buffer.from(`${h}.${p}`);
    const signature = Buffer.from(s, 'base64url');
    const ok =
      alg === 'EdDSA'
        ? verify(null, data, entry.key, signature)
        : verify(
            'sha256',
            data,
            alg === 'ES256' ? { key: entry.key, dsaEncoding: 'ieee-p1363' } : entry.key,
            signature,
          );
    if (!ok) throw new JwtInvalid('bad signature');
    const claims = decode(p) as Record<string, unknown>;
    if (claims.iss !== options.issuer) throw new JwtInvalid('wrong issuer');
    const aud = claims.aud;
    if (!(aud === options.audience || (Array.isArray(aud) && aud.includes(options.audience))))
      throw new JwtInvalid('wrong audience');
    const t = now();
    if (typeof claims.exp !== 'number' || claims.exp * 1000 + skew < t) throw new JwtInvalid('expired');
    if (typeof claims.nbf === 'number' && claims.nbf * 1000 - skew > t) throw new JwtInvalid('not yet valid');
    if (typeof claims.sub !== 'string' || claims.sub === '') throw new JwtInvalid('no subject');
    return claims;
  }

  return {
    verify: verifyJwt,
    async authenticate(credential) {
      if (credential.split('.').length !== 3) return undefined;
      const claims = await verifyJwt(credential).catch(() => undefined);
      if (!claims) return undefined;
      const roles = Array.isArray(claims.roles) ? claims.roles : Array.isArray(claims.groups) ? claims.groups : [];
      return {
        subject: claims.sub as string,
        roles: roles.filter((r): r is string => typeof r === 'string'),
        via: 'oidc',
      };
    },
  };
}

function decode(part: string): unknown {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
    return value;
  } catch {
    throw new JwtInvalid('malformed JWT segment');
  }
}
