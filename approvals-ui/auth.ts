/**
 * Who is calling. Identity comes only from a credential the service verifies (a local token or an
 * OIDC JWT), never from a field the client fills in.
 */
export interface Principal {
  subject: string;
  roles: string[];
  via: 'token' | 'oidc';
}

/**
 * What a session remembers of the credential it was made with (never the credential itself), so
 * that it can check it again on every request: a local token by its hash (revoked once it leaves
 * the token file), an OIDC token by its expiry (the session never outlives it).
 */
export type CredentialRef = { kind: 'token'; sha256: string } | { kind: 'oidc' };

/** A verified credential: who it stands for, how to check it again, and when it expires (ms). */
export interface Authenticated {
  principal: Principal;
  credential: CredentialRef;
  expiresAt?: number;
}

/** One way of turning a presented credential into a principal; `undefined` when it is not valid. */
export interface Authenticator {
  authenticate(credential: string): Promise<Authenticated | undefined>;
  /**
   * The principal a session's credential stands for now (roles may have changed), `undefined` once
   * it is revoked, and `null` when the credential is not this authenticator's kind.
   */
  recheck(ref: CredentialRef, principal: Principal): Promise<Principal | undefined | null>;
}

/** Tries each authenticator in turn; the first that accepts the credential wins. */
export function anyOf(authenticators: Authenticator[]): Authenticator {
  return {
    async authenticate(credential) {
      for (const a of authenticators) {
        const found = await a.authenticate(credential).catch(() => undefined);
        if (found) return found;
      }
      return undefined;
    },
    async recheck(ref, principal) {
      for (const a of authenticators) {
        const now = await a.recheck(ref, principal).catch(() => undefined);
        if (now !== null) return now;
      }
      return undefined;
    },
  };
}

/** The bearer credential of an `Authorization: Bearer …` header. */
export function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match?.[1];
}

/** The role that may read every mission (params, rail, input) and decide none. */
export const AUDITOR_ROLE = 'auditor';
