/**
 * Who is calling. Identity comes only from a credential the service verifies (a local token or an
 * OIDC JWT), never from a field the client fills in.
 */
export interface Principal {
  subject: string;
  roles: string[];
  via: 'token' | 'oidc';
}

/** One way of turning a presented credential into a principal; `undefined` when it is not valid. */
export interface Authenticator {
  authenticate(credential: string): Promise<Principal | undefined>;
}

/** Tries each authenticator in turn; the first that accepts the credential wins. */
export function anyOf(authenticators: Authenticator[]): Authenticator {
  return {
    async authenticate(credential) {
      for (const a of authenticators) {
        const principal = await a.authenticate(credential).catch(() => undefined);
        if (principal) return principal;
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
